"""The proxies' contract: the registry, the batch, a model left untouched by every
proxy, seeding, the nan rule, devices."""
import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnmass import proxies
from nnmass.errors import UsageError
from nnmass.proxies import ProxyBatch, gaussian_batch
from nnmass.proxies.common import finite_or_nan

NAMES = ["params", "macs", "nn_mass", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacob_cov", "nwot",
         "zen", "zico", "meco"]


def relu_conv_bn(c_in, c_out, k, stride=1):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out))


class Cell(nn.Module):
    """A NAS-Bench-201 cell: node j sums one op on every earlier node."""

    EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]

    def __init__(self, c, ops=("conv3", "conv1", "skip", "pool", "conv3", "conv3")):
        super().__init__()
        make = {"conv3": lambda: relu_conv_bn(c, c, 3), "conv1": lambda: relu_conv_bn(c, c, 1),
                "skip": nn.Identity, "pool": lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False)}
        self.ops = nn.ModuleList(make[op]() for op in ops)

    def forward(self, x):
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(op(nodes[i]) for (t, i), op in zip(self.EDGES, self.ops) if t == j))
        return nodes[3]


class BNAct(nn.BatchNorm2d):
    """BatchNorm and ReLU in one module that counts its own batches (timm's BatchNormAct2d
    style): a tracer that runs it on its own buffers in train mode changes the model."""

    def forward(self, x):
        if self.training:
            self.num_batches_tracked.add_(1)
        return F.relu(F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                   self.training, 0.1, self.eps))


class Tiny201(nn.Module):
    """NB201-like: stem, cell, residual reduction, cell, BN-ReLU, pooling, dropout, linear."""

    def __init__(self, c=4, classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        self.cell1, self.cell2 = Cell(c), Cell(2 * c)
        self.reduce = nn.Sequential(relu_conv_bn(c, 2 * c, 3, 2), relu_conv_bn(2 * c, 2 * c, 3))
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c, 2 * c, 1, bias=False))
        self.lastact = BNAct(2 * c)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * c, classes))

    def forward(self, x):
        x = self.cell1(self.stem(x))
        return self.head(self.lastact(self.cell2(self.reduce(x) + self.shortcut(x))))


def tiny201(seed=0):
    torch.manual_seed(seed)
    return Tiny201()


def batch201(seed=1, n=4):
    return gaussian_batch((3, 8, 8), batch_size=n, num_classes=5, seed=seed)


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_names_and_records_are_the_contract():
    assert proxies.names() == NAMES
    assert proxies.DATA_FREE == ("params", "macs", "nn_mass", "synflow", "zen")
    flags = {name: (p.needs_data, p.needs_labels, p.needs_backward) for name, p in proxies.PROXIES.items()}
    assert flags["snip"] == flags["grasp"] == flags["zico"] == (True, True, True)
    assert flags["jacob_cov"] == (True, False, True)
    assert flags["nwot"] == flags["meco"] == (True, False, False)
    assert flags["synflow"] == (False, False, True)
    assert flags["zen"] == flags["params"] == (False, False, False)
    record = proxies.get("meco")
    assert record.function is proxies.meco and "first sample" in record.samples


def test_a_name_registers_once():
    with pytest.raises(ValueError, match="already registered"):
        proxies.register_proxy("snip", needs_data=True, needs_labels=True, needs_backward=True,
                               samples="-")(lambda model, batch: 0.0)
    assert proxies.get("snip").function is proxies.snip and proxies.names() == NAMES


def test_name_lists_parse_and_unknown_names_are_refused_in_one_line():
    assert proxies.parse_names(" Synflow, snip,synflow") == ["synflow", "snip"]
    assert proxies.parse_names("all") == NAMES
    assert proxies.parse_names(["zen", "all"]) == ["zen"] + [n for n in NAMES if n != "zen"]
    for bad in ("synflow,nope", "synflow,,snip", ""):
        with pytest.raises(UsageError) as err:
            proxies.parse_names(bad)
        assert "\n" not in str(err.value) and "params, macs, nn_mass" in str(err.value)
    with pytest.raises(UsageError, match="proxy: unknown proxy .nope.; valid: params, macs"):
        proxies.get("nope")


def state_of(model):
    return {
        "tensors": {k: (v.dtype, v.clone()) for k, v in model.state_dict().items()},
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "training": [m.training for m in model.modules()],
        "hooks": sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
                     for m in model.modules()),
        "rng": torch.get_rng_state(),
    }


def assert_same_state(before, after):
    assert before["tensors"].keys() == after["tensors"].keys()
    for key, (dtype, value) in before["tensors"].items():
        assert after["tensors"][key][0] == dtype and torch.equal(after["tensors"][key][1], value), key
    assert len(before["grads"]) == len(after["grads"])
    for g0, g1 in zip(before["grads"], after["grads"]):
        assert (g0 is None) == (g1 is None) and (g0 is None or torch.equal(g0, g1))
    for key in ("requires_grad", "training", "hooks"):
        assert before[key] == after[key], key
    assert torch.equal(before["rng"], after["rng"])


