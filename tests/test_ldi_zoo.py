"""LDI spectra of the torchvision families (ResNet, MobileNetV2, VGG, DenseNet) against
autograd Jacobians + SVD of each layer written out by hand, and `nnmass ldi resnet18`."""
import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.functional import jacobian

import nnmass
from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.mass.closed_form import spec_mass
from nnmass.ldi import activation_derivative
from nnmass.ldi.traced import traced_spectra
from nnmass.ldi.layer_paths import find_layers, trace
from nnmass.models import build
from nnmass.spec import DenseNetSpec, MobileNetV2Spec, ResNetSpec, VGGSpec

SMALL_RESNET = ResNetSpec(layers=(1, 1, 1, 1), num_classes=10, input_size=32)
SMALL_MOBILENET = MobileNetV2Spec(width_mult=0.35, blocks=(1, 2, 1, 1, 1, 1, 1), num_classes=10, input_size=32)
SMALL_DENSENET = DenseNetSpec(growth_rate=4, block_config=(2, 2, 2, 2), num_init_features=8, bn_size=2,
                              num_classes=10, input_size=32)


def _model(spec, seed=0):
    return _model_from(build(spec, seed=seed), seed)


def _model_from(model, seed=0):
    """A float64 model with nontrivial eval-mode BN (init is scale 1/sqrt(1+eps)), so its folding is tested."""
    model = model.double()
    g = torch.Generator().manual_seed(seed + 100)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=g, dtype=torch.float64) + 0.5
            m.bias.data = torch.randn(n, generator=g, dtype=torch.float64) * 0.3
            m.running_mean = torch.randn(n, generator=g, dtype=torch.float64) * 0.3
            m.running_var = torch.rand(n, generator=g, dtype=torch.float64) + 0.5
    return model


def _images(batch=2, size=32, seed=1):
    return torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _seen(model, x, pre=(), post=()):
    """Inputs of the ``pre`` modules and outputs of the ``post`` modules in one eval forward (cloned).

    Leaves the model in eval mode: the reference Jacobians need BN's running statistics.
    """
    got = {}

    def keep(key, value):  # returns None: a hook that returns a tensor replaces the module's input/output
        got.setdefault(key, value.detach().clone())

    handles = [model.get_submodule(n).register_forward_pre_hook(lambda mod, args, n=n: keep(("in", n), args[0]))
               for n in pre]
    handles += [model.get_submodule(n).register_forward_hook(lambda mod, args, out, n=n: keep(("out", n), out))
                for n in post]
    model.eval()
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return got


def _assert_rows_match(spectrum, layer_fn, layer_in):
    """Our values at each sampled position equal svdvals of the autograd Jacobian's rows there.

    Only the sampled positions' rows are differentiated (one backward pass per row), against
    every input column.
    """
    pos = spectrum.positions
    for b in range(layer_in.shape[0]):
        j = jacobian(lambda u: layer_fn(u[None], b)[0].flatten(1)[:, pos], layer_in[b], vectorize=True)
        ref = torch.linalg.svdvals(j.flatten(2).transpose(0, 1))  # (P, min(c_out, c_in H W))
        ours = spectrum.values[b]
        ours = ours * (torch.arange(ours.shape[-1])[None, :] < spectrum.counts[:, None])  # padding values out
        width = max(ours.shape[-1], ref.shape[-1])
        ours, ref = (F.pad(v, (0, width - v.shape[-1])) for v in (ours, ref))
        assert torch.allclose(ours, ref, atol=1e-10), spectrum.name


def _measure(model, x, names, positions=None, seed=0):
    spectra = traced_spectra(model, x, positions=positions, generator=torch.Generator().manual_seed(seed),
                             layers=names)
    assert [s.name for s in spectra] == names
    return dict(zip(names, spectra))


def test_resnet_strided_residual_and_shortcut_convs_equal_autograd():
    model = _model(SMALL_RESNET)
    x = _images(1)
    block = model.layer3[0]  # 128 x 4x4 -> 256 x 2x2
    names = ["layer3.0.conv1", "layer3.0.conv2", "layer3.0.downsample.0"]
    ours = _measure(model, x, names, positions=2, seed=3)
    assert all(m.training for m in model.modules())  # measured in eval mode, train mode restored
    seen = _seen(model, x, pre=["layer3.0", "layer3.0.conv2"], post=["layer3.0.bn2"])
    block_in, conv2_in, main = seen[("in", "layer3.0")], seen[("in", "layer3.0.conv2")], seen[("out", "layer3.0.bn2")]
    shortcut = block.downsample(block_in)
    # conv1: 3x3 stride 2 -> BN -> ReLU.
    _assert_rows_match(ours["layer3.0.conv1"], lambda u, b: F.relu(block.bn1(block.conv1(u))), block_in)
    # conv2 -> BN -> + shortcut (held fixed) -> ReLU.
    _assert_rows_match(ours["layer3.0.conv2"], lambda u, b: F.relu(block.bn2(block.conv2(u)) + shortcut[b:b + 1]),
                       conv2_in)
    # the 1x1 stride-2 projection shortcut: main branch held fixed.
    _assert_rows_match(ours["layer3.0.downsample.0"],
                       lambda u, b: F.relu(main[b:b + 1] + block.downsample[1](block.downsample[0](u))), block_in)


