"""Scoring one network at the edges: each case either gets one line and exit 2, or the
value the reference computation gives, written out here independently of nnmass."""
import copy
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hostile_helpers import refused
from nnmass import proxies
from nnmass.cli import main
from nnmass.models.nb201 import build_nb201
from nnmass.proxies.fused import score_fused
from nnmass.threads import torch_threads

ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
CONV_LINEAR = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)

MODELS = '''
import torch
from torch import nn

INPUT_SHAPE = (1, 3, 8, 8)


class Aux(nn.Module):
    """A main head and an auxiliary one, returned after it in train mode (as googlenet)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten())
        self.main = nn.Linear(4 * 36, 5)
        self.aux = nn.Linear(4 * 36, 5)

    def forward(self, x):
        h = self.body(x)
        return (self.main(h), self.aux(h)) if self.training else self.main(h)


class Scalar(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(192, 3)

    def forward(self, x):
        return self.fc(x.flatten(1)).sum()


class ThreadsWide(nn.Module):
    """As many logits as torch has threads, plus one: the threads it ran with show."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(192, 8)

    def forward(self, x):
        return self.fc(x.flatten(1))[:, :torch.get_num_threads() + 1]


def aux():
    return Aux()


def no_params():
    return nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.ReLU())


def scalar():
    return Scalar()


def bn_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.BatchNorm1d(16, track_running_stats=False),
                         nn.ReLU(), nn.Linear(16, 4))


def one_logit():
    return nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.ReLU(), nn.Linear(16, 1))


def threads_wide():
    return ThreadsWide()
'''


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "models.py"
    path.write_text(MODELS)
    namespace = {}
    exec(compile(MODELS, str(path), "exec"), namespace)
    return path, namespace


