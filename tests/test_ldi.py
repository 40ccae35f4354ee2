"""LDI spectra (Definition 2) against autograd Jacobians + SVD, and the `nnmass ldi` command."""
import json

import pytest
import torch
from torch import nn
from torch.autograd.functional import jacobian

import nnmass
from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.ldi import activation_derivative, layer_spectra
from nnmass.models import build
from nnmass.spec import DenseCNNSpec, DenseMLPSpec
from nnmass.topology import dense_mass

# Every activation nnmass builds, with non-default parameters where a module has them.
ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "elu": lambda: nn.ELU(alpha=0.7),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
    "gelu": lambda: nn.GELU(),
    "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
    "silu": lambda: nn.SiLU(),
}


def _inputs_of(model, modules, x):
    """The input each module receives in one eval forward (captured independently of nnmass.ldi)."""
    got = {}
    handles = [m.register_forward_pre_hook(lambda mod, args, k=k: got.setdefault(k, args[0].detach()))
               for k, m in enumerate(modules)]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return [got[k] for k in range(len(modules))]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivative_matches_autograd(name):
    module = ACTIVATIONS[name]()
    h = torch.linspace(-4, 4, 81, dtype=torch.float64).requires_grad_()
    (grad,) = torch.autograd.grad(module(h).sum(), h)
    assert torch.allclose(activation_derivative(module)(h.detach()), grad, atol=1e-12)


def test_unknown_activation_is_refused_by_name():
    with pytest.raises(UsageError, match="Softplus"):
        activation_derivative(nn.Softplus())


