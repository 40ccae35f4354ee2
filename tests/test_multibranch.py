"""NN-Mass of networks whose cells add or concatenate several branches: NAS-Bench-201,
DARTS-style cells, and the torchvision and timm models that used to be refused."""
import random

import pytest
import torch
import torchvision.models as tvm
from torch import nn

from nnmass.mass import measure
from nnmass.mass.nb201 import nb201_report
from nnmass.models.nb201 import OPS, build_nb201, format_arch
from nnmass.studies.nb201_data import load_nb201_sample

from darts_cells import DARTS_V2, DartsNetwork, random_genotype


def cells_of(report):
    return [(c.kind, c.widths, c.actual) for c in report.cells]


def test_nb201_layer_graph_written_out_equals_the_trace():
    rng = random.Random(7)
    archs = [format_arch(tuple(rng.choice(OPS) for _ in range(6))) for _ in range(12)]
    for arch in archs + ["|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"]:
        model = build_nb201(arch, num_classes=120, C=8, N=2)
        for side in (32, 16):
            x = torch.zeros(1, 3, side, side)
            written, traced = measure(model, x), measure(model, x, method="fx")
            assert written.method == traced.method == "graph"
            assert cells_of(written) == cells_of(traced) and written.nn_mass == traced.nn_mass
            assert written.macs == traced.macs and written.layers == traced.layers


def test_every_nb201_network_of_the_sample_is_measured():
    archs = sorted({row["arch"] for row in load_nb201_sample("cifar10")})
    assert len(archs) == 725
    reports = [nb201_report(a) for a in archs]
    assert all(r.unclassified == [] for r in reports)
    masses = {r.nn_mass for r in reports}
    # Every normal cell's mass is a multiple of C in its stage, plus the reduction blocks' 144.
    assert len(masses) > 4 and all(((m - 144) / 16) % 1 == 0 for m in masses)


def test_the_none_edge_is_no_skip_and_the_chain_of_convs_has_no_cell():
    # |conv~0|+|none~0|conv~1|+|none~0|none~1|conv~2|: a plain chain of three convs in every
    # cell. Only the two reduction blocks (ResNet basic blocks with a projection) are cells:
    # 16 + 32 and 32 + 64 (in + inner, as for ResNet's projection blocks).
    chain = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|"
    report = measure(build_nb201(chain), torch.zeros(1, 3, 32, 32))
    assert report.nn_mass == (16 + 32) + (32 + 64) and len(report.cells) == 2


class Chain(nn.Module):
    """Three convs in a row; ``zeros`` adds the products with zero that NB201's none edges are."""

    def __init__(self, zeros: bool):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(4, 4, 3, padding=1) for _ in range(3))
        self.zeros = zeros

    def forward(self, x):
        a = self.convs[0](torch.relu(x))
        b = self.convs[1](torch.relu(a)) + (x.mul(0.) if self.zeros else 0)
        c = self.convs[2](torch.relu(b)) + (x.mul(0.) + a.mul(0.) if self.zeros else 0)
        return c


@pytest.mark.parametrize("tracer", ["fx", "record"])
def test_a_product_with_zero_connects_nothing(tracer):
    x = torch.zeros(1, 4, 8, 8)
    with_zeros, plain = measure(Chain(True), x, method=tracer), measure(Chain(False), x, method=tracer)
    assert with_zeros.nn_mass == plain.nn_mass == 0 and with_zeros.cells == [] == plain.cells


class PooledProjection(nn.Module):
    """A basic block whose shortcut is average pooling then a 1x1 conv (ResNet-D, NB201)."""

    def __init__(self, pooled: bool):
        super().__init__()
        self.a, self.b = nn.Conv2d(8, 16, 3, 2, 1), nn.Conv2d(16, 16, 3, 1, 1)
        self.shortcut = (nn.Sequential(nn.AvgPool2d(2), nn.Conv2d(8, 16, 1)) if pooled
                         else nn.Conv2d(8, 16, 1, stride=2))

    def forward(self, x):
        return self.shortcut(x) + self.b(torch.relu(self.a(x)))


def test_a_pooled_projection_shortcut_is_a_projection():
    # Pooling is no layer: both shortcuts deliver min(8, 16) = 8 channels over one layer;
    # nodes (8, 16, 16): m = (8 + 16) * 8 / 8 = 24.
    x = torch.zeros(1, 8, 8, 8)
    pooled, plain = measure(PooledProjection(True), x), measure(PooledProjection(False), x)
    assert cells_of(pooled) == cells_of(plain) == [("add", (8, 16, 16), 8)]
    assert pooled.nn_mass == plain.nn_mass == 24


def test_darts_cells_are_measured():
    rng = random.Random(0)
    for genotype in [DARTS_V2] + [random_genotype(rng) for _ in range(12)]:
        report = measure(DartsNetwork(genotype), torch.zeros(1, 3, 16, 16))
        assert report.unclassified == [] and report.nn_mass >= 0
    model = DartsNetwork(DARTS_V2)
    x = torch.zeros(1, 3, 16, 16)
    assert cells_of(measure(model, x, method="fx")) == cells_of(measure(model, x, method="record"))
    assert measure(model, x).nn_mass > 0


@pytest.mark.parametrize("name,size", [("inception_v3", 299), ("googlenet", 224), ("efficientnet_b0", 224),
                                       ("mnasnet1_0", 224), ("shufflenet_v2_x1_0", 224), ("regnet_y_400mf", 224)])
def test_torchvision_models_refused_before_are_measured(name, size):
    kwargs = {"aux_logits": False, "init_weights": False} if name in ("inception_v3", "googlenet") else {}
    device = "cpu" if name.startswith("regnet") else "meta"  # RegNet's builder reads tensor values
    with torch.device(device):
        model = tvm.get_model(name, weights=None, **kwargs)
    report = measure(model.eval(), torch.zeros(1, 3, size, size, device=device))
    assert report.unclassified == [] and report.nn_mass > 0


def test_timm_models_refused_before_are_measured():
    timm = pytest.importorskip("timm")
    x = torch.zeros(1, 3, 64, 64)
    for name in ("dla34", "efficientnet_b0"):
        report = measure(timm.create_model(name, pretrained=False).eval(), x)
        assert report.unclassified == [] and report.nn_mass > 0
    # ResNet-D's average-pooled projections are projections: the same cells as ResNet's.
    for d, plain in (("resnet18d", "resnet18"), ("resnet50d", "resnet50")):
        ours = measure(timm.create_model(d, pretrained=False).eval(), x)
        theirs = measure(tvm.get_model(plain, weights=None).eval(), x)
        assert cells_of(ours) == cells_of(theirs)