def scores_of(capsys, *argv) -> dict:
    assert main(["proxies", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def seeded(factory, seed=0):
    """The module ``nnmass proxies`` builds from a file factory with ``--seed seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return factory()


# --- nwot reads ReLU modules by type --------------------------------------------------

def naslib_nwot(model, x, is_relu) -> float:
    """NASWOT as NASLib computes it, written out: train mode, a pre-hook on each module
    ``is_relu`` accepts adds ``c c^T + (1-c)(1-c)^T`` of its input's binary codes, and the
    score is numpy's ``slogdet`` of the sum."""
    ref = copy.deepcopy(model).train()
    n = len(x)
    kernel = np.zeros((n, n))

    def count(module, inputs):
        codes = (inputs[0].detach().reshape(n, -1) > 0).double().numpy()
        kernel[:] += codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T

    for m in ref.modules():
        if is_relu(m):
            m.register_forward_pre_hook(count)
    with torch.no_grad():
        ref(x)
    return float(np.linalg.slogdet(kernel)[1])


def test_nwot_of_nb201_reads_each_nn_relu_once_as_naslib():
    torch.manual_seed(0)
    model = build_nb201(ARCH, num_classes=5, C=4, N=1)
    batch = proxies.gaussian_batch((3, 8, 8), batch_size=6, num_classes=5, seed=1)
    expected = naslib_nwot(model, batch.inputs, lambda m: type(m) is nn.ReLU)
    by_name = naslib_nwot(model, batch.inputs, lambda m: "ReLU" in type(m).__name__)
    assert any(type(m).__name__ == "ReLUConvBN" for m in model.modules())
    assert abs(by_name - expected) > 1e-3  # reading the ReLUConvBN wrappers too changes the value
    assert proxies.nwot(model, batch) == pytest.approx(expected, rel=1e-12)
    assert score_fused(model, batch, "nwot").scores["nwot"] == proxies.nwot(model, batch)


class ConvReLU2d(nn.Module):
    """A block with "ReLU" in its class name that is no ReLU (it ends in tanh)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        return torch.tanh(self.conv(x))


def test_a_block_named_like_a_relu_is_not_read_as_relu_codes():
    torch.manual_seed(0)
    model = nn.Sequential(ConvReLU2d(), nn.Conv2d(4, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 36, 3))
    batch = proxies.gaussian_batch((3, 8, 8), batch_size=5, num_classes=3, seed=2)
    expected = naslib_nwot(model, batch.inputs, lambda m: isinstance(m, nn.ReLU))
    assert proxies.nwot(model, batch) == pytest.approx(expected, rel=1e-12)
    assert score_fused(model, batch, "nwot").scores["nwot"] == proxies.nwot(model, batch)
    only_block = nn.Sequential(ConvReLU2d(), nn.Flatten(), nn.Linear(4 * 64, 3))
    assert math.isnan(proxies.nwot(only_block, batch))  # no ReLU at all: no codes, K = 0


# --- synflow on every kind of BatchNorm -------------------------------------------------

def reference_synflow(model, sample_shape) -> float:
    """synflow of the references' ``bn=False`` copy, written out: BatchNorm layers
    replaced by identities, every parameter and buffer made |.| and float64, eval mode,
    one all-ones sample, R = sum of the logits, sum |W * dR/dW| over conv/linear weights."""
    ref = copy.deepcopy(model)
    for name, m in list(ref.named_modules()):
        for child_name, child in list(m.named_children()):
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(m, child_name, nn.Identity())
    ref = ref.double().eval()
    with torch.no_grad():
        for t in list(ref.parameters()) + [b for b in ref.buffers() if b.is_floating_point()]:
            t.abs_()
    ref(torch.ones((1, *sample_shape), dtype=torch.float64)).sum().backward()
    return float(sum((m.weight.detach() * m.weight.grad).abs().sum() for m in ref.modules()
                     if isinstance(m, CONV_LINEAR) and m.weight.grad is not None))


def bn_network(dims: int, affine: bool, track: bool):
    """conv (or linear) -> BatchNorm{dims}d -> ReLU -> linear, and one sample's shape."""
    torch.manual_seed(dims)
    if dims == 1:
        layer, shape = nn.Linear(6, 5), (6,)
    else:
        layer, shape = (nn.Conv2d(2, 5, 3), (2, 5, 5)) if dims == 2 else (nn.Conv3d(2, 5, 3), (2, 4, 4, 4))
    norm = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[dims](5, affine=affine,
                                                                            track_running_stats=track)
    if affine:
        with torch.no_grad():  # not the init's ones and zeros: |gamma| and |beta| would matter if BN ran
            norm.weight.uniform_(-2, 2)
            norm.bias.uniform_(-2, 2)
    width = 5 * int(np.prod([s - 2 for s in shape[1:]])) if dims > 1 else 5
    return nn.Sequential(layer, norm, nn.ReLU(), nn.Flatten(), nn.Linear(width, 3)), shape


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("size", [1, 3])
def test_synflow_bypasses_every_batchnorm_at_any_batch(dims, affine, track, train, size):
    model, shape = bn_network(dims, affine, track)
    model.train(train)
    batch = proxies.gaussian_batch(shape, batch_size=size, num_classes=3, seed=0)
    expected = reference_synflow(model, shape)
    assert proxies.synflow(model, batch) == pytest.approx(expected, rel=1e-12)
    assert score_fused(model, batch, "params,synflow").scores["synflow"] == proxies.synflow(model, batch)
    assert model.training == train and all(m.training == train for m in model.modules())
    assert "forward" not in model[1].__dict__  # the bypass is given back


# --- the logits of a model with an auxiliary head ---------------------------------------

def test_proxies_scores_the_main_head_of_a_model_with_an_aux_head(capsys, models):
    path, namespace = models
    out = scores_of(capsys, f"{path}:aux", "--proxies", "grad_norm", "--batch", "4")
    model = seeded(namespace["aux"]).train()
    batch = proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=5, seed=0)

    def grad_norm(head) -> float:
        model.zero_grad()
        F.cross_entropy(head(model.body(batch.inputs)), batch.targets).backward()
        return float(sum(m.weight.grad.norm() for m in model.modules()
                         if isinstance(m, CONV_LINEAR) and m.weight.grad is not None))

    main_head, aux_head = grad_norm(model.main), grad_norm(model.aux)
    assert abs(main_head - aux_head) > 1e-3 * main_head
    assert out["scores"]["grad_norm"] == pytest.approx(main_head, rel=1e-5)


# --- batches a proxy cannot use ---------------------------------------------------------

def test_the_registry_says_which_proxies_need_two_samples():
    from nnmass.proxies.proxy_names import MIN_BATCH
    assert {n for n, p in proxies.PROXIES.items() if p.min_batch == 2} == {"jacob_cov", "nwot", "zico"}
    assert all(p.min_batch in (1, 2) for p in proxies.PROXIES.values())
    assert {n: p.min_batch for n, p in proxies.PROXIES.items() if p.min_batch > 1} == MIN_BATCH  # torch-free copy


@pytest.mark.parametrize("name", ["jacob_cov", "nwot"])
def test_a_batch_of_one_is_refused_by_proxies_and_undefined_in_python(capsys, name):
    refused(capsys, ["proxies", f"nb201:{ARCH}", "--batch", "1", "--proxies", f"snip,{name}"],
            f"--batch 1 is too small for {name}: they compare samples and need at least 2")
    torch.manual_seed(0)
    model = build_nb201(ARCH, num_classes=5, C=4, N=1)
    one = proxies.gaussian_batch((3, 8, 8), batch_size=1, num_classes=5, seed=0)
    # What the definitions give for N = 1, whatever the network: corrcoef of one row is
    # 1, so jacob_cov = -(log(1 + 1e-5) + 1/(1 + 1e-5)); nwot's K is the number of units.
    assert math.isnan(proxies.get(name).function(model, one))
    assert math.isnan(score_fused(model, one, [name, "snip"]).scores[name])


def test_proxies_that_work_on_one_sample_still_do(capsys):
    out = scores_of(capsys, f"nb201:{ARCH}", "--batch", "1", "--proxies", "snip,fisher", "--input-shape",
                    "1,3,8,8", "--set", "num_classes=5")
    assert all(isinstance(v, float) and v > 0 for v in out["scores"].values())


def test_a_batch_over_2_26_numbers_is_refused_before_it_is_drawn(capsys):
    refused(capsys, ["proxies", f"nb201:{ARCH}", "--batch", "65536", "--proxies", "params"],
            f"--batch 65536x3x32x32 is {65536 * 3 * 32 * 32:,} numbers, over the {2 ** 26:,}")


# --- networks on which some scores have no meaning --------------------------------------

LOSS_BASED = ("snip", "grad_norm", "grasp", "fisher", "zico")


def test_one_logit_makes_the_loss_based_proxies_undefined(capsys, models):
    path, namespace = models
    out = scores_of(capsys, f"{path}:one_logit", "--batch", "4")
    model = seeded(namespace["one_logit"])
    x = proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=1, seed=0).inputs
    # why: the cross-entropy of one logit is log(1) = 0 whatever the weights
    with torch.no_grad():
        assert float(F.cross_entropy(model(x), torch.zeros(4, dtype=torch.long))) == 0.0
    assert out["num_classes"] == 1
    assert {n for n, v in out["scores"].items() if v is None} == set(LOSS_BASED) == set(out["undefined"])
    assert out["scores"]["params"] == sum(p.numel() for p in model.parameters())
    own = proxies.score_all(model, proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=1, seed=0))
    assert {n for n, v in own.items() if math.isnan(v)} == set(LOSS_BASED)  # each function agrees with fused


