"""NAS-Bench-101: both string forms, NB101's validity and pruning, the channel split,
the network against NASLib's published parameter counts, the packaged sample, and
seeded sampling and mutation."""
import importlib.util
import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnmass.errors import UsageError
from nnmass.models.nb101 import Cell, build_nb101
from nnmass.spaces import get_space
from nnmass.spec.nb101 import NASLIB_OPS, OPS, make_arch, vertex_channels
from nnmass.spaces.samples import load_naslib_sample
from nnmass.models.space_networks import build_in_space

ROOT = Path(__file__).resolve().parents[1]
JSON_PATH = ROOT.parent / "shared" / "data" / "suite-zero" / "naslib_zc_nasbench101.json"
CSV_PATH = ROOT / "nnmass" / "spaces" / "data" / "nb101_naslib.csv"
NB101 = get_space("nb101")
ROWS = load_naslib_sample("nb101")

# NB101's README example: an Inception-like cell (7 vertices, 9 edges, nothing to prune).
INCEPTION = {"matrix": [[0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                        [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
                        [0, 0, 0, 0, 0, 0, 0]],
             "ops": ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
                     "maxpool3x3", "output"]}


def naslib_text(matrix, ops):
    """NASLib's key written out by hand: the matrix row by row, then op ids
    (0 input, 1 output, 2 maxpool3x3, 3 conv1x1-bn-relu, 4 conv3x3-bn-relu)."""
    ids = {"input": 0, "output": 1, "maxpool3x3": 2, "conv1x1-bn-relu": 3, "conv3x3-bn-relu": 4}
    return "(" + ", ".join(str(v) for v in [*itertools.chain(*matrix), *(ids[o] for o in ops)]) + ")"


# ---- the two forms -----------------------------------------------------------------------------

def test_both_forms_name_the_same_cell_and_round_trip():
    from_json = NB101.parse(json.dumps(INCEPTION))
    from_naslib = NB101.parse(naslib_text(INCEPTION["matrix"], INCEPTION["ops"]))
    assert from_json == from_naslib
    assert from_json == (tuple(map(tuple, INCEPTION["matrix"])), tuple(INCEPTION["ops"]))
    text = NB101.format(from_json)
    assert text == json.dumps(INCEPTION, sort_keys=True, separators=(",", ":"))
    assert NB101.parse(text) == from_json
    assert NB101.naslib_key(from_json) == naslib_text(INCEPTION["matrix"], INCEPTION["ops"])
    assert NASLIB_OPS.index("maxpool3x3") == 2 and NASLIB_OPS.index("conv3x3-bn-relu") == 4


def test_a_smaller_cell_and_pruning_as_nb101_does():
    small = {"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", "maxpool3x3", "output"]}
    arch = NB101.parse(json.dumps(small))
    assert len(arch[1]) == 3 and NB101.parse(naslib_text(small["matrix"], small["ops"])) == arch
    # Vertex 2 reads the input but feeds nothing, vertex 3 is fed by nothing: both go.
    dangling = {"matrix": [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1],
                           [0, 0, 0, 0, 0]],
                "ops": ["input", "maxpool3x3", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"]}
    assert NB101.parse(json.dumps(dangling)) == arch
    bare = NB101.parse('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}')
    assert NB101.format(bare) == '{"matrix":[[0,1],[0,0]],"ops":["input","output"]}'


@pytest.mark.parametrize("text, message", [
    ('{"matrix": [[0, 1], [1, 0]], "ops": ["input", "output"]}', "back edge"),
    ('{"matrix": [[1, 1], [0, 0]], "ops": ["input", "output"]}', "self-loop"),
    ('{"matrix": [[0, 1], [0, 0]], "ops": ["conv3x3-bn-relu", "output"]}', "first op must be 'input'"),
    ('{"matrix": [[0, 1, 1], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv5x5", "output"]}', "unknown op"),
    ('{"matrix": [[0, 1, 0], [0, 0, 0], [0, 0, 0]], "ops": ["input", "maxpool3x3", "output"]}',
     "not reachable"),
    ('{"matrix": [[0, 2], [0, 0]], "ops": ["input", "output"]}', "0 or 1"),
    ('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "maxpool3x3", "output"]}', "3x3 for 3 ops"),
    ('{"matrix": [[0]], "ops": ["input"]}', "2 to 7"),
    ('{"matrix": [[0, 1], [0, 0]]}', "exactly the keys"),
    ('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]', "bad NB101 JSON"),
    ("(0, 1, 0, 0, 0, 7)", "op ids must be 0-4"),
    ("(0, 1, 0, 0, 0)", "5 ints"),
    ("(0, 1, x)", "n*n matrix entries"),
    ("|nor_conv_3x3~0|", "write NB101 JSON"),
])
def test_every_kind_of_bad_cell_is_one_line(text, message):
    with pytest.raises(UsageError, match=message) as err:
        NB101.parse(text)
    assert "\n" not in str(err.value)


def test_too_many_edges_counts_after_pruning():
    # The full upper triangle of 7 vertices has 21 edges.
    full = [[int(j > i) for j in range(7)] for i in range(7)]
    ops = ["input"] + ["conv3x3-bn-relu"] * 5 + ["output"]
    with pytest.raises(UsageError, match="21 edges; NB101 allows at most 9"):
        NB101.parse(json.dumps({"matrix": full, "ops": ops}))
    # 10 edges, one of them into a vertex that feeds nothing: pruned to 8 edges, valid.
    matrix = [[0, 1, 1, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0], [0] * 7]
    matrix[1][5] = matrix[2][5] = 1
    assert sum(map(sum, matrix)) == 11
    arch = NB101.parse(json.dumps({"matrix": matrix, "ops": ops}))
    assert len(arch[1]) == 6 and sum(map(sum, arch[0])) == 9


# ---- the channel split and the cell ------------------------------------------------------------

def test_vertex_channels_split_the_output_and_feed_backwards():
    # 128 over three output vertices: 43 + 43 + 42, the remainder to the earliest.
    m = [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    assert vertex_channels(m, 64, 128) == [64, 43, 43, 42, 128]
    # Vertex 1 feeds only vertices 2 (43) and 3 (42): it takes the larger, 43.
    m = [[0, 1, 0, 0, 1], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    assert vertex_channels(m, 128, 128) == [128, 64, 64, 64, 128]
    # Vertices 2, 3, 4 feed the output (43, 43, 42); vertex 1 feeds 2 and 4: max(43, 42).
    m = [[0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1],
         [0, 0, 0, 0, 0, 1], [0] * 6]
    assert vertex_channels(m, 7, 128) == [7, 43, 43, 43, 42, 128]
    assert vertex_channels([[0, 1], [0, 0]], 5, 9) == [5, 9]


def test_the_cell_computes_nb101s_function_with_its_own_weights():
    # Output = cat(v2, v3) + proj(x); v3 = conv1x1(v1[:, :c3] + proj3(x)) with v1 one channel wider.
    arch = make_arch([[0, 1, 0, 1, 1], [0, 0, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
                     ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"])
    torch.manual_seed(0)
    cell = Cell(arch, 4, 7).eval()
    assert cell.channels == [4, 4, 4, 3, 7]
    x = torch.randn(2, 4, 6, 6)
    v1 = cell.ops["1"](cell.proj["1"](x))
    v2 = torch.nn.functional.max_pool2d(v1, 3, stride=1, padding=1)
    v3 = cell.ops["3"](v1[:, :3] + cell.proj["3"](x))
    expected = torch.cat([v2, v3], 1) + cell.proj["4"](x)
    assert torch.allclose(cell(x), expected)
    assert sorted(cell.proj) == ["1", "3", "4"]


def test_params_equal_naslibs_for_every_sample_architecture():
    counts = {}
    for arch_text in sorted({r["arch"] for r in ROWS}):
        with torch.device("meta"):
            model = build_in_space(NB101, NB101.parse(arch_text))
        counts[arch_text] = sum(p.numel() for p in model.parameters())
    assert len(ROWS) == 500
    for row in ROWS:
        assert round(counts[row["arch"]] / 1e6, 6) == row["naslib_params"], row["naslib_key"]


def test_forward_gives_the_logits_at_reduced_and_default_size():
    rng = np.random.default_rng(5)
    for arch in [NB101.sample(rng) for _ in range(3)]:
        model = build_in_space(NB101, arch, None, {"channels": "8", "stacks": "2", "cells": "1"}).eval()
        assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    model = build_in_space(NB101, NB101.parse(json.dumps(INCEPTION))).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 32, 32)).shape == (1, 10)
    # NB101's README: this cell has 2,694,282 trainable parameters.
    assert sum(p.numel() for p in model.parameters()) == 2694282


def test_sets_and_tasks_are_checked_in_one_line():
    arch = NB101.parse(json.dumps(INCEPTION))
    assert build_in_space(NB101, arch, "cifar10", {"num_classes": 3, "channels": 8}).classifier.out_features == 3
    with pytest.raises(UsageError, match="unknown key"):
        build_in_space(NB101, arch, None, {"depth": 3})
    with pytest.raises(UsageError, match="channels"):
        build_in_space(NB101, arch, None, {"channels": "0"})
    with pytest.raises(UsageError, match="unknown nb101 task"):
        NB101.task("cifar100")
    with pytest.raises(UsageError, match="NB101 stacks"):
        build_nb101(arch, stacks=0)


# ---- the packaged sample -------------------------------------------------------------------

def test_sample_rows_parse_and_format_back():
    assert len(ROWS) == 500 and {r["task"] for r in ROWS} == {"cifar10"}
    for row in ROWS:
        arch = NB101.parse(row["arch"])
        assert NB101.format(arch) == row["arch"]
        # NASLib keys are 7-vertex specs before pruning; they name the same (pruned) cell.
        assert NB101.parse(row["naslib_key"]) == arch
        assert NB101.parse(NB101.naslib_key(arch)) == arch
        assert isinstance(row["val_accuracy"], float) and row["naslib_params"] > 0
    # 55 of NASLib's 500 specs prune to the bare input -> output cell.
    assert sum(r["arch"] == '{"matrix":[[0,1],[0,0]],"ops":["input","output"]}' for r in ROWS) == 55


def test_sample_loader_and_space_leave_torch_out():
    code = ("import sys\n"
            "from nnmass.spaces import get_space\n"
            "from nnmass.spaces.samples import load_naslib_sample\n"
            "s = get_space('nb101'); rows = load_naslib_sample('nb101')\n"
            "assert all(s.parse(r['arch']) for r in rows)\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif(not JSON_PATH.exists(), reason="NASLib's JSON is not beside the checkout")
def test_csv_equals_naslib_json_value_for_value():
    entries = json.loads(JSON_PATH.read_text())["nasbench101"]["cifar10"]
    assert [r["naslib_key"] for r in ROWS] == list(entries)
    for row in ROWS:
        entry = entries[row["naslib_key"]]
        assert row["val_accuracy"] == entry["val_accuracy"]
        for name, value in entry.items():
            if name != "val_accuracy":
                assert row[f"naslib_{name}"] == (value["score"] if isinstance(value, dict) else value)
        assert {k for k, v in row.items() if k.startswith("naslib_") and v is not None} == \
            {"naslib_key"} | {f"naslib_{k}" for k in entry if k != "val_accuracy"}


@pytest.mark.skipif(not JSON_PATH.exists(), reason="NASLib's JSON is not beside the checkout")
def test_tool_regenerates_the_packaged_csv_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location("make_nb101_csv", ROOT / "tools" / "make_nb101_csv.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(JSON_PATH), "--out", str(tmp_path / "out.csv")])
    assert (tmp_path / "out.csv").read_bytes() == CSV_PATH.read_bytes()


# ---- search ------------------------------------------------------------------------------------

def test_sampling_is_seeded_and_valid():
    draws = [[NB101.sample(np.random.default_rng(11)) for _ in range(2)] for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(4)
    archs = [NB101.sample(rng) for _ in range(200)]
    assert len(set(archs)) > 100
    for arch in archs:
        matrix, ops = arch
        assert make_arch(matrix, ops) == arch  # valid and already pruned
        assert sum(map(sum, matrix)) <= 9 and set(ops[1:-1]) <= set(OPS)


def test_mutation_changes_one_op_or_one_edge_and_stays_valid():
    rng = np.random.default_rng(9)
    bare = NB101.parse('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}')
    for arch in [NB101.sample(rng) for _ in range(60)] + [bare]:
        child = NB101.mutate(arch, rng)
        assert child != arch and make_arch(*child) == child
        if len(child[1]) == len(arch[1]) and child[1] == arch[1]:
            diff = sum(a != b for ra, rb in zip(arch[0], child[0]) for a, b in zip(ra, rb))
            assert diff == 1
        elif len(child[1]) == len(arch[1]) and child[0] == arch[0]:
            assert sum(a != b for a, b in zip(arch[1], child[1])) == 1
    same = [NB101.mutate(NB101.parse(json.dumps(INCEPTION)), np.random.default_rng(2)) for _ in range(2)]
    assert same[0] == same[1]
    # Cells grow as well as shrink: a vertex can come in with one new edge.
    small = NB101.parse('{"matrix": [[0,1,0],[0,0,1],[0,0,0]], "ops": ["input","maxpool3x3","output"]}')
    sizes = {len(NB101.mutate(small, rng)[1]) for _ in range(40)}
    assert min(sizes) == 3 and 4 in sizes  # one edge keeps the input -> output path


def test_isomorphic_cells_share_a_canonical_key():
    # Swap the two parallel branches of a cell: the same function, other labels.
    a = NB101.parse('{"matrix": [[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]],'
                    '"ops": ["input","conv1x1-bn-relu","maxpool3x3","output"]}')
    b = NB101.parse('{"matrix": [[0,1,1,0],[0,0,0,1],[0,0,0,1],[0,0,0,0]],'
                    '"ops": ["input","maxpool3x3","conv1x1-bn-relu","output"]}')
    c = NB101.parse('{"matrix": [[0,1,0,0],[0,0,1,0],[0,0,0,1],[0,0,0,0]],'
                    '"ops": ["input","maxpool3x3","conv1x1-bn-relu","output"]}')
    assert a != b and NB101.canonical_key(a) == NB101.canonical_key(b) != NB101.canonical_key(c)
