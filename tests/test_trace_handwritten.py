"""Hand-written models in several coding styles: traced NN-Mass equals the mass
worked out by hand from the rule in nnmass.topology.

Rule, for a cell with node widths w_0..w_L: possible = sum_{i=2}^{L} sum_{j<=i-2} w_j;
density = actual / possible; volume = sum_j w_j (concatenation) or
sum_{j<L} w_j (addition); mass = volume * density.
"""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nnmass.mass import UnclassifiedError, measure
from nnmass.trace import trace_graph


class LoopConcat(nn.Module):
    """DenseNet style: a loop over a list, each layer reading the last two features."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.layers = nn.ModuleList(nn.Conv2d(c, 2, 3, padding=1) for c in (4, 6, 4))
        self.head = nn.Linear(4 + 2 + 2 + 2, 5)

    def forward(self, x):
        feats = [torch.relu(self.stem(x))]
        for layer in self.layers:
            feats.append(torch.relu(layer(torch.cat(feats[-2:], 1))))
        # The head reads every feature after global pooling: another resolution, an exit.
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(torch.cat(feats, 1), 1), 1))


# Nodes x0..x3, widths (4, 2, 2, 2). Layer 2 reads x1 + skip x0 (4 channels);
# layer 3 reads x2 + skip x1 (2). actual = 6; possible = w0 + (w0 + w1) = 4 + 6 = 10;
# volume = 4 + 2 + 2 + 2 = 10; mass = 10 * 6 / 10 = 6.
LOOP_CONCAT_MASS = 6.0


class SliceConcat(nn.Module):
    """An MLP with explicit torch.cat of slices (overlapping slices count once)."""

    def __init__(self):
        super().__init__()
        self.l0, self.l1 = nn.Linear(5, 4), nn.Linear(4, 4)
        self.l2, self.l3 = nn.Linear(4 + 3, 4), nn.Linear(4 + 2 + 2 + 2, 4)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        h0 = torch.relu(self.l0(x))
        h1 = torch.relu(self.l1(h0))
        h2 = torch.relu(self.l2(torch.cat([h1, h0[:, :3]], dim=1)))
        h3 = torch.relu(self.l3(torch.cat([h2, h0[:, 1:3], h0[:, 2:4], h1[:, 2:]], dim=1)))
        return self.out(h3)


# Nodes h0..h3, width 4 each. Skips: layer 2 gets h0 channels {0,1,2} (3); layer 3 gets
# h0 {1,2} u {2,3} = {1,2,3} (3) and h1 {2,3} (2). actual = 3 + 3 + 2 = 8;
# possible = 4 + 8 = 12; volume = 16; mass = 16 * 8 / 12.
SLICE_CONCAT_MASS = 16 * 8 / 12


class Basic(nn.Module):
    """A residual block written by hand, with an optional projection shortcut."""

    def __init__(self, c_in, inner, c_out, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, inner, 3, stride, 1)
        self.conv2 = nn.Conv2d(inner, c_out, 3, 1, 1)
        self.proj = nn.Conv2d(c_in, c_out, 1, stride) if stride != 1 or c_in != c_out else None

    def forward(self, x):
        out = self.conv2(torch.relu(self.conv1(x)))
        shortcut = x if self.proj is None else self.proj(x)
        return torch.relu(out + shortcut)


class Bottleneck(nn.Module):
    def __init__(self, c, b):
        super().__init__()
        self.a, self.b, self.c = nn.Conv2d(c, b, 1), nn.Conv2d(b, b, 3, padding=1), nn.Conv2d(b, c, 1)

    def forward(self, x):
        y = self.c(torch.relu(self.b(torch.relu(self.a(x)))))
        y += x
        return torch.relu(y)


class CustomResidual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.ModuleList([Basic(8, 4, 8), Basic(8, 6, 8), Basic(8, 16, 16, stride=2), Bottleneck(16, 4)])

    def forward(self, x):
        x = torch.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return x.mean((2, 3))


# Basic(8,4,8): widths (8,4,8), actual 8, possible w0 = 8, ic = 8 + 4 = 12, mass 12.
# Basic(8,6,8): ic = 14, mass 14. Bottleneck(16,4): widths (16,4,4,16), actual 16,
# possible 16 + (16 + 4) = 36, ic = 24, mass 24 * 16 / 36.
# The projection block (8 -> 16, stride 2) counts only with shortcuts="all":
# widths (8,16,16), actual min(8,16) = 8, possible 8, ic = 24, mass 24.
CUSTOM_IDENTITY_MASS = 12 + 14 + 24 * 16 / 36
CUSTOM_ALL_MASS = CUSTOM_IDENTITY_MASS + 24


class Residual(nn.Module):
    def __init__(self, body):
        super().__init__()
        self.body = body

    def forward(self, x):
        return x + self.body(x)


def sequential_model():
    """nn.Sequential stacks: a plain VGG-like part, then a residual around a Sequential."""
    body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 1))
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), Residual(body), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 3))


# Residual around 3 convs: widths (8,8,8,8), actual 8, possible 8 + 16 = 24, ic = 24, mass 8.
SEQUENTIAL_MASS = 8.0


class ChannelsLastBlock(nn.Module):
    """ConvNeXt style: a residual MLP on channels-last tensors (features along the last dim)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 7, padding=3, groups=8)
        self.norm, self.fc1, self.fc2 = nn.LayerNorm(8), nn.Linear(8, 32), nn.Linear(32, 8)

    def forward(self, x):
        x = self.stem(x)
        y = self.norm(self.dw(x).permute(0, 2, 3, 1))
        y = self.fc2(nn.functional.gelu(self.fc1(y)))
        return x + y.permute(0, 3, 1, 2)