def test_resnet_layers_found_are_every_conv_but_the_stem():
    model = build(ResNetSpec(input_size=32), seed=0)  # resnet18
    paths = find_layers(trace(model))
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert [p.name for p in paths] == convs  # fc (the classifier) is not a layer
    assert [p.name for p in paths if p.reads_input] == ["conv1"]
    residual = {p.name for p in paths if p.residual}
    assert residual == {n for n in convs if n.endswith("conv2") or n.endswith("downsample.0")}
    assert all(type(p.activation) is nn.ReLU and isinstance(p.norm, nn.BatchNorm2d) for p in paths)


def test_bottleneck_resnet_last_conv_sees_the_identity_add():
    spec = ResNetSpec(block="bottleneck", layers=(1, 1, 1, 1), width_per_group=16, num_classes=10, input_size=32)
    model = _model(spec)
    x = _images(1)
    block = model.layer3[0]
    ours = _measure(model, x, ["layer3.0.conv3"], positions=3, seed=5)["layer3.0.conv3"]
    assert len(ours.positions) == 3 and len(set(ours.positions.tolist())) == 3
    seen = _seen(model, x, pre=["layer3.0", "layer3.0.conv3"])
    shortcut = block.downsample(seen[("in", "layer3.0")])
    _assert_rows_match(ours, lambda u, b: F.relu(block.bn3(block.conv3(u)) + shortcut[b:b + 1]),
                       seen[("in", "layer3.0.conv3")])


def test_mobilenet_depthwise_and_linear_bottleneck_equal_autograd():
    model = _model(SMALL_MOBILENET)
    x = _images()
    strided_dw, dw, project = "features.4.conv.1.0", "features.3.conv.1.0", "features.3.conv.2"
    ours = _measure(model, x, [dw, project, strided_dw])
    seen = _seen(model, x, pre=[dw, project, strided_dw, "features.3"])
    for name in (dw, strided_dw):  # depthwise 3x3 -> BN -> ReLU6 (groups = channels)
        unit = model.get_submodule(name[:-2])
        assert unit[0].groups == unit[0].in_channels > 1
        _assert_rows_match(ours[name], lambda u, b, unit=unit: F.relu6(unit[1](unit[0](u))), seen[("in", name)])
    # The projection: 1x1 conv -> BN -> + block input (fixed), no activation (D = I).
    block, block_in = model.features[3], seen[("in", "features.3")]
    assert block.use_res_connect
    _assert_rows_match(ours[project], lambda u, b: block_in[b:b + 1] + block.conv[3](block.conv[2](u)),
                       seen[("in", project)])
    paths = {p.name: p for p in find_layers(trace(model))}
    assert paths[project].activation is None and paths[project].residual
    assert type(paths[dw].activation) is nn.ReLU6 and not paths[dw].residual
    assert "classifier.1" not in paths


def test_vgg_convs_equal_autograd():
    model = build(VGGSpec(config="A", batch_norm=True, num_classes=10, input_size=32), seed=0)
    paths = [p.name for p in find_layers(trace(model))]
    assert paths[-2:] == ["classifier.0", "classifier.3"]  # hidden linears in, the last one out
    # The convs are under test here: a small head spares a 1 GB float64 copy of the 25088x4096 one.
    model.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4), nn.ReLU(), nn.Linear(4, 10))
    model = _model_from(model)
    x = _images(1)
    names = ["features.25"]  # 512 channels at 2x2: every position meets the padding
    ours = _measure(model, x, names, positions=1, seed=2)
    seen = _seen(model, x, pre=names)
    for name in names:
        k = int(name.split(".")[1])
        conv, bn = model.features[k], model.features[k + 1]
        _assert_rows_match(ours[name], lambda u, b, conv=conv, bn=bn: F.relu(bn(conv(u))), seen[("in", name)])


