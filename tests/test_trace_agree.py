"""Traced-graph NN-Mass equals the closed form (nnmass.mass.closed_form) for every builder."""
import subprocess
import sys

import pytest
import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

from nnmass.mass.cells import degree_stats, find_cells
from nnmass.errors import UsageError
from nnmass.families import spec_for
from nnmass.mass.closed_form import spec_cells
from nnmass.mass.graph import LayerGraph
from nnmass.models import build, example_input
from nnmass.topology import dense_mass, total_mass
from nnmass.mass import measure
from nnmass.trace import trace_graph


def assert_same_cells(found_cells, spec):
    """Total mass equal; per cell (those with a skip) equal widths, skips, density and mass.

    The closed form also lists cells without any skip (density 0); a graph has no
    cell where no skip crosses, so those are compared through the total only.
    """
    formula = spec_cells(spec)
    assert total_mass(found_cells) == pytest.approx(total_mass(formula), rel=1e-12, abs=1e-12)
    expected = [c for c in formula if c.actual > 0]
    assert len(found_cells) == len(expected)
    for got, want in zip(found_cells, expected):
        assert (got.kind, got.widths, got.actual) == (want.kind, want.widths, want.actual)
        assert got.density == pytest.approx(want.density)
        assert got.mass == pytest.approx(want.mass)


DENSE_MLP = [dict(width=8, depth=16, tc=10), dict(width=4, depth=5, tc=0), dict(width=3, depth=6, tc=100),
             dict(width=2, depth=3, tc=1), dict(width=4, depth=2, tc=5), dict(width=5, depth=9, tc=7)]


@pytest.mark.parametrize("layout", ["official", "hidden"])
@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("cfg", DENSE_MLP, ids=lambda c: "w{width}d{depth}tc{tc}".format(**c))
def test_dense_mlp_graph_equals_formula(cfg, seed, layout):
    spec = spec_for("dense-mlp", dict(cfg, seed=seed, input_dim=12, layout=layout))
    report = measure(build(spec, seed=0), example_input(spec))
    assert_same_cells(report.cells, spec)
    # Independent count: the skip columns of every layer's weight matrix (the
    # classifier is a layer of the cell in the official layout).
    model = build(spec, seed=0)
    layers = list(model.layers[1:]) + ([model.classifier] if layout == "official" else [])
    skip_columns = sum(layer.weight.shape[1] - spec.width for layer in layers)
    assert sum(c.actual for c in report.cells) == skip_columns


def test_official_cnn_trace_ends_the_last_cell_at_its_classifier():
    # layout=official: the last conv of the last cell feeds AvgPool(2) -> flatten -> Linear with
    # no activation between, so the trace reads conv + classifier as one linear operator
    # (the convention of nnmass.mass.layers). That operator reads the cell's concatenation at
    # another resolution: it is the cell's exit, not its last node. Every other cell equals the
    # closed form, which counts the last conv in its cell as the authors do.
    spec = spec_for("dense-cnn", dict(depth=(4, 4, 4), tc=(8, 8, 8), wm=1, layout="official", input_size=32))
    traced = measure(build(spec), example_input(spec, 1)).cells
    closed = spec_cells(spec)
    assert [c.widths for c in traced[:2]] == [c.widths for c in closed[:2]]
    assert [c.mass for c in traced[:2]] == pytest.approx([c.mass for c in closed[:2]])
    assert closed[2].widths == (64, 64, 64, 64) and traced[2].widths == (64, 64, 64)
    # Eq. 2 on the three remaining nodes: layer 2 reads tc = 8 channels of node 0 of 64 possible.
    assert (traced[2].actual, traced[2].possible, traced[2].mass) == (8, 64, 64 * 3 * 8 / 64)


def test_dense_mlp_paper_fact():
    spec = spec_for("dense-mlp", dict(width=8, depth=16, tc=10))
    report = measure(build(spec), example_input(spec))
    assert report.nn_mass == pytest.approx(21.0286, abs=5e-5)
    assert report.nn_mass == pytest.approx(dense_mass(16, 8, 10))


DENSE_CNN = [dict(depth=(4, 3, 5), tc=(6, 0, 1000), wm=0.5), dict(depth=(3,), num_cells=1, tc=(2,), wm=0.25),
             dict(depth=(6, 6), num_cells=2, tc=(5, 12), wm=0.5)]


@pytest.mark.parametrize("conv", ["regular", "separable"])
@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("cfg", DENSE_CNN, ids=["3cells-tc0-tcbig", "1cell", "2cells"])
def test_dense_cnn_graph_equals_formula(cfg, seed, conv):
    spec = spec_for("dense-cnn", dict(cfg, seed=seed, conv=conv, input_size=8))
    graph, _ = trace_graph(build(spec), example_input(spec), method="fx")
    found = find_cells(graph)
    assert not found.unclassified
    assert_same_cells(found.cells, spec)


@pytest.mark.parametrize("width", [0.35, 0.5, 0.75, 1.0, 1.4])
def test_torchvision_mobilenet_v2(width):
    with torch.device("meta"):  # topology only: skip the weight init
        model = torchvision.models.mobilenet_v2(width_mult=width)
    graph, _ = trace_graph(model, torch.zeros(1, 3, 64, 64), method="fx")
    found = find_cells(graph)
    assert not found.unclassified
    assert_same_cells(found.cells, spec_for("mobilenet_v2", {"width_mult": width}))


