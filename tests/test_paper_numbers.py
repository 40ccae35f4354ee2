"""The paper's own numbers, from the authors' conventions (SLDGroup/NN_Mass), each
recomputed here by writing the authors' formula out by hand, independently of nnmass.

- MobileNetV2: their ``InvertedResidual.nn_mass`` on every identity block, the
  ImageNet script's blocks [2,3,4,5,4,3,1]: Table 2's models A (1654, 3.7M) and B (1030, 2.3M).
- ResNets: their ``BasicBlock``/``Bottleneck`` ``nn_mass`` summed over every block.
- MLPs: their ``Dense_MLP`` topology (``analyze_topology``), parameter count, and forward.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnmass.families import spec_for
from nnmass.mass import measure, spec_report
from nnmass.models import build, example_input
from nnmass.spec import DenseMLPSpec


def divisible(v, d=8):
    new = max(d, int(v + d / 2) // d * d)
    return new + d if new < 0.9 * v else new


def authors_mobilenet_v2_mass(width_mult, blocks):
    """Sum of (inp + 2 hidden) inp / (2 inp + hidden) over blocks with stride 1 and inp == out."""
    setting = [(1, 16, 1), (6, 24, 2), (6, 32, 2), (6, 64, 2), (6, 96, 1), (6, 160, 2), (6, 320, 1)]
    inp, mass = divisible(32 * width_mult), 0.0
    for (t, c, s), n in zip(setting, blocks):
        out = divisible(c * width_mult)
        for i in range(n):
            hidden = int(round(inp * t))
            if (s if i == 0 else 1) == 1 and inp == out:
                mass += (inp + 2 * hidden) * inp / (2 * inp + hidden)
            inp = out
    return mass


@pytest.mark.parametrize("width_mult,mass,params,paper", [(1.0, 1654.0, 3_701_560, "A"), (0.6, 1030.0, 2_295_160, "B")])
def test_table2_models_a_and_b(width_mult, mass, params, paper):
    blocks = (2, 3, 4, 5, 4, 3, 1)  # the authors' train_imagenet.py: 22 blocks
    assert authors_mobilenet_v2_mass(width_mult, blocks) == pytest.approx(mass)
    spec = spec_for("mobilenet_v2", {"width_mult": width_mult, "blocks": blocks})
    report = spec_report(spec)
    assert report.nn_mass == pytest.approx(mass) and report.params == params
    model = build(spec)
    assert sum(p.numel() for p in model.parameters()) == params
    traced = measure(model, torch.zeros(1, 3, 224, 224))
    assert traced.nn_mass == pytest.approx(mass)


def test_mobilenet_v2_paper_widths_keep_their_table2_values():
    for width_mult, mass in ((1.4, 1807.0), (0.75, 975.0)):
        default = (1, 2, 3, 4, 3, 3, 1)
        assert authors_mobilenet_v2_mass(width_mult, default) == pytest.approx(mass)
        assert spec_report(spec_for("mobilenet_v2", {"width_mult": width_mult})).nn_mass == pytest.approx(mass)


def test_an_expansion_one_block_contributes_its_width_w1():
    # The degenerate bottleneck W2 = W1: (W1 + 2 W1) W1 / (2 W1 + W1) = W1; here W1 = 16.
    one = spec_for("mobilenet_v2", {"blocks": (2, 1, 1, 1, 1, 1, 1)})
    base = spec_for("mobilenet_v2", {"blocks": (1, 1, 1, 1, 1, 1, 1)})
    assert spec_report(one).nn_mass - spec_report(base).nn_mass == pytest.approx(16.0)
    traced = measure(build(one), torch.zeros(1, 3, 64, 64))
    assert traced.nn_mass - measure(build(base), torch.zeros(1, 3, 64, 64)).nn_mass == pytest.approx(16.0)


def authors_resnet_mass(block, layers, width_per_group=64):
    """Their model zoo: every block adds planes + inplanes (basic) or
    (inplanes + 2 width) inplanes / (2 inplanes + width) (bottleneck)."""
    expansion = 4 if block == "bottleneck" else 1
    inplanes, mass = 64, 0.0
    for planes, n in zip((64, 128, 256, 512), layers):
        for _ in range(n):
            if block == "basic":
                mass += planes + inplanes
            else:
                width = planes * width_per_group // 64
                mass += (inplanes + 2 * width) * inplanes / (2 * inplanes + width)
            inplanes = planes * expansion
    return mass


@pytest.mark.parametrize("name,block,layers,wpg,official", [
    ("resnet18", "basic", (2, 2, 2, 2), 64, 3392), ("resnet34", "basic", (3, 4, 6, 3), 64, 7104),
    ("resnet50", "bottleneck", (3, 4, 6, 3), 64, 9006.9), ("resnet101", "bottleneck", (3, 4, 23, 3), 64, 20612.3),
    ("resnet152", "bottleneck", (3, 8, 36, 3), 64, 30852.3),
    ("wide_resnet50_2", "bottleneck", (3, 4, 6, 3), 128, 10883.2),
    ("wide_resnet101_2", "bottleneck", (3, 4, 23, 3), 128, 24809.6),
])
def test_resnet_masses_are_the_authors(name, block, layers, wpg, official):
    by_hand = authors_resnet_mass(block, layers, wpg)
    assert round(by_hand, 1) == official
    assert spec_report(spec_for(name)).nn_mass == pytest.approx(by_hand, rel=1e-12)
    identity = spec_report(spec_for(name, {"shortcuts": "identity"})).nn_mass
    assert identity < by_hand  # projection blocks count only by default


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_traced_resnets_count_projection_blocks_by_default(name):
    spec = spec_for(name, {"input_size": 64})
    assert measure(build(spec), torch.zeros(1, 3, 64, 64)).nn_mass == pytest.approx(spec_report(spec).nn_mass)


# ---- the MLP: Dense_MLP(width, depth, tc) ---------------------------------------------------

def authors_mlp_topology(width, depth, tc):
    """analyze_topology: candidates 8 (i-1) per layer i >= 2, t_i = min(tc, candidates);
    density = sum t / sum candidates; NN-Mass = density * width * depth."""
    paths = [0, 0] + [width * (i - 1) for i in range(2, depth)]
    t = [min(tc, p) for p in paths]
    density = sum(t) / sum(paths) if sum(paths) else 0.0
    return t, density * width * depth


def authors_mlp_params(width, depth, tc, input_dim=784, classes=10):
    """param_num: Linear weights and biases; layer 0 is input_dim -> width, the last is the classifier."""
    t, _ = authors_mlp_topology(width, depth, tc)
    fan = [(input_dim, width)] + [(width + t[i], width) for i in range(1, depth - 1)] + [(width + t[-1], classes)]
    return sum(i * o + o for i, o in fan)


@pytest.mark.parametrize("depth,tc,params", [(24, 2, 8310), (32, 2, 9014), (16, 8, 8290)])
def test_fig4_models_x_y_z(depth, tc, params):
    _, mass = authors_mlp_topology(8, depth, tc)
    assert authors_mlp_params(8, depth, tc) == params
    report = spec_report(spec_for("dense-mlp", {"width": 8, "depth": depth, "tc": tc}))
    assert report.params == params and report.nn_mass == pytest.approx(mass, rel=1e-12)
    model = build(DenseMLPSpec(width=8, depth=depth, tc=tc))
    assert sum(p.numel() for p in model.parameters()) == params
    assert measure(model, torch.zeros(1, 784)).nn_mass == pytest.approx(mass, rel=1e-12)


def test_the_issue_example_is_4_173913():
    _, mass = authors_mlp_topology(8, 24, 2)
    assert round(mass, 6) == 4.173913
    assert round(spec_report(spec_for("dense-mlp", {"width": 8, "depth": 24, "tc": 2})).nn_mass, 6) == 4.173913


def authors_links(spec):
    """Their feature history is newest first, feat[k] = cat(out_k, ..., out_0), and layer i's
    links index feat[i-2]: our flat index j * w + c (oldest first) is (i - 2 - j) * w + c."""
    w = spec.width
    return [[(i - 2 - c // w) * w + c % w for c in spec.skips[i]] if i >= 2 else [] for i in range(spec.depth)]


def authors_forward(model, spec, x, act):
    """The authors' Dense_MLP.forward, written out, on our weights and links: out_0 =
    act(W_0 x), out_1 = W_1 out_0, then out_i = W_i act(cat(out_{i-1}, links)) and the
    classifier (the last layer) W cat(out_{d-2}, links) with no act."""
    layers, links, d = list(model.layers) + [model.classifier], authors_links(spec), spec.depth
    out0 = act(layers[0](x))
    outs = [out0, layers[1](out0)]
    feats = [out0, torch.cat([outs[1], out0], 1)]
    for i in range(2, d):
        inp = torch.cat([outs[i - 1], feats[i - 2][:, links[i]]], 1)
        out = layers[i](inp if i == d - 1 else act(inp))
        outs.append(out)
        feats.append(torch.cat([out, feats[i - 1]], 1))
    return outs[-1]


@pytest.mark.parametrize("depth,tc,seed", [(6, 3, 0), (8, 100, 1), (5, 0, 2), (24, 2, 3)])
def test_forward_equals_the_authors_on_the_same_weights_and_links(depth, tc, seed):
    spec = DenseMLPSpec(input_dim=12, width=4, depth=depth, tc=tc, seed=seed, activation="linear")
    model = build(spec, seed=seed).double()
    x = example_input(spec, 5, seed=seed).double()
    # A linear network has no activation to place: the two forwards are the same function.
    torch.testing.assert_close(model(x), authors_forward(model, spec, x, torch.nn.Identity()), rtol=0, atol=1e-12)


def test_elu_forward_differs_from_the_authors_only_where_documented():
    spec = DenseMLPSpec(input_dim=12, width=4, depth=7, tc=5, seed=4)
    model = build(spec, seed=4).double()
    x = example_input(spec, 5, seed=4).double() * 3
    ours = model(x)
    # With act on a layer's input, the authors' forward reads each neuron through ELU once,
    # except that skips from layer 0 pass ELU twice and the classifier reads no ELU at all:
    # it is not the same function ...
    assert not torch.allclose(ours, authors_forward(model, spec, x, F.elu))
    # ... while their loop with the paper's s_i = phi(W_i x_{i-1} + b_i) (Sec. 3.2) is ours.
    torch.testing.assert_close(ours, paper_forward_in_the_authors_loop(model, spec, x, F.elu), rtol=0, atol=1e-12)


def paper_forward_in_the_authors_loop(model, spec, x, act):
    """The authors' loop (newest-first history, their link indices), each neuron activated once."""
    layers, links, d = list(model.layers) + [model.classifier], authors_links(spec), spec.depth
    s = [act(layers[0](x))]
    s.append(act(layers[1](s[0])))
    feat = torch.cat([s[1], s[0]], 1)
    history = [s[0], feat]
    for i in range(2, d):
        inp = torch.cat([s[i - 1], history[i - 2][:, links[i]]], 1)
        h = layers[i](inp)
        if i == d - 1:
            return h
        s.append(act(h))
        history.append(torch.cat([s[i], history[i - 1]], 1))
    return None


def test_official_nn_mass_needs_no_classifier_width():
    # Eq. 2 as the authors compute it: w * d * rho whatever the number of classes.
    for classes in (2, 10, 1000):
        spec = DenseMLPSpec(width=8, depth=24, tc=2, num_classes=classes)
        assert spec_report(spec).nn_mass == pytest.approx(authors_mlp_topology(8, 24, 2)[1])
        assert measure(build(spec), torch.zeros(1, 784)).nn_mass == pytest.approx(authors_mlp_topology(8, 24, 2)[1])
    assert np.isclose(authors_mlp_topology(8, 16, 10)[1], 21.0286, atol=5e-5)