# The depthwise conv and fc1 have no activation between them: one linear operator,
# one layer. Nodes (8, 32, 8), actual 8, possible 8, ic = 8 + 32 = 40: mass 40.
CHANNELS_LAST_MASS = 40.0


class TwoResolutions(nn.Module):
    """Two concatenation cells; a stride-2 transition reads the first cell's whole output."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.a = nn.ModuleList(nn.Conv2d(4 + 3 * i, 3, 3, padding=1) for i in range(3))
        self.trans = nn.Conv2d(4 + 9, 6, 3, stride=2, padding=1)
        self.b = nn.ModuleList(nn.Conv2d(6 + 2 * i, 2, 3, padding=1) for i in range(2))

    def forward(self, x):
        feats = [torch.relu(self.stem(x))]
        for conv in self.a:
            feats.append(torch.relu(conv(torch.cat(feats, 1))))
        feats = [torch.relu(self.trans(torch.cat(feats, 1)))]
        for conv in self.b:
            feats.append(torch.relu(conv(torch.cat(feats, 1))))
        return torch.cat(feats, 1)


# Cell A: widths (4,3,3,3), full concatenation: actual = possible = 4 + (4 + 3) = 11,
# density 1, mass = 4 + 3 + 3 + 3 = 13. The transition (another resolution) is not in it.
# Cell B: widths (6,2,2): actual = possible = 6, mass = 6 + 2 + 2 = 10.
TWO_RESOLUTION_MASSES = [13.0, 10.0]


class DataDependent(nn.Module):
    """fx cannot trace a branch on a tensor's value; the recorder follows the path taken."""

    def __init__(self):
        super().__init__()
        self.l0, self.l1, self.l2 = nn.Linear(3, 4), nn.Linear(4, 4), nn.Linear(4 + 4, 4)
        self.alt = nn.Linear(4, 4)

    def forward(self, x):
        h0 = torch.relu(self.l0(x))
        h1 = torch.relu(self.l1(h0) if h0.sum() >= 0 else self.alt(h0))
        return self.l2(torch.cat([h1, h0], 1))


# Widths (4,4,4), actual 4, possible 4, density 1, volume 12: mass 12.
DATA_DEPENDENT_MASS = 12.0

CASES = [(LoopConcat, (1, 3, 8, 8), LOOP_CONCAT_MASS, "concat"),
         (SliceConcat, (1, 5), SLICE_CONCAT_MASS, "concat"),
         (CustomResidual, (1, 3, 8, 8), CUSTOM_ALL_MASS, "add"),
         (sequential_model, (1, 3, 8, 8), SEQUENTIAL_MASS, "add"),
         (ChannelsLastBlock, (1, 3, 8, 8), CHANNELS_LAST_MASS, "add")]


@pytest.mark.parametrize("make,shape,mass,kind", CASES, ids=lambda v: getattr(v, "__name__", None))
@pytest.mark.parametrize("tracer", ["fx", "record"])
def test_hand_written_masses(make, shape, mass, kind, tracer):
    report = measure(make(), torch.randn(shape, generator=torch.Generator().manual_seed(0)), method=tracer)
    assert report.nn_mass == pytest.approx(mass)
    assert {c.kind for c in report.cells} == {kind}
    assert report.unclassified == []


def test_projection_shortcuts_count_unless_identity_only_is_asked():
    x = torch.zeros(1, 3, 8, 8)
    cells = measure(CustomResidual(), x).cells
    assert sum(c.mass for c in cells) == pytest.approx(CUSTOM_ALL_MASS)
    assert [c.widths for c in cells] == [(8, 4, 8), (8, 6, 8), (8, 16, 16), (16, 4, 4, 16)]
    identity = measure(CustomResidual(), x, shortcuts="identity").cells
    assert sum(c.mass for c in identity) == pytest.approx(CUSTOM_IDENTITY_MASS)


def test_cells_split_where_the_resolution_changes():
    report = measure(TwoResolutions(), torch.zeros(1, 3, 8, 8))
    assert [c.mass for c in report.cells] == pytest.approx(TWO_RESOLUTION_MASSES)
    assert [c.widths for c in report.cells] == [(4, 3, 3, 3), (6, 2, 2)]
    assert [i["first"] for i in report.cell_info] == ["stem", "trans"]