def test_a_model_without_parameters_has_params_0_and_the_rest_undefined(capsys, models):
    path, namespace = models
    out = scores_of(capsys, f"{path}:no_params", "--batch", "4")
    assert out["scores"]["params"] == 0 and out["scores"]["macs"] == 0  # no conv, no matrix product
    assert set(out["undefined"]) == set(proxies.names()) - {"params", "macs", "nn_mass"}
    own = proxies.score_all(namespace["no_params"](), proxies.gaussian_batch((3, 8, 8), batch_size=4,
                                                                            num_classes=12, seed=0))
    assert {n for n, v in own.items() if math.isnan(v)} == set(out["undefined"])


def test_a_model_returning_a_scalar_is_one_line(capsys, models):
    path, _ = models
    refused(capsys, ["proxies", f"{path}:scalar"], "the model must return logits [N, classes], got a tensor of shape ()")


def test_batchnorm_without_running_statistics_is_scored(capsys, models):
    path, namespace = models
    out = scores_of(capsys, f"{path}:bn_mlp", "--batch", "4")
    model = seeded(namespace["bn_mlp"])
    assert out["undefined"] == []
    assert out["scores"]["synflow"] == pytest.approx(reference_synflow(model, (3, 8, 8)), rel=1e-12)
    assert out["scores"]["macs"] == 192 * 16 + 16 * 4  # one sample through two linear layers
    batch = proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=4, seed=0)
    own = proxies.score_all(model, batch)
    assert out["scores"] == pytest.approx(own, rel=1e-12)


# --- threads ----------------------------------------------------------------------------

@pytest.mark.parametrize("threads", [1, 2])
def test_proxies_runs_the_threads_asked_for_and_gives_the_count_back(capsys, models, threads):
    path, _ = models
    before = torch.get_num_threads()
    argv = [f"{path}:threads_wide", "--proxies", "params", "--batch", "2"]
    out = scores_of(capsys, *argv, *(["--threads", str(threads)] if threads != 1 else []))
    assert out["num_classes"] == threads + 1  # the model saw `threads` threads (default 1)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("command", ["proxies", "rank"])
def test_threads_out_of_range_is_one_line(capsys, command):
    args = ["dense-mlp"] if command == "proxies" else ["t.csv", "--arch-column", "a", "--target", "b"]
    refused(capsys, [command, *args, "--threads", "0"], "--threads")


def test_torch_threads_sets_and_restores_on_cpu_and_leaves_cuda_alone():
    before = torch.get_num_threads()
    with torch_threads(1, "cpu"):
        assert torch.get_num_threads() == 1
        with torch_threads(2, "cuda:0"):
            assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