def test_densenet_pre_activation_layers_equal_autograd():
    model = _model(SMALL_DENSENET)
    x = _images()
    layer = "features.denseblock2.denselayer2"
    names = [f"{layer}.conv1", f"{layer}.conv2", "features.transition2.conv"]
    ours = _measure(model, x, names)
    seen = _seen(model, x, pre=names)
    dense = model.get_submodule(layer)
    # conv1 -> the norm2 and relu2 its output feeds.
    _assert_rows_match(ours[names[0]], lambda u, b: F.relu(dense.norm2(dense.conv1(u))), seen[("in", names[0])])
    # conv2 and the transition conv feed a concat / a pool, no activation: D = I.
    _assert_rows_match(ours[names[1]], lambda u, b: dense.conv2(u), seen[("in", names[1])])
    trans = model.features.transition2.conv
    _assert_rows_match(ours[names[2]], lambda u, b: trans(u), seen[("in", names[2])])
    paths = {p.name: p for p in find_layers(trace(model))}
    assert paths[names[1]].activation is None and paths[names[1]].norm is None
    assert type(paths[names[0]].activation) is nn.ReLU and paths[names[0]].norm is dense.norm2


def test_hidden_linear_layers_are_exact_and_the_classifier_is_left_out():
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.Tanh(), nn.Linear(6, 9), nn.ReLU6(),
                          nn.Linear(9, 3)).double()
    x = torch.randn(3, 2, 6, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 4
    spectra = traced_spectra(model, x, include_input_layer=True)
    assert [s.name for s in spectra] == ["1", "3"]
    hidden = torch.tanh(model[1](x.flatten(1)))
    cases = ((spectra[0], model[1], torch.tanh, x.flatten(1)), (spectra[1], model[3], F.relu6, hidden))
    for s, lin, act, inputs in cases:
        for b in range(3):
            ref = torch.linalg.svdvals(jacobian(lambda u: act(lin(u)), inputs[b]))
            assert torch.allclose(s.flat().view(3, -1)[b], ref, atol=1e-10)
    assert spectra[1].flat().numel() == 3 * 6  # a 9x6 Jacobian has 6 singular values


def test_dilated_grouped_strided_conv_equals_autograd():
    # 4 groups of 1 input -> 3 output channels, 3x3 dilated 2, stride 2, padding 3: 7x7 -> 5x5.
    model = _model_from(nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(4, 12, 3, stride=2, padding=3, dilation=2, groups=4),
                                      nn.BatchNorm2d(12), nn.LeakyReLU(0.1), nn.Flatten(), nn.Linear(12 * 25, 3)))
    x = torch.randn(2, 2, 7, 7, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    ours = _measure(model, x, ["2"])["2"]
    # Corner (0, 0) reads rows/cols -3, -1, 1: one valid tap, so each group's 3x1 block has rank 1.
    assert ours.counts[0] == 4 * 1 and ours.counts[12] == 4 * 3  # the centre (2, 2): all taps valid
    conv, bn = model.eval()[2], model[3]
    _assert_rows_match(ours, lambda u, b: F.leaky_relu(bn(conv(u)), 0.1), model[1](model[0](x)).detach())


def test_a_conv_into_an_unknown_activation_is_refused_by_name():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Hardswish(), nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(UsageError, match=r"layer 0: .*module 1 \(Hardswish\)"):
        traced_spectra(model, torch.randn(1, 3, 3, 3), include_input_layer=True)


def test_relu6_derivative_matches_autograd_at_the_kinks():
    h = torch.tensor([-1.0, 0.0, 0.5, 5.9, 6.0, 7.0], dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(F.relu6(h).sum(), h)
    assert torch.equal(activation_derivative(nn.ReLU6())(h.detach()), grad)
    assert grad.tolist() == [0, 0, 1, 1, 0, 0]


def test_unknown_layer_name_is_refused():
    with pytest.raises(UsageError, match="no measured layer named nope"):
        traced_spectra(build(SMALL_DENSENET), _images(1).float(), layers=["nope"])


def test_cli_ldi_resnet18_json(capsys):
    code = main(["ldi", "resnet18", "--set", "input_size=32", "--batch", "2", "--positions", "2", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    d = json.loads(out)
    assert {"mean", "std", "nn_mass", "layers"} <= set(d)
    spec = ResNetSpec(input_size=32)
    assert d["nn_mass"] == pytest.approx(spec_mass(spec))
    assert len(d["layers"]) == 19 and d["layers"][0]["name"] == "layer1.0.conv1"  # 20 convs less the stem
    # The same numbers through the library: weights and inputs from seed 0, positions from seed 0.
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    report = nnmass.ldi.measure(build(spec, seed=0), x, positions=2, generator=torch.Generator().manual_seed(0))
    assert d["mean"] == pytest.approx(report.mean, rel=1e-6) and d["count"] == report.count
    assert report.method == "cnn-positions" and report.position_seed == 0