@pytest.mark.parametrize("layout", ["official", "hidden"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_mlp_spectra_equal_autograd_jacobian_svd(name, layout):
    spec = DenseMLPSpec(input_dim=5, width=4, depth=6, tc=3, seed=1, layout=layout)
    model = build(spec, seed=2).double()
    model.act = ACTIVATIONS[name]()
    x = torch.randn(3, 5, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 2
    spectra = layer_spectra(model, x, include_input_layer=True)
    # In the authors' layout the classifier is the cell's last layer: measured, with no activation.
    layers = [(f"layers.{i}", m, model.act) for i, m in enumerate(model.layers)]
    if layout == "official":
        layers.append(("classifier", model.classifier, nn.Identity()))
    assert [s.name for s in spectra] == [name for name, _, _ in layers]
    inputs = _inputs_of(model, [m for _, m, _ in layers], x)
    for i, ((_, layer, act), layer_in, spectrum) in enumerate(zip(layers, inputs, spectra)):
        assert layer_in.shape[1] == (5 if i == 0 else 4 + min(4 * (i - 1), 3))  # skip columns included
        for b in range(3):
            j = jacobian(lambda u: act(layer(u)), layer_in[b])
            k = min(j.shape)
            assert torch.allclose(spectrum.values[b, 0, :k], torch.linalg.svdvals(j), atol=1e-10)
            assert spectrum.counts.tolist() == [k]


def test_mlp_input_layer_narrower_than_width_counts_its_values():
    spec = DenseMLPSpec(input_dim=3, width=4, depth=3, tc=2, layout="hidden")
    model = build(spec, seed=0).double()
    x = torch.randn(2, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    first = layer_spectra(model, x, include_input_layer=True)[0]
    ref = torch.stack([torch.linalg.svdvals(jacobian(lambda u: model.act(model.layers[0](u)), x[b])) for b in range(2)])
    assert first.flat().numel() == 2 * 3  # a 4x3 Jacobian has 3 singular values
    assert torch.allclose(first.flat().view(2, 3), ref, atol=1e-10)
    assert [s.name for s in layer_spectra(model, x)] == ["layers.1", "layers.2"]  # default: hidden layers


def test_orthogonal_linear_network_has_unit_singular_values():
    spec = DenseMLPSpec(input_dim=6, width=6, depth=8, tc=0, activation="linear", layout="hidden")
    model = build(spec, seed=0)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in model.layers:  # tc=0: every W is 6x6, set it orthogonal
            layer.weight.copy_(torch.linalg.qr(torch.randn(6, 6, generator=g))[0])
    report = nnmass.ldi.measure(model, torch.randn(5, 6, generator=g), include_input_layer=True)
    assert report.count == 8 * 5 * 6
    assert abs(report.mean - 1) < 1e-5 and report.std < 1e-5
    assert abs(report.min - 1) < 1e-5 and abs(report.max - 1) < 1e-5


def _randomise_bn(model, seed):
    """Nontrivial eval-mode BN (init is scale 1/sqrt(1+eps)), so its folding is really tested."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g, dtype=torch.float64) + 0.5
            m.bias.data = torch.randn(n, generator=g, dtype=torch.float64)
            m.running_mean = torch.randn(n, generator=g, dtype=torch.float64)
            m.running_var = torch.rand(n, generator=g, dtype=torch.float64) + 0.5


@pytest.mark.parametrize("conv", ["regular", "separable"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_cnn_spectra_equal_autograd_jacobian_rows(conv, name):
    # Cell 1 starts with a stride-2 layer (5x5 -> 3x3); the input layer (1 channel
    # into 4) has fewer valid columns than rows at the borders.
    spec = DenseCNNSpec(num_cells=2, depth=(3, 3), wm=0.25, tc=(3, 5), conv=conv, in_channels=1,
                        input_size=5, activation="relu", seed=4)
    model = build(spec, seed=5).double()
    layers = [layer for cell in model.cells for layer in cell.layers]
    for layer in layers:
        layer.act = ACTIVATIONS[name]()
    _randomise_bn(model, 6)
    x = torch.randn(2, 1, 5, 5, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    spectra = layer_spectra(model, x, include_input_layer=True, positions=None)
    assert [s.name for s in spectra] == [f"cells.{c}.layers.{i}" for c in range(2) for i in range(3)]
    inputs = _inputs_of(model, layers, x)
    for layer, layer_in, spectrum in zip(layers, inputs, spectra):
        for b in range(2):
            j = jacobian(lambda u: layer(u[None])[0], layer_in[b], vectorize=True)  # (c,Ho,Wo, c_in,H,W)
            c_out, h_out, w_out = j.shape[:3]
            assert spectrum.positions.tolist() == list(range(h_out * w_out))
            # Row block of each output position p, all input columns: (P, c_out, c_in*H*W).
            ref = torch.linalg.svdvals(j.reshape(c_out, h_out * w_out, -1).transpose(0, 1))
            ours = spectrum.values[b]  # values past counts[p] are padding, zero them
            k = ours.shape[-1]
            ours = ours * (torch.arange(k)[None, :] < spectrum.counts[:, None])
            ours = torch.cat([ours, ours.new_zeros(len(ours), ref.shape[-1] - k)], 1)
            assert torch.allclose(ours, ref, atol=1e-10), spectrum.name


@pytest.mark.parametrize("conv", ["regular", "separable"])
def test_official_cnn_layers_are_their_convs(conv):
    # BN -> ReLU -> conv: a conv's output is concatenated into later layers (no activation
    # of its own follows it), so its Jacobian is the conv operator itself, as for
    # torchvision's DenseNet; every conv is one layer; the image's conv is the input layer.
    spec = DenseCNNSpec(num_cells=2, depth=(3, 3), wm=0.25, tc=(3, 5), conv=conv, input_size=8, seed=4,
                        layout="official")
    model = build(spec, seed=5).double()
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    spectra = layer_spectra(model, x, include_input_layer=True, positions=None)
    assert [s.name for s in spectra] == [n for n, _ in convs]
    assert [s.name for s in layer_spectra(model, x, positions=None)] == [n for n, _ in convs][1:]
    inputs = _inputs_of(model, [m for _, m in convs], x)
    model.eval()
    # A cell's last conv feeds the next cell's first layer alone: its path runs on through
    # that layer's BN and ReLU, J = D g W (the same rule as torchvision's DenseNet).
    feeds = {f"cells.{c}.layers.{len(cell.layers) - 1}.conv": model.cells[c + 1].layers[0]
             for c, cell in enumerate(model.cells[:-1])}
    for (name, conv_module), conv_in, spectrum in zip(convs, inputs, spectra):
        after = feeds.get(name) if conv == "regular" else feeds.get(name[:-2])
        if after is not None and not name.endswith((".0", ".1")):
            f = lambda u: after.act(after.bn(conv_module(u[None])))[0]  # noqa: E731
        else:
            f = lambda u: conv_module(u[None])[0]  # noqa: E731
        j = jacobian(f, conv_in[0], vectorize=True)
        c_out, h_out, w_out = j.shape[:3]
        ref = torch.linalg.svdvals(j.reshape(c_out, h_out * w_out, -1).transpose(0, 1))
        ours = spectrum.values[0] * (torch.arange(spectrum.values.shape[-1])[None, :] < spectrum.counts[:, None])
        k = min(ours.shape[-1], ref.shape[-1])
        assert torch.allclose(ours[:, :k], ref[:, :k], atol=1e-10), name


def test_cnn_positions_are_sampled_from_the_given_generator():
    spec = DenseCNNSpec(num_cells=1, depth=(3,), wm=0.25, tc=(2,), in_channels=2, input_size=6)
    model = build(spec, seed=0)
    x = torch.randn(2, 2, 6, 6, generator=torch.Generator().manual_seed(0))
    calls = []
    a = nnmass.ldi.measure(model, x, positions=5, generator=torch.Generator().manual_seed(11),
                   progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]
    assert all(m.training for m in model.modules())  # measured in eval mode, train mode restored
    b = nnmass.ldi.measure(model, x, positions=5, generator=torch.Generator().manual_seed(11))
    assert a.position_seed == 11 and a.to_dict() == b.to_dict()
    pos = [s.positions for s in a.spectra]
    assert all(len(p) == 5 and len(set(p.tolist())) == 5 for p in pos)
    assert a.count == 2 * 2 * 5 * 4  # layers 1, 2 x batch x positions x width
    with pytest.raises(UsageError, match="positions"):
        nnmass.ldi.measure(model, x, positions=0)


def test_report_statistics_are_those_of_the_layers():
    spec = DenseMLPSpec(input_dim=7, width=5, depth=6, tc=4, layout="hidden")
    model = build(spec, seed=0)
    report = nnmass.ldi.measure(model, torch.randn(9, 7, generator=torch.Generator().manual_seed(0)))
    d = report.to_dict()
    assert [l["name"] for l in d["layers"]] == [f"layers.{i}" for i in range(1, 6)]
    counts = [l["count"] for l in d["layers"]]
    assert counts == [9 * 5] * 5 and d["count"] == sum(counts)
    weighted = sum(l["mean"] * l["count"] for l in d["layers"]) / d["count"]
    assert d["mean"] == pytest.approx(weighted, rel=1e-9)
    assert d["min"] == min(l["min"] for l in d["layers"]) and d["max"] == max(l["max"] for l in d["layers"])
    every = torch.cat([s.flat() for s in report.spectra]).double()
    assert d["std"] == pytest.approx(((every - every.mean()) ** 2).mean().sqrt().item(), rel=1e-9)


def test_unsupported_model_is_refused():
    with pytest.raises(UsageError, match="Sequential"):
        nnmass.ldi.measure(nn.Sequential(nn.Linear(3, 3), nn.ReLU()), torch.randn(2, 3))


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_ldi_json(capsys):
    code, out, _ = _run(capsys, "ldi", "dense-mlp", "--set", "width=4", "--set", "depth=6", "--set", "tc=3",
                        "--set", "input_dim=10", "--batch", "8", "--seed", "3", "--json")
    assert code == 0
    d = json.loads(out)
    assert {"mean", "std", "nn_mass", "layers"} <= set(d)
    assert d["nn_mass"] == pytest.approx(dense_mass(6, 4, 3))  # closed form, Eq. 2
    # Layers 1..4 and the classifier (the authors' layout: the cell's last layer, 10 x (4 + 3),
    # so min(10, 7) = 7 values per sample).
    assert len(d["layers"]) == 5 and all({"mean", "std", "min", "max"} <= set(l) for l in d["layers"])
    assert d["count"] == 4 * 8 * 4 + 8 * 7
    # The same numbers through the library: weights from build(seed), inputs N(0, 1) from the seed.
    spec = DenseMLPSpec(input_dim=10, width=4, depth=6, tc=3)
    x = torch.randn(8, 10, generator=torch.Generator().manual_seed(3))
    assert d["mean"] == pytest.approx(nnmass.ldi.measure(build(spec, seed=3), x).mean, rel=1e-6)


def test_cli_ldi_table_for_a_cnn(capsys):
    code, out, _ = _run(capsys, "ldi", "dense-cnn", "--set", "num_cells=2", "--set", "depth=3",
                        "--set", "wm=0.25", "--set", "tc=2", "--set", "input_size=8", "--batch", "2",
                        "--positions", "3")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()[2:7]]
    assert names == ["cells.0.layers.1", "cells.0.layers.2", "cells.1.layers.0", "cells.1.layers.1",
                     "cells.1.layers.2"]
    # Eq. 2 by hand: widths 4 and 8, depth 3, t_2 = 2: rho = 2*2/(w*2*1); m = w*3*rho = 6 per cell.
    assert "\nnn_mass 12 " in out


@pytest.mark.parametrize("argv, needle", [
    (["--batch", "0"], "batch"),
    (["--device", "cuda"], "cuda"),
    (["--inputs", "no-such-set"], "no-such-set"),
    (["--positions", "0"], "positions"),
    (["--set", "depth=1", "--set", "width=2", "--set", "layout=hidden"], "include-input-layer"),
])
def test_cli_ldi_bad_input_exits_2_with_one_line(capsys, argv, needle, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, out, err = _run(capsys, "ldi", "dense-mlp", *argv)
    assert code == 2 and out == ""
    assert err.startswith("nnmass: error:") and err.count("\n") == 1 and needle in err


def test_cli_ldi_on_real_digits_sets_input_dim_from_the_data(capsys):
    code, out, _ = _run(capsys, "ldi", "dense-mlp", "--set", "depth=4", "--inputs", "digits", "--batch", "5",
                        "--json")
    assert code == 0
    d = json.loads(out)
    assert d["spec"]["input_dim"] == 64 and d["inputs"] == "digits"  # 8x8 digit images
    # Layers 1, 2 (8 values each) and the classifier, 10 x (8 + min(16, 10)) (10 values), 5 samples.
    assert d["count"] == 2 * 5 * 8 + 5 * 10
    code, out, err = _run(capsys, "ldi", "dense-mlp", "--set", "input_dim=10", "--inputs", "digits")
    assert code == 2 and "input_dim" in err and "64" in err and err.count("\n") == 1
    code, out, err = _run(capsys, "ldi", "dense-mlp", "--inputs", "digits", "--batch", "5000")
    assert code == 2 and "batch must be in 1.." in err and "digits" in err and err.count("\n") == 1


def test_benchmark_baseline_agrees_with_batched_spectra(capsys):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "ldi.py"
    module_spec = importlib.util.spec_from_file_location("ldi_benchmark", path)
    bench = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(bench)
    result = bench.main(["--width", "4", "--depth", "5", "--tc", "3", "--input-dim", "12", "--batch", "6",
                         "--activation", "elu", "--repeat", "1", "--json"])
    assert json.loads(capsys.readouterr().out)["layers"] == 4
    assert result["max_abs_diff"] < 1e-5 and result["per_sample_s"] > 0 and result["batched_s"] > 0


def test_the_report_names_the_positions_each_cnn_layer_was_measured_at():
    """--positions is a most: a layer with fewer output positions gives all of its own,
    and the JSON says how many each layer used (its conv output's H*W, read by a hook)."""
    from nnmass.ldi import measure
    spec = DenseCNNSpec(num_cells=2, depth=(3, 3), wm=0.25, tc=(3, 5), input_size=8, seed=4)
    model = build(spec, seed=5)
    sizes = {}

    def size_of(name):
        def hook(module, inputs, output):
            sizes[name] = output.shape[-2] * output.shape[-1]
        return hook
    hooks = [m.register_forward_hook(size_of(n)) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    for asked in (5, 10_000):
        layers = measure(model, x, positions=asked, generator=torch.Generator().manual_seed(0)).to_dict()["layers"]
        used = {layer["name"]: layer["positions"] for layer in layers}
        conv_of = {n: next(size for conv, size in sizes.items() if conv == n or conv.startswith(n + "."))
                   for n in used}
        assert used == {n: min(asked, conv_of[n]) for n in used}
        assert len(set(conv_of.values())) > 1  # two cells, two image sizes
    mlp = build(DenseMLPSpec(width=4, depth=4, tc=2, input_dim=6, num_classes=3), seed=0)
    assert "positions" not in measure(mlp, torch.randn(2, 6)).to_dict()["layers"][0]