def test_mobilenet_v2_paper_table2():
    with torch.device("meta"):
        model = torchvision.models.mobilenet_v2(width_mult=1.4)
    report = measure(model, torch.zeros(1, 3, 64, 64))
    assert round(report.nn_mass) == 1807


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "wide_resnet50_2"])
def test_torchvision_resnets_both_shortcut_rules(name):
    with torch.device("meta"):
        model = torchvision.models.get_model(name)
    graph, _ = trace_graph(model, torch.zeros(1, 3, 64, 64), method="fx")
    for shortcuts in ("identity", "all"):
        found = find_cells(graph, shortcuts)
        assert not found.unclassified
        assert_same_cells(found.cells, spec_for(name, {"shortcuts": shortcuts}))


@pytest.mark.parametrize("name,widen", [("wrn18", 1.5), ("wrn34", 2.0), ("wrn18", 0.5)])
def test_widened_basic_resnets_trace_to_their_spec(name, widen):
    spec = spec_for(name, {"widen": widen})
    with torch.device("meta"):
        model = build(spec)
    assert model.layer1[0].conv1.out_channels == int(64 * widen) and model.conv1.out_channels == 64
    graph, _ = trace_graph(model, torch.zeros(1, 3, 64, 64), method="fx")
    for shortcuts in ("identity", "all"):
        found = find_cells(graph, shortcuts)
        assert not found.unclassified
        assert_same_cells(found.cells, spec_for(name, {"widen": widen, "shortcuts": shortcuts}))


@pytest.mark.parametrize("sets,problem", [({"widen": 1.01}, "64 x widen an integer"),
                                          ({"widen": 0}, "widen"), ({"widen": 2, "block": "bottleneck"},
                                                                      "width_per_group")])
def test_widen_refuses_what_it_cannot_build(sets, problem):
    with pytest.raises(UsageError, match=problem):
        spec_for("wrn18", sets)


def test_torchvision_densenet121_and_degree():
    with torch.device("meta"):
        model = torchvision.models.densenet121()
    graph, _ = trace_graph(model, torch.zeros(1, 3, 64, 64), method="fx")
    found = find_cells(graph)
    assert not found.unclassified
    assert_same_cells(found.cells, spec_for("densenet121"))
    # Every transition, and the global pool + classifier (one linear operator), read a
    # whole block at another resolution.
    exit_readers = {found.units.units[sk.target].name for sk in found.exits}
    assert exit_readers == {"features.transition1.conv", "features.transition2.conv",
                            "features.transition3.conv", "adaptive_avg_pool2d"}
    # Block 1: nodes 64, 32 x 6, full density. Edges into dense layer i: (64 + 32 (i-1)) x 32.
    deg = degree_stats(graph, found)
    edges = sum((64 + 32 * (i - 1)) * 32 for i in range(1, 7))
    assert deg["edges"] == edges and deg["nodes"] == 64 + 6 * 32
    assert deg["empirical"] == pytest.approx(edges / 256)
    assert deg["prop1"] == pytest.approx(64 + 256 / 2)


def test_vgg16_has_no_cells():
    with torch.device("meta"):
        model = torchvision.models.vgg16()
    report = measure(model, torch.zeros(1, 3, 64, 64))
    assert report.cells == [] and report.nn_mass == 0.0
    assert report.layers == 16
    assert report.params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name,sets,shape", [("resnet18", {}, (1, 3, 32, 32)),
                                             ("dense-cnn", {"wm": 0.5, "input_size": 16}, None),
                                             ("densenet121", {"growth_rate": 8, "block_config": "2,3,2,2",
                                                              "num_init_features": 16}, (1, 3, 32, 32))])
def test_macs_match_a_real_forward_pass(name, sets, shape):
    spec = spec_for(name, sets)
    model = build(spec, seed=0).eval()  # eval: batch-1 BN at 1x1 resolution
    x = example_input(spec) if shape is None else torch.zeros(shape)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x)
    report = measure(model, x)
    assert report.macs == counter.get_total_flops() // 2
    assert report.params == sum(p.numel() for p in model.parameters())


def test_degree_of_a_dense_mlp_against_its_weights():
    spec = spec_for("dense-mlp", dict(width=8, depth=16, tc=10, input_dim=6, layout="hidden"))
    model = build(spec)
    report = measure(model, example_input(spec))
    deg = report.degree
    # One edge per weight of layers 1..d-1 (layer 0's inputs are outside the cell).
    edges = sum(layer.weight.numel() for layer in model.layers[1:])
    assert edges == 15 * 64 + 8 * 138  # (d-1) w^2 + w * sum_i t_i, with sum_i t_i = 8 + 13 * 10
    assert deg["edges"] == edges and deg["nodes"] == 16 * 8
    assert deg["empirical"] == pytest.approx(edges / 128)  # 16.125
    assert deg["prop1"] == pytest.approx(8 + dense_mass(16, 8, 10) / 2)
    hist = {float(k): v for k, v in deg["histogram"].items()}
    assert sum(hist.values()) == 128
    assert sum(k * v for k, v in hist.items()) == pytest.approx(2 * edges)


def test_graph_round_trips_through_json():
    spec = spec_for("dense-mlp", dict(width=4, depth=7, tc=5))
    graph, _ = trace_graph(build(spec), example_input(spec))
    again = LayerGraph.from_dict(graph.to_dict())
    assert total_mass(find_cells(again).cells) == total_mass(find_cells(graph).cells) > 0


def test_graph_and_cells_do_not_import_torch():
    code = "import sys, nnmass.mass.graph, nnmass.mass.layers, nnmass.mass.cells; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
