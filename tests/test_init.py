"""The fan_out init (Prop. 2's width-only variance) and spec copies that keep or resample skips."""
import math

import pytest
import torch
from torch import nn

from nnmass.ldi import measure as ldi
from nnmass.models import build
from nnmass.spec import DenseCNNSpec, DenseMLPSpec
from nnmass.topology import prop2_bounds


def test_fan_out_weights_have_variance_two_over_width_whatever_the_skips():
    spec = DenseMLPSpec(input_dim=50, width=64, depth=5, tc=200, init="fan_out", layout="hidden")
    model = build(spec, seed=0)
    for i, layer in enumerate(model.layers):
        fan_in = layer.weight.shape[1]
        assert fan_in == (50 if i == 0 else 64 + min(64 * (i - 1), 200))
        # 64 * fan_in >= 3200 draws: the sample std is within a few percent of sqrt(2/64).
        assert layer.weight.std().item() == pytest.approx(math.sqrt(2 / 64), rel=0.05)
        assert torch.count_nonzero(layer.bias) == 0
    # The default keeps PyTorch's fan-in scaling: skip columns shrink the weights.
    torch_init = build(spec.replace(init="torch"), seed=0)
    assert torch_init.layers[4].weight.std().item() < 0.5 * math.sqrt(2 / 64)


def test_fan_out_conv_variance_counts_output_channels_and_taps():
    spec = DenseCNNSpec(num_cells=1, depth=(4,), wm=4, tc=(100,), init="fan_out", input_size=8)
    model = build(spec, seed=0)
    convs = [m for m in model.cells.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4
    for conv in convs:  # 64 output channels, 3x3 taps: variance 2 / (64 * 9)
        assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 9)), rel=0.05)


def test_mean_singular_value_grows_with_skips_under_fan_out_linear_network():
    """A deep linear network with fan_out init: W_i ~ N(0, q) with q = 1/w, of size
    (w, w + t_i); Prop. 2 brackets the mean singular value by sqrt(q(w + m/2)) -/+ sqrt(q w)
    with m/2 the mean skip count per layer, and more skips give larger values."""
    means = []
    for tc in (0, 16, 64):
        spec = DenseMLPSpec(input_dim=32, width=32, depth=12, tc=tc, activation="linear", init="fan_out")
        report = ldi(build(spec, seed=0), torch.randn(4, 32, generator=torch.Generator().manual_seed(0)))
        skips = [len(s) for s in spec.skips[1:]]
        lower, upper = prop2_bounds(32, 2 * sum(skips) / len(skips), q=1 / 32)
        assert lower <= report.mean <= upper
        means.append(report.mean)
    assert means[0] < means[1] < means[2]


def test_replace_keeps_skips_unless_their_shape_or_seed_changes():
    spec = DenseMLPSpec(width=8, depth=10, tc=5, seed=3)
    assert spec.replace(init="fan_out").skips == spec.replace(activation="tanh").skips == spec.skips
    assert spec.replace(seed=4).skips != spec.skips
    assert [len(s) for s in spec.replace(tc=2).skips] == [0, 0] + [2] * 8
    cnn = DenseCNNSpec(depth=(5, 5, 5), tc=(8, 8, 8))
    assert cnn.replace(conv="separable").skips == cnn.skips
    assert cnn.replace(tc=(1, 1, 1)).skips != cnn.skips
