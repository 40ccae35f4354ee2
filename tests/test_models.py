"""Builders: forward/backward over every spec type, and the dense skips really wired."""
import os

import pytest
import torch

from nnmass.families import spec_for
from nnmass.models import build, example_input
from nnmass.spec import DenseCNNSpec, DenseMLPSpec

DEVICE = torch.device(os.environ.get("NNMASS_TEST_DEVICE", "cpu"))

# One or two variants of every spec type at small input sizes (batch 2 keeps
# train-mode BN defined at 1x1 spatial size).
MODELS = [
    ("dense-mlp", dict(input_dim=20, width=6, depth=7, tc=4, num_classes=5)),
    ("dense-mlp", dict(input_dim=9, width=4, depth=5, tc=100, activation="elu")),
    ("dense-mlp", dict(input_dim=9, width=4, depth=5, tc=3, activation="relu", layout="hidden")),
    ("dense-cnn", dict(wm=0.25, depth=(3, 4, 2), tc=(2, 6, 100), input_size=12, layout="official")),
    ("dense-cnn", dict(wm=0.25, depth=(3, 4, 2), tc=(2, 6, 100), input_size=12)),
    ("dense-cnn", dict(wm=0.5, depth=(2, 3), num_cells=2, tc=(1, 5), conv="separable",
                       activation="tanh", input_size=9, num_classes=4)),
    ("mobilenet_v2", dict(width_mult=0.35, input_size=32, num_classes=7)),
    ("resnet18", dict(input_size=32, num_classes=7)),
    ("resnet", dict(block="bottleneck", layers=(1, 1, 1, 1), width_per_group=32, input_size=32,
                    num_classes=7)),
    ("densenet121", dict(growth_rate=8, block_config=(2, 3, 2, 2), num_init_features=16, input_size=32,
                         num_classes=7)),
    ("vgg11_bn", dict(input_size=32, num_classes=7)),
]


@pytest.mark.parametrize("name,sets", MODELS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MODELS)])
def test_forward_backward(name, sets):
    spec = spec_for(name, sets)
    model = build(spec, seed=0).to(DEVICE).train()
    out = model(example_input(spec, 2).to(DEVICE))
    assert out.shape == (2, spec.num_classes)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None, pname
        assert torch.isfinite(p.grad).all(), pname


def test_weight_seed_reproducible_and_global_rng_untouched():
    spec = DenseCNNSpec(wm=0.25, depth=(2, 2, 2), tc=(3, 3, 3))
    state = torch.random.get_rng_state()
    a, b, c = build(spec, seed=3), build(spec, seed=3), build(spec, seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def reference_mlp(model, spec, x):
    """The same network written the plain way: layer i reads cat(x_{i-1}, H[skips[i]])
    with H the full concatenation of layers 0..i-2; in the official layout the
    classifier is layer depth-1 and reads its skips the same way."""
    official = spec.layout == "official"
    layers = list(model.layers) + ([model.classifier] if official else [])
    history = [model.act(layers[0](x))]
    for i in range(1, spec.depth):
        full = torch.cat(history[:-1], 1) if i >= 2 else x.new_zeros(x.shape[0], 0)
        idx = torch.tensor(spec.skips[i], dtype=torch.long)
        inp = torch.cat([history[-1], full[:, idx]], 1)
        if official and i == spec.depth - 1:
            return layers[i](inp)
        history.append(model.act(layers[i](inp)))
    return model.classifier(history[-1])


@pytest.mark.parametrize("layout", ["official", "hidden"])
@pytest.mark.parametrize("width,depth,tc,seed", [(8, 16, 10, 0), (3, 6, 100, 1), (5, 4, 0, 2), (2, 9, 3, 5)])
def test_mlp_matches_explicit_concatenation(width, depth, tc, seed, layout):
    spec = DenseMLPSpec(input_dim=11, width=width, depth=depth, tc=tc, seed=seed, activation="tanh", layout=layout)
    model = build(spec, seed=seed).double()
    x = example_input(spec, 4, seed=seed).double()
    torch.testing.assert_close(model(x), reference_mlp(model, spec, x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("layout", ["official", "hidden"])
def test_mlp_layer_reads_exactly_its_skip_channels(layout):
    # Bump one neuron of layer j by 1 (a forward hook) and watch the inputs of later
    # layers: layer j+1 sees it in its first w columns, and among the skip columns
    # of layer i >= j+2 that come from layer j exactly one moves, and by exactly 1,
    # when the neuron is in spec.skips[i]; none moves otherwise.
    # Identity activation: a bump of the pre-activation reaches the output unchanged.
    spec = DenseMLPSpec(input_dim=5, width=4, depth=8, tc=3, seed=9, activation="linear", layout=layout)
    model = build(spec, seed=0).double()
    x = example_input(spec, 1).double()
    w, inputs = spec.width, {}
    layers = list(model.layers) + ([model.classifier] if layout == "official" else [])
    for i, layer in enumerate(layers):
        layer.register_forward_pre_hook(lambda m, a, i=i: inputs.__setitem__(i, a[0][0].clone()))
    model(x)
    base = dict(inputs)
    for j in range(spec.depth - 2):
        for ch in range(w):
            def bump(m, a, out, ch=ch):
                out = out.clone()
                out[:, ch] += 1.0
                return out
            handle = model.layers[j].register_forward_hook(bump)
            model(x)
            handle.remove()
            flat = j * w + ch
            moved = (inputs[j + 1] - base[j + 1])[:w].tolist()
            assert moved == pytest.approx([1.0 if k == ch else 0.0 for k in range(w)], abs=1e-12)
            for i in range(j + 2, spec.depth):
                delta = (inputs[i] - base[i])[w:].tolist()
                from_j = [k for k, c in enumerate(spec.skips[i]) if c // w == j]
                want = [1.0 if spec.skips[i][k] == flat else 0.0 for k in from_j]
                got = [delta[k] for k in from_j]
                assert got == pytest.approx(want, abs=1e-12), (i, j, ch)
                assert (flat in spec.skips[i]) == (1.0 in want)


def test_cnn_cell_matches_explicit_concatenation():
    spec = DenseCNNSpec(num_cells=2, wm=0.25, depth=(4, 5), tc=(3, 9), input_size=6, seed=1)
    model = build(spec, seed=1).double().eval()
    x = example_input(spec, 2).double()
    out = x
    for cell, skips in zip(model.cells, spec.skips):
        history = [cell.layers[0](out)]
        for i in range(1, len(cell.layers)):
            parts = [history[-1]]
            if i >= 2:
                parts.append(torch.cat(history[:-1], 1)[:, list(skips[i])])
            history.append(cell.layers[i](torch.cat(parts, 1)))
        out = history[-1]
    expected = model.classifier(out.mean((2, 3)))
    torch.testing.assert_close(model(x), expected, rtol=0, atol=1e-10)
