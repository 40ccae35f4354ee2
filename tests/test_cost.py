"""Closed-form params/MACs against the built modules (sum(p.numel()), FlopCounterMode)."""
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nnmass.cost import Cost, dense_cnn_cost, dense_mlp_cost, mobilenet_v2_cost, spec_cost
from nnmass.families import FAMILIES, spec_for
from nnmass.mass.closed_form import spec_mass
from nnmass.models import build, example_input, input_shape
from nnmass.spec import DenseCNNSpec, DenseMLPSpec, MobileNetV2Spec


def measure(model, x):
    """(params, MACs per sample, conv+linear layers) of a built module on input ``x``."""
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    params = sum(p.numel() for p in model.parameters())
    layers = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    return Cost(params, counter.get_total_flops() // 2 // x.shape[0], layers)


# Small grid on real CPU tensors: odd input sizes exercise the floor/ceil of strided
# convs. The biggest networks run on the meta device (exact shapes and FLOP counts,
# no arithmetic), which the CPU cases show gives the same numbers.
CASES = [
    ("dense-mlp", dict(width=8, depth=16, tc=10), "cpu"),
    ("dense-mlp", dict(input_dim=5, width=3, depth=2, tc=0, num_classes=2), "cpu"),
    ("dense-mlp", dict(input_dim=7, width=1, depth=9, tc=1000, activation="elu"), "cpu"),
    ("dense-mlp", dict(width=8, depth=16, tc=10, layout="hidden"), "cpu"),
    ("dense-mlp", dict(input_dim=5, width=3, depth=1, tc=0, num_classes=2, layout="hidden"), "cpu"),
    ("dense-cnn", dict(wm=0.5, depth=(3, 4, 2), tc=(5, 0, 100), input_size=15, layout="official"), "cpu"),
    ("dense-cnn", dict(wm=0.75, depth=(1, 3, 5), tc=(2, 7, 3), conv="separable", input_size=17,
                       layout="official"), "cpu"),
    ("dense-cnn", dict(wm=0.5, depth=(3, 4, 2), tc=(5, 0, 100), input_size=15), "cpu"),
    ("dense-cnn", dict(wm=0.75, depth=(1, 3, 5), tc=(2, 7, 3), conv="separable", input_size=17), "cpu"),
    ("dense-cnn", dict(num_cells=2, wm=1, depth=(4, 4), tc=(64, 1), conv="separable", in_channels=1,
                       input_size=9, num_classes=3), "cpu"),
    ("mobilenet_v2", dict(width_mult=0.35, input_size=33), "cpu"),
    ("mobilenet_v2", dict(width_mult=0.6, blocks=(2, 1, 1, 2, 1, 2, 2), expansion=1, input_size=41), "cpu"),
    ("mobilenet_v2", dict(width_mult=1.4, input_size=32, num_classes=10), "meta"),
    ("resnet18", dict(input_size=37, num_classes=10), "cpu"),
    ("resnet", dict(block="bottleneck", layers=(1, 1, 2, 1), width_per_group=40, input_size=45,
                    num_classes=10), "cpu"),
    ("resnet50", dict(input_size=33, num_classes=10), "meta"),
    ("wide_resnet50_2", dict(input_size=32, num_classes=10), "meta"),
    ("wrn18", dict(widen=1.5, input_size=32, num_classes=10), "cpu"),  # stages rebuilt at width x k
    ("wrn34", dict(widen=3.0, input_size=40), "meta"),
    ("densenet121", dict(growth_rate=12, block_config=(2, 3, 4, 2), num_init_features=24, bn_size=2,
                         input_size=35, num_classes=10), "cpu"),
    ("densenet121", dict(input_size=35, num_classes=10), "meta"),
    ("vgg11_bn", dict(input_size=32, num_classes=10), "meta"),
    ("vgg13", dict(input_size=47), "meta"),
]


@pytest.mark.parametrize("name,sets,device", CASES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_cost_equals_built_module(name, sets, device):
    spec = spec_for(name, sets)
    x = example_input(spec, 1) if device == "cpu" else torch.empty(input_shape(spec, 1), device=device)
    with torch.device(device):
        assert spec_cost(spec) == measure(build(spec), x)


@pytest.mark.parametrize("name", list(FAMILIES))
def test_cost_equals_every_family_at_full_size(name):
    # The meta device gives exact shapes, parameter counts and FLOP counts without
    # allocating or computing, so every family is checked at its real input size.
    spec = spec_for(name)
    with torch.device("meta"):
        assert spec_cost(spec) == measure(build(spec), torch.empty(input_shape(spec, 1)))


def test_macs_are_per_sample():
    spec = spec_for("dense-cnn", dict(wm=0.5, depth=(2, 2, 2), input_size=8))
    x = example_input(spec, 3)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        build(spec).eval()(x)
    assert counter.get_total_flops() == 2 * 3 * spec_cost(spec).macs


def test_dense_mlp_cost_by_hand():
    # Hidden layout: 784->8, then layer i reads 8 + t_i inputs; sum t_i = 138; 8->10 classifier.
    fan_in = 784 + 15 * 8 + 138
    assert dense_mlp_cost(784, 8, 16, 10, 10, official=False) == (8 * fan_in + 16 * 8 + 8 * 10 + 10,
                                                                 8 * fan_in + 80)
    # Official layout: layers 0..14 have 8 outputs; the classifier, layer 15, reads 8 + t_15 = 18.
    fan_in = 784 + 14 * 8 + (138 - 10)
    assert dense_mlp_cost(784, 8, 16, 10, 10) == (8 * fan_in + 15 * 8 + 18 * 10 + 10, 8 * fan_in + 180)


def test_the_papers_mlps_x_y_z_have_the_authors_parameter_counts():
    """Fig. 4's models X (24, tc 2), Y (32, 2), Z (16, 8): the authors' Dense_MLP counts
    its Linear weights and biases, 8310, 9014 and 8290 (the paper: 8.3K, 9.0K, 8.3K)."""
    def official(depth, tc, w=8, d_in=784, k=10):
        t = [0, 0] + [min(tc, w * (i - 1)) for i in range(2, depth)]
        hidden = (d_in * w + w) + sum((w + t[i]) * w + w for i in range(1, depth - 1))
        return hidden + (w + t[-1]) * k + k
    for depth, tc, paper in ((24, 2, 8310), (32, 2, 9014), (16, 8, 8290)):
        assert official(depth, tc) == paper
        assert spec_cost(DenseMLPSpec(width=8, depth=depth, tc=tc)).params == paper


def test_dense_mlp_cost_vectorised():
    rng = np.random.default_rng(0)
    n = 40
    cols = [rng.integers(1, 50, n), rng.integers(1, 12, n), rng.integers(1, 20, n),
            rng.integers(0, 60, n), rng.integers(1, 11, n)]
    official = rng.random(n) < 0.5
    cols[2] = np.where(official, np.maximum(cols[2], 2), cols[2])  # the official layout needs depth >= 2
    params, macs = dense_mlp_cost(*cols, official)
    assert params.dtype == np.int64 and params.shape == (n,)
    for k in range(n):
        i, w, d, t, c = (int(col[k]) for col in cols)
        cost = spec_cost(DenseMLPSpec(input_dim=i, width=w, depth=d, tc=t, num_classes=c,
                                      layout="official" if official[k] else "hidden"))
        assert (params[k], macs[k]) == (cost.params, cost.macs)
    assert type(dense_mlp_cost(784, 8, 16, 10, 10)[0]) is int


def test_dense_cnn_cost_vectorised():
    rng = np.random.default_rng(1)
    n, cells = 30, 3
    depth = rng.integers(1, 7, (n, cells))
    tc = rng.integers(0, 80, (n, cells))
    wm = rng.choice([0.25, 0.5, 1.0, 1.5, 2.0], n)
    sep = rng.random(n) < 0.5
    size = rng.integers(4, 40, n)
    for official in (False, True):
        params, macs = dense_cnn_cost(depth, wm, tc, sep, 3, size + 4 * official, 10, official)
        assert params.shape == macs.shape == (n,)
        for k in range(n):
            spec = DenseCNNSpec(num_cells=cells, depth=tuple(int(v) for v in depth[k]), wm=float(wm[k]),
                                tc=tuple(int(v) for v in tc[k]), conv="separable" if sep[k] else "regular",
                                input_size=int(size[k]) + 4 * official,
                                layout="official" if official else "conv-bn-act")
            cost = spec_cost(spec)
            assert (params[k], macs[k]) == (cost.params, cost.macs)
    # One candidate (trailing cell axis only) gives Python ints.
    one = dense_cnn_cost((8, 8, 8), 2.0, (32, 64, 128), False, 3, 32, 10)
    assert one == (spec_cost(DenseCNNSpec()).params, spec_cost(DenseCNNSpec()).macs)
    assert type(one[0]) is int
    # Per-candidate arguments broadcast against each other: in_channels (2,) x input_size (2, 1).
    params, macs = dense_cnn_cost((8, 8, 8), 2.0, (32, 64, 128), False, np.array([1, 3]),
                                  np.array([[32], [28]]), 10)
    for r, size in enumerate((32, 28)):
        for c, chans in enumerate((1, 3)):
            cost = spec_cost(DenseCNNSpec(in_channels=chans, input_size=size))
            assert (params[r, c], macs[r, c]) == (cost.params, cost.macs)


def test_mobilenet_v2_cost_vectorised():
    rng = np.random.default_rng(2)
    n = 30
    wmul = rng.choice([0.35, 0.5, 0.75, 1.0, 1.3, 1.4], n)
    blocks = rng.integers(1, 5, (n, 7))
    expansion = rng.integers(1, 7, n)
    size = rng.integers(32, 230, n)
    params, macs = mobilenet_v2_cost(wmul, blocks, expansion, 1000, size)
    for k in range(n):
        spec = MobileNetV2Spec(width_mult=float(wmul[k]), blocks=tuple(int(b) for b in blocks[k]),
                               expansion=int(expansion[k]), input_size=int(size[k]))
        cost = spec_cost(spec)
        assert (params[k], macs[k]) == (cost.params, cost.macs)
    assert type(mobilenet_v2_cost(1.0, (1, 2, 3, 4, 3, 3, 1), 6, 1000, 224)[1]) is int


@pytest.mark.parametrize("width,mass,millions", [(1.4, 1807.0, 6.1), (0.75, 975.0, 2.6)])
def test_paper_table2_mobilenets(width, mass, millions):
    spec = spec_for("mobilenet_v2", {"width_mult": width})
    assert round(spec_mass(spec), 1) == mass
    assert round(spec_cost(spec).params / 1e6, 1) == millions