def test_fallback_tracer_on_data_dependent_control_flow():
    model, x = DataDependent(), torch.ones(2, 3)
    with pytest.raises(Exception):
        trace_graph(model, x, method="fx")
    graph, _ = trace_graph(model, x)  # auto: fx fails, the recorder takes over
    assert graph.method == "record"
    assert measure(model, x).nn_mass == pytest.approx(DATA_DEPENDENT_MASS)


def test_recorder_leaves_the_model_as_it_was():
    model = sequential_model().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    measure(model, torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(1)), method="record")
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN statistics too


class PooledSkip(nn.Module):
    """An early map, max-pooled to a later layer's resolution and concatenated into its input."""

    def __init__(self):
        super().__init__()
        self.c0, self.c1 = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.c2, self.c3 = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(8, 4, 3, padding=1)

    def forward(self, x):
        x0 = torch.relu(self.c0(x))
        x2 = torch.relu(self.c2(torch.relu(self.c1(x0))))
        return self.c3(torch.cat([x2, nn.functional.max_pool2d(x0, 2)], 1))


def test_concatenation_across_resolutions_ends_the_cell():
    # As a DenseNet transition: c3 reads c0's map at another resolution, no link.
    report = measure(PooledSkip(), torch.zeros(1, 3, 8, 8))
    assert report.unclassified == [] and report.cells == []


class PooledSameResolution(nn.Module):
    """An early map, average-pooled 3x3 at stride 1 (no layer), concatenated two layers on."""

    def __init__(self):
        super().__init__()
        self.c0, self.c1 = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)
        self.c2, self.c3 = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(8, 4, 3, padding=1)

    def forward(self, x):
        x0 = torch.relu(self.c0(x))
        x2 = torch.relu(self.c2(torch.relu(self.c1(x0))))
        return self.c3(torch.cat([x2, nn.functional.avg_pool2d(x0, 3, 1, 1)], 1))


def test_a_pooled_link_counts_unless_pool_links_is_off():
    # c0 -> c1 -> c2 -> c3 on the main path (widths 4); c0's output, pooled (no layer),
    # reaches c3: a link of 4 channels over 3 levels. Eq. 1 on nodes (4, 4, 4, 4): possible
    # 4 + (4 + 4) = 12, actual 4; concatenation, so the volume is all 16 neurons: m = 16 / 3.
    report = measure(PooledSameResolution(), torch.zeros(1, 3, 8, 8))
    (cell,) = report.cells
    assert (cell.kind, cell.widths, cell.actual, cell.possible) == ("concat", (4, 4, 4, 4), 4, 12)
    assert report.nn_mass == pytest.approx(16 / 3)
    without = measure(PooledSameResolution(), torch.zeros(1, 3, 8, 8), pool_links=False)
    assert without.cells == [] and without.nn_mass == 0


class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Conv2d(8, 8, 1)
        self.block = Basic(8, 4, 8)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = x * torch.sigmoid(self.fc(x.mean((2, 3), keepdim=True)))  # two feature maps multiplied
        return self.block(x)


def test_a_squeeze_excitation_gate_passes_the_gated_map_through():
    # The gate (mean -> 1x1 conv -> sigmoid, one value per channel) steers channels and
    # delivers none: what counts is the residual block (8, 4, 8), m = 8 + 4.
    for tracer in ("fx", "record"):
        report = measure(SqueezeExcite(), torch.zeros(1, 3, 8, 8), method=tracer)
        assert report.unclassified == [] and report.nn_mass == pytest.approx(12.0)


class FeatureProduct(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(3, 8, 3, padding=1)
        self.block = Basic(8, 4, 8)

    def forward(self, x):
        return self.block(self.a(x) * torch.sigmoid(self.b(x)))  # two feature maps multiplied


def test_unsupported_construct_is_named():
    with pytest.raises(UnclassifiedError, match=r"\bmul\b") as err:
        measure(FeatureProduct(), torch.zeros(1, 3, 8, 8))
    assert err.value.report.unclassified == ["mul"]
    report = measure(FeatureProduct(), torch.zeros(1, 3, 8, 8), allow_unclassified=True)
    assert report.nn_mass == pytest.approx(12.0)  # the residual block (8,4,8) still counts


def test_measure_is_exported_lazily():
    import nnmass
    from nnmass.mass.report import MassReport
    report = nnmass.measure(sequential_model(), torch.zeros(1, 3, 8, 8))
    assert isinstance(report, MassReport) and report.nn_mass == pytest.approx(SEQUENTIAL_MASS)


class CountingNorm(nn.BatchNorm2d):
    """A BatchNorm subclass (as timm's BatchNormAct2d) that fx traces into: its in-place
    update of num_batches_tracked involves no proxy, so tracing would run it for real."""

    def forward(self, x):
        if self.training:
            self.num_batches_tracked.add_(1)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                            self.momentum, self.eps)


def test_tracing_leaves_every_buffer_as_it_was():
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), CountingNorm(4), nn.ReLU()).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    for tracer in ("fx", "record"):
        measure(model, torch.randn(2, 3, 8, 8), method=tracer)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert model.training
