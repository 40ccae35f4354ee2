"""Each proxy's value equals its formula recomputed here independently: closed forms,
explicit autograd calls, ``torch.autograd.functional`` and numpy linear algebra."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import nnmass
from nnmass import proxies
from nnmass.proxies import ProxyBatch, gaussian_batch


def tiny_cnn(seed=0, dtype=torch.float64):
    """Conv-BN-ReLU, a strided conv with bias, global pooling, a linear head."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5)).to(dtype)


def weights_of(model):
    return [m.weight for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def cnn_batch(n=6, seed=1):
    return gaussian_batch((3, 8, 8), batch_size=n, num_classes=5, seed=seed)


def train_copy(model):
    """The test's own working copy, in train mode like the proxies."""
    return copy.deepcopy(model).train()


@pytest.mark.parametrize("depth", [2, 3])
def test_synflow_of_a_linear_chain_is_depth_times_the_flow(depth):
    # With |W| and an all-ones input the ReLUs pass everything: R = 1^T |W_L|...|W_1| 1,
    # and for every layer sum |W_l * dR/dW_l| = R, so synflow = depth * R.
    torch.manual_seed(0)
    widths = [5, 4, 3, 2][:depth + 1]
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers += [nn.Linear(a, b, bias=False)] + ([nn.ReLU()] if i < depth - 1 else [])
    model = nn.Sequential(*layers)
    flow = np.ones(widths[0])
    for layer in model:
        if isinstance(layer, nn.Linear):
            flow = np.abs(layer.weight.detach().double().numpy()) @ flow
    batch = ProxyBatch(torch.randn(3, widths[0]), torch.zeros(3, dtype=torch.long), 2)
    assert proxies.synflow(model, batch) == pytest.approx(depth * flow.sum(), rel=1e-12)


def test_synflow_bypasses_batchnorm():
    model = tiny_cnn()
    ref = copy.deepcopy(model)
    ref[1] = nn.Identity()
    with torch.no_grad():
        for p in ref.parameters():
            p.abs_()
    flow = ref(torch.ones(1, 3, 8, 8, dtype=torch.float64)).sum()
    grads = torch.autograd.grad(flow, weights_of(ref))
    expected = sum(float((w.detach() * g).abs().sum()) for w, g in zip(weights_of(ref), grads))
    assert proxies.synflow(model, cnn_batch()) == pytest.approx(expected, rel=1e-10)


def test_snip_and_grad_norm_equal_autograd_sums():
    model, batch = tiny_cnn(), cnn_batch()
    ref = train_copy(model)
    loss = F.cross_entropy(ref(batch.inputs.double()), batch.targets)
    grads = torch.autograd.grad(loss, weights_of(ref))
    snip = sum(float((w.detach() * g).abs().sum()) for w, g in zip(weights_of(ref), grads))
    norms = sum(float(torch.linalg.vector_norm(g)) for g in grads)
    assert proxies.snip(model, batch) == pytest.approx(snip, rel=1e-10)
    assert proxies.grad_norm(model, batch) == pytest.approx(norms, rel=1e-10)


def test_grasp_equals_minus_theta_hessian_gradient():
    model, batch = tiny_cnn(), cnn_batch()
    ref = train_copy(model)
    names = [n for n, p in ref.named_parameters() if n.endswith("weight") and p.dim() > 1]
    theta = tuple(dict(ref.named_parameters())[n].detach() for n in names)
    x = batch.inputs.double()

    def loss(*ws):
        return F.cross_entropy(torch.func.functional_call(ref, dict(zip(names, ws)), (x,)), batch.targets)

    leaves = [w.clone().requires_grad_() for w in theta]
    grad = torch.autograd.grad(loss(*leaves), leaves)
    _, hess_grad = torch.autograd.functional.hvp(loss, theta, tuple(grad))
    expected = -sum(float((w * hg).sum()) for w, hg in zip(theta, hess_grad))
    assert expected != 0
    assert proxies.grasp(model, batch) == pytest.approx(expected, rel=1e-8)


def test_fisher_equals_channel_saliencies_by_hand():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5)).double()
    batch = cnn_batch()
    conv, fc = model[0], model[4]
    z = F.conv2d(batch.inputs.double(), conv.weight.detach(), padding=1).requires_grad_()
    out = F.linear(torch.relu(z).mean((2, 3)), fc.weight.detach(), fc.bias.detach())
    gz, gout = torch.autograd.grad(F.cross_entropy(out, batch.targets), [z, out])
    conv_part = 0.5 * ((z.detach() * gz).sum((2, 3)) ** 2).mean(0).sum() * (3 * 3 * 3)
    fc_part = 0.5 * ((out.detach() * gout) ** 2).mean(0).sum() * 4
    assert proxies.fisher(model, batch) == pytest.approx(float(conv_part + fc_part), rel=1e-10)


