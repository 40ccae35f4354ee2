"""LDI on the NAS benchmarks' networks: NB201, NB101 and TransNAS-Bench-101 macro
layers against autograd Jacobians + SVD of each layer's map written out by hand, the
networks where J_i = D_i W_i has no exact meaning refused in one line, and
`nnmass ldi SPACE:ARCH` on the command line."""
import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nnmass
from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.ldi import check_measurable
from nnmass.ldi.layer_paths import find_layers, trace
from nnmass.mass import measure as mass_measure
from nnmass.models.sources import load_module
from test_ldi_zoo import _assert_rows_match, _measure, _model_from, _seen

# Node 1 feeds two edges, node 2 one conv edge (its ReLU), node 3 sums three edges.
NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
NB101_ARCH = json.dumps({"matrix": [[0, 1, 1, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1],
                                    [0, 0, 0, 0, 0]],
                         "ops": ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output"]})
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
            "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
            "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
            "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
            "('max_pool_3x3', 1)], reduce_concat=range(2, 6))")


def _nb201(arch=NB201_ARCH, C=3, N=1):
    from nnmass.models.nb201 import build_nb201
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return _model_from(build_nb201(arch, C=C, N=N))


def _space(model, sets):
    """The module of ``model`` (SPACE:ARCH) with weights from seed 0, as `nnmass ldi` builds it."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return load_module(model, sets)[0]


def _x(batch=2, size=8, seed=1):
    return torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_nb201_cell_edges_and_reduction_block_equal_autograd():
    model, x = _nb201(), _x()
    cell, red = model.cells[2], model.cells[3]  # the second stage's cell, then its reduction block
    e = cell.edges
    names = ["cells.2.edges.1<-0.conv", "cells.2.edges.2<-1.conv", "cells.2.edges.3<-2.conv",
             "cells.3.shortcut.conv", "cells.3.conv_a.conv"]  # graph order
    ours = _measure(model, x, names, positions=None)
    seen = _seen(model, x, pre=["cells.2", *names], post=["cells.2.edges.2<-0", "cells.3.conv_b"])
    ins = {n: seen[("in", n)] for n in names}
    with torch.no_grad():  # the cell written out: node i sums its edges' ops
        s0 = seen[("in", "cells.2")]
        node1 = e["1<-0"](s0)
        node2 = e["2<-0"](s0) + e["2<-1"](node1)
        other_node3 = e["3<-0"](s0) + e["3<-1"](node1)
    assert torch.allclose(seen[("in", "cells.2.edges.3<-2.conv")], F.relu(node2))
    edge20 = seen[("out", "cells.2.edges.2<-0")]
    # Node 1 feeds two edges: the layer ends at its BN, D = I.
    _assert_rows_match(ours[names[0]], lambda u, b: e["1<-0"].bn(e["1<-0"].conv(u)), ins[names[0]])
    # Node 2 = edge 2<-0 (held fixed) + this edge, read by edge 3<-2's ReLU alone: D = ReLU'(node 2).
    _assert_rows_match(ours[names[1]], lambda u, b: F.relu(edge20[b:b + 1] + e["2<-1"].bn(e["2<-1"].conv(u))),
                       ins[names[1]])
    # Node 3 sums three edges (two adds, the others fixed) and feeds both branches of the reduction block.
    _assert_rows_match(ours[names[2]], lambda u, b: other_node3[b:b + 1] + e["3<-2"].bn(e["3<-2"].conv(u)),
                       ins[names[2]])
    # The reduction block: conv_a feeds conv_b's ReLU alone; the shortcut conv adds to conv_b (held fixed).
    main_branch = seen[("out", "cells.3.conv_b")]
    _assert_rows_match(ours[names[3]], lambda u, b: main_branch[b:b + 1] + red.shortcut.conv(u), ins[names[3]])
    _assert_rows_match(ours[names[4]], lambda u, b: F.relu(red.conv_a.bn(red.conv_a.conv(u))), ins[names[4]])
    paths = {p.name: p for p in find_layers(trace(model))}
    assert type(paths[names[1]].activation) is nn.ReLU and paths[names[1]].residual
    assert paths[names[0]].activation is None and paths[names[2]].activation is None and paths[names[2]].residual


def test_nb201_none_edge_ends_the_layer_it_reads():
    # Edge 3<-2 is `none`: node 2's only reader multiplies it by zero, so its layers end at node 2 (D = I).
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|"
    model, x = _nb201(arch), _x()
    name = "cells.0.edges.2<-1.conv"
    ours = _measure(model, x, [name], positions=None)
    e = model.cells[0].edges
    layer_in = _seen(model, x, pre=[name])[("in", name)]
    _assert_rows_match(ours[name], lambda u, b: e["2<-1"].bn(e["2<-1"].conv(u)), layer_in)
    measured = [p for p in find_layers(trace(model)) if not p.reads_input]
    assert len(measured) == 5 * 3 + 3 * 2  # every conv but the stem's: 5 per cell, 3 per reduction block


def test_nb101_projection_vertex_and_output_projection_equal_autograd():
    model = _model_from(_space(f"nb101:{NB101_ARCH}", {"channels": "4", "stacks": "2", "cells": "1"}))
    x = _x()
    cell = model.layers[2]  # the second stack's cell (after its max-pool)
    names = ["layers.2.proj.1.conv", "layers.2.ops.1.conv", "layers.2.ops.2.conv", "layers.2.proj.4.conv"]
    ours = _measure(model, x, names, positions=None)
    seen = _seen(model, x, pre=names)
    for name, block in zip(names, (cell.proj["1"], cell.ops["1"], cell.ops["2"], cell.proj["4"])):
        # Every NB101 conv is conv-BN-ReLU: the layer owns its output, merges happen at its input.
        _assert_rows_match(ours[name], lambda u, b, m=block: F.relu(m.bn(m.conv(u))), seen[("in", name)])
    assert all(type(p.activation) is nn.ReLU for p in find_layers(trace(model)))


def test_tnb_macro_basic_block_equals_autograd():
    model, x = _model_from(_space("tnb-macro:64-1324-basic", {"channels": "4"})), _x(size=32)
    block = model.encoder.layers[1][0]  # code 3: halves the resolution, a projection shortcut
    stem = "encoder.layers.1.0"
    names = [f"{stem}.conv_a.conv", f"{stem}.conv_b.conv", f"{stem}.downsample.0"]
    ours = _measure(model, x, [names[2], *names[:2]], positions=None)  # graph order: the shortcut first
    seen = _seen(model, x, pre=[stem, *names], post=[f"{stem}.conv_b", f"{stem}.downsample"])
    _assert_rows_match(ours[names[0]], lambda u, b: F.relu(block.conv_a.bn(block.conv_a.conv(u))),
                       seen[("in", names[0])])
    shortcut, main_branch = seen[("out", f"{stem}.downsample")], seen[("out", f"{stem}.conv_b")]
    # The block's output feeds the next block's ReLU and its identity shortcut: D = I.
    _assert_rows_match(ours[names[1]], lambda u, b: shortcut[b:b + 1] + block.conv_b.bn(block.conv_b.conv(u)),
                       seen[("in", names[1])])
    _assert_rows_match(ours[names[2]], lambda u, b: main_branch[b:b + 1] + block.downsample(u), seen[("in", names[2])])


@pytest.mark.parametrize("model,sets,problem", [
    (f"nb301:{DARTS_V2}", {"C": "4", "layers": "3"}, "a DARTS (nb301:/darts:) network: its separable"),
    ("tnb-micro:64-41414-1_33_333", {"channels": "4"}, "a skip edge that changes size has a factorized reduction"),
    ("tnb-macro:64-1324-basic", {"channels": "4", "task": "segmentsemantic"}, "decoder's transposed convs"),
    ("tnb-macro:64-1324-basic", {"channels": "4", "task": "jigsaw"}, "9 tiles"),
])
def test_networks_without_an_exact_layer_jacobian_are_refused(model, sets, problem):
    module = _space(model, sets)
    with pytest.raises(UsageError, match="LDI does not apply to") as info:
        check_measurable(module)
    assert problem in str(info.value) and "nb201:" in str(info.value)


def test_tnb_micro_without_size_changing_skips_is_measured():
    module = _space("tnb-micro:64-41414-3_31_310", {"channels": "4"})
    check_measurable(module)  # skips only on stride-1 edges: no factorized reduction
    report = nnmass.ldi.measure(module, torch.randn(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)),
                                positions=2)
    assert len(report.layers) == sum(type(m) is nn.Conv2d for m in module.modules()) - 1  # all but the stem conv


def test_cli_ldi_nb201_json_matches_the_library(capsys):
    model = f"nb201:{NB201_ARCH}"
    argv = ["ldi", model, "--set", "task=ImageNet16-120", "--batch", "2", "--positions", "2", "--json"]
    assert main(argv) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["spec"] is None and d["model"] == model
    assert {"mean", "std", "min", "max", "count", "layers", "nn_mass", "inputs", "seed", "device"} <= set(d)
    # The same network and batch through the library: weights from seed 0, N(0,1) inputs from seed 0.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net, shape = load_module(model, {"task": "ImageNet16-120"})
    assert shape == (1, 3, 16, 16)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    report = nnmass.ldi.measure(net, x, positions=2, generator=torch.Generator().manual_seed(0))
    assert d["mean"] == pytest.approx(report.mean, rel=1e-6) and d["count"] == report.count
    assert len(d["layers"]) == 5 * 15 + 2 * 3  # 5 conv edges per cell, 3 convs per reduction block
    assert d["nn_mass"] == pytest.approx(mass_measure(net, torch.zeros(1, 3, 16, 16)).nn_mass)


def test_cli_ldi_refuses_a_darts_network_in_one_line(capsys):
    assert main(["ldi", f"darts:{DARTS_V2}", "--set", "C=4", "--set", "layers=3"]) == 2
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert out.out == "" and len(lines) == 1 and "Traceback" not in out.err
    assert lines[0].startswith("nnmass: error: LDI does not apply to a DARTS (nb301:/darts:) network")
    assert "nb101:, nb201:" in lines[0]