@pytest.mark.parametrize("name", NAMES)
def test_every_proxy_leaves_the_model_untouched(name):
    model = tiny201()
    model.train()
    model.cell1.eval()  # mixed flags must come back as they were
    model.stem[0].weight.grad = torch.randn_like(model.stem[0].weight)  # a stale gradient stays
    model.head[3].bias.requires_grad_(False)
    before = state_of(model)
    value = proxies.get(name).function(model, batch201())
    assert isinstance(value, float)
    assert_same_state(before, state_of(model))


@pytest.mark.parametrize("name", NAMES)
def test_the_same_seed_gives_the_same_value(name):
    model, batch = tiny201(), batch201()
    assert same(proxies.get(name).function(model, batch), proxies.get(name).function(model, batch))


def test_the_seed_drives_zen_and_the_models_dropout():
    model, batch = tiny201(), batch201()
    other = dataclasses.replace(batch, seed=batch.seed + 1)
    assert proxies.zen(model, batch) != proxies.zen(model, other)
    assert proxies.snip(model, batch) != proxies.snip(model, other)  # another dropout mask
    model.head[2].p = 0.0
    assert proxies.snip(model, batch) == proxies.snip(model, other)


def test_proxies_read_only_what_their_record_says():
    model, batch = tiny201(), batch201()
    other_data = dataclasses.replace(batch, inputs=torch.rand_like(batch.inputs))
    other_labels = dataclasses.replace(batch, targets=(batch.targets + 1) % batch.num_classes)
    for name, record in proxies.PROXIES.items():
        value = record.function(model, batch)
        if not record.needs_data:
            assert same(record.function(model, other_data), value), name
        if not record.needs_labels:
            assert same(record.function(model, other_labels), value), name


class DeadNet(nn.Module):
    """Every weight zero: the output, the ReLU inputs and the gradients of the weights vanish."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                 nn.Flatten(), nn.Linear(4, 5))
        for p in self.parameters():
            nn.init.zeros_(p)

    def forward(self, x):
        return self.net(x)


def test_undefined_values_are_nan_and_listed():
    run = proxies.run_proxies(DeadNet(), batch201(), "all")
    # Zero Jacobians (no correlation), one ReLU code for all samples (singular kernel),
    # no gradient that varies (no ZiCo term): undefined. The rest are plain numbers.
    assert run.undefined == ["jacob_cov", "nwot", "zico"]
    assert all(math.isfinite(v) for n, v in run.scores.items() if n not in run.undefined)
    assert run.scores["synflow"] == run.scores["snip"] == run.scores["meco"] == 0.0
    assert math.isnan(finite_or_nan(float("inf"))) and math.isnan(finite_or_nan(-math.inf))


def test_run_proxies_times_each_and_score_all_gives_the_values():
    model, batch = tiny201(), batch201()
    run = proxies.run_proxies(model, batch, "params,synflow,zen")
    assert list(run.scores) == list(run.seconds) == ["params", "synflow", "zen"]
    assert all(s >= 0 for s in run.seconds.values())
    assert proxies.score_all(model, batch, ["params", "synflow", "zen"]) == run.scores


class WithExtras(nn.Module):
    """Returns the logits with an extra tensor: first in a tuple (googlenet's and
    inception_v3's train-mode outputs put auxiliary heads after the main one), or in a
    dict under ``key``."""

    def __init__(self, inner, key=None):
        super().__init__()
        self.inner, self.key = inner, key

    def forward(self, x):
        logits, extra = self.inner(x), x.flatten(1)
        return (logits, extra) if self.key is None else {"features": extra, self.key: logits}


@pytest.mark.parametrize("key", [None, "logits", "out"])
def test_the_logits_are_a_tuples_first_tensor_or_a_dicts_logits_or_out_entry(key):
    model, batch = tiny201(), batch201()
    for name in ("synflow", "snip", "jacob_cov"):
        assert proxies.get(name).function(WithExtras(model, key), batch) == proxies.get(name).function(model, batch)


def test_batches_are_checked_and_gaussian_batches_are_seeded():
    x = torch.zeros(4, 3)
    for bad in (dict(targets=torch.zeros(4)), dict(targets=torch.zeros(3, dtype=torch.long)),
                dict(targets=torch.tensor([0, 1, 2, 9])), dict(num_classes=0), dict(seed=-1)):
        args = dict(inputs=x, targets=torch.zeros(4, dtype=torch.long), num_classes=5, seed=0) | bad
        with pytest.raises(UsageError):
            ProxyBatch(**args)
    a, b, c = gaussian_batch(seed=7, batch_size=8), gaussian_batch(seed=7, batch_size=8), gaussian_batch(seed=8)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.targets, b.targets) and a.seed == 7
    assert not torch.equal(a.inputs, c.inputs[:8])
    assert a.sample_shape == (3, 32, 32) and a.size == 8 and 0 <= int(a.targets.min()) <= int(a.targets.max()) < 10
    assert proxies.get("zico").min_batch == 2 and math.isnan(proxies.zico(tiny201(), batch201(n=1)))  # no halves


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_scores_equal_cpu_scores():
    model, batch = tiny201().double(), batch201()
    model.head[2].p = 0.0  # CPU and CUDA dropout masks differ
    cpu = proxies.score_all(model, batch)
    cuda = proxies.score_all(model.cuda(), batch)
    for name in NAMES:
        assert same(cpu[name], cuda[name]) or cuda[name] == pytest.approx(cpu[name], rel=1e-6), name