def test_jacob_cov_equals_numpy_on_the_functional_jacobian():
    model, batch = tiny_cnn(), cnn_batch()
    ref = train_copy(model)
    jac = torch.autograd.functional.jacobian(ref, batch.inputs.double())  # [N, 5, N, 3, 8, 8]
    rows = jac.sum((0, 1)).reshape(batch.size, -1).numpy()  # d(sum of logits)/dx_n
    v = np.linalg.eig(np.corrcoef(rows))[0].real
    expected = -np.sum(np.log(v + 1e-5) + 1.0 / (v + 1e-5))
    assert proxies.jacob_cov(model, batch) == pytest.approx(expected, rel=1e-8)


def test_nwot_is_the_logdet_of_the_relu_code_kernel():
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    batch = gaussian_batch((6,), batch_size=5, num_classes=3, seed=4)
    x = batch.inputs
    pre1 = x @ model[0].weight.T + model[0].bias
    pre2 = torch.relu(pre1) @ model[2].weight.T + model[2].bias
    codes = torch.cat([pre1 > 0, pre2 > 0], 1).double().detach().numpy()
    kernel = codes @ codes.T + (1 - codes) @ (1 - codes).T
    hamming = (codes[:, None, :] != codes[None, :, :]).sum(-1)
    assert np.array_equal(kernel, codes.shape[1] - hamming)
    sign, logdet = np.linalg.slogdet(kernel)
    assert sign > 0
    assert proxies.nwot(model, batch) == pytest.approx(logdet, rel=1e-12)


def zen_by_hand(conv_shape, fc_shape, batch):
    """Zen of conv(3x3, no bias) -> BN -> ReLU -> pool -> linear, from the documented
    draws: conv weight, linear weight, then x1 and x2, on one generator."""
    gen = torch.Generator().manual_seed(batch.seed)
    w = torch.randn(conv_shape, generator=gen, dtype=torch.float64)
    torch.randn(fc_shape, generator=gen, dtype=torch.float64)
    shape = (batch.size, *batch.sample_shape)
    x1 = torch.randn(shape, generator=gen, dtype=torch.float64)
    x2 = torch.randn(shape, generator=gen, dtype=torch.float64)

    def features(x):
        z = F.conv2d(x, w, padding=1)
        mean, var = z.mean((0, 2, 3), keepdim=True), z.var((0, 2, 3), unbiased=False, keepdim=True)
        return torch.relu((z - mean) / torch.sqrt(var + 1e-5)), z.var((0, 2, 3), unbiased=True)

    f1, v1 = features(x1)
    f2, v2 = features(x1 + 0.01 * x2)
    running_var = 0.9 * (0.9 * 1.0 + 0.1 * v1) + 0.1 * v2  # momentum 0.1 from 1, two passes
    expressivity = (f1 - f2).abs().sum((1, 2, 3)).mean()
    return float(torch.log(expressivity) + torch.log(torch.sqrt(running_var.mean())))


class MeanPooled(nn.Module):
    """The zen net with functional global pooling instead of nn.AdaptiveAvgPool2d."""

    def __init__(self):
        super().__init__()
        self.conv, self.bn, self.relu = nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU()
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(self.relu(self.bn(self.conv(x))).mean((2, 3)))


def test_zen_equals_the_formula_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5)).double()
    batch = gaussian_batch((3, 6, 6), batch_size=4, num_classes=5, seed=3)
    expected = zen_by_hand((4, 3, 3, 3), (5, 4), batch)
    assert proxies.zen(model, batch) == pytest.approx(expected, rel=1e-9)
    # Without a pooling module the features are the last 4-D leaf output: the same here.
    assert proxies.zen(MeanPooled().double(), batch) == pytest.approx(expected, rel=1e-9)


def test_zico_equals_numpy_over_the_two_halves():
    model, batch = tiny_cnn(), cnn_batch()
    ref = train_copy(model)
    halves = []
    for rows in (slice(0, 3), slice(3, 6)):
        loss = F.cross_entropy(ref(batch.inputs[rows].double()), batch.targets[rows])
        halves.append([g.reshape(-1).numpy() for g in torch.autograd.grad(loss, weights_of(ref))])
    expected = 0.0
    for g1, g2 in zip(*halves):
        grads = np.stack([g1, g2])
        std, mean_abs = grads.std(0), np.abs(grads).mean(0)
        keep = std != 0
        expected += np.log(np.sum(mean_abs[keep] / std[keep]))
    assert proxies.zico(model, batch) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("rows", [2, 3])
def test_zico_std_is_torchs_bit_for_bit(rows):
    """zico's whole-row Welford equals ``torch.std(0, correction=0)`` on hostile values:
    exponents 2^-60 to 2^10 apart, zeros, equal and opposite pairs, subnormals, inf,
    nan, -0.0 and values near float32's largest."""
    from nnmass.proxies.zico import population_std
    gen = torch.Generator().manual_seed(0)
    n = 200_000
    values = torch.randn(rows, n, generator=gen) * torch.pow(2.0, torch.randint(-60, 10, (rows, n), generator=gen).float())
    values[0, :1000] = 0
    values[1, 1000:2000] = 0
    values[1, 2000:3000] = values[0, 2000:3000]
    values[0, 3000:4000] = -values[1, 3000:4000]
    values[:, 4000:5000] = 1e-41 * torch.randn(rows, 1000, generator=gen)
    values[:, 5000:5010] = float("inf")
    values[0, 5010:5020] = float("nan")
    values[1, 5020:5030] = -0.0
    values[:, 5030:5040] = 3e38
    for table in (values, torch.randn(rows, n, generator=gen)):
        table = table.double()
        ours, torchs = population_std(table), table.std(0, correction=0)
        assert ours.dtype == torchs.dtype and ours.shape == torchs.shape
        assert torch.equal(ours.nan_to_num(-1.0), torchs.nan_to_num(-1.0))


def min_corr_eig(t):
    rows = t[0].reshape(t.shape[1], -1).detach().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(rows), nan=0.0)
    return np.linalg.eigvalsh(corr)[0]


def test_meco_sums_min_correlation_eigenvalues_of_every_module_output():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3, padding=1)).double()
    batch = cnn_batch()
    x = batch.inputs[:1].double()
    a = model[0](x)
    b = torch.relu(a)
    c = model[2](b)
    # Hooks on the Sequential itself and its three children: outputs c, a, b, c.
    expected = sum(min_corr_eig(t) for t in (c, a, b, c))
    assert proxies.meco(model, batch) == pytest.approx(expected, rel=1e-9)
    other = ProxyBatch(torch.cat([batch.inputs[:1], -batch.inputs[1:]]), batch.targets, 5)
    # Only the first sample's maps are read (no BatchNorm here to couple the samples).
    assert proxies.meco(model, other) == proxies.meco(model, batch)


def test_params_and_macs_count_by_hand_and_match_flop_counter():
    model = tiny_cnn(dtype=torch.float32)
    batch = cnn_batch()
    assert proxies.params(model, batch) == 3 * 4 * 9 + 2 * 4 + 4 * 6 * 9 + 6 + 6 * 5 + 5
    by_hand = (4 * 8 * 8) * (3 * 9) + (6 * 4 * 4) * (4 * 9) + 6 * 5
    assert proxies.macs(model, batch) == by_hand
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        copy.deepcopy(model).eval()(batch.inputs[:1])
    assert proxies.macs(model, batch) == counter.get_total_flops() // 2


class DenseCell(nn.Module):
    """A DenseNet-type cell (each layer reads the last two features): NN-Mass 6."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.layers = nn.ModuleList(nn.Conv2d(c, 2, 3, padding=1) for c in (4, 6, 4))
        self.head = nn.Linear(10, 5)

    def forward(self, x):
        feats = [torch.relu(self.stem(x))]
        for layer in self.layers:
            feats.append(torch.relu(layer(torch.cat(feats[-2:], 1))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(torch.cat(feats, 1), 1), 1))


class ProjectedResidual(nn.Module):
    """A product of two feature maps: a merge no cell rule classifies."""

    def __init__(self):
        super().__init__()
        self.conv, self.proj, self.fc = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(3, 4, 1), nn.Linear(4, 5)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(torch.relu(self.conv(x)) * self.proj(x), 1).flatten(1))


def test_nn_mass_is_the_traced_mass_or_nan_with_unclassified_merges():
    batch = cnn_batch()
    model = DenseCell()
    assert proxies.nn_mass(model, batch) == nnmass.measure(model, batch.inputs[:1]).nn_mass == 6.0
    report = nnmass.measure(ProjectedResidual(), batch.inputs[:1], allow_unclassified=True)
    assert report.unclassified
    assert math.isnan(proxies.nn_mass(ProjectedResidual(), batch))
