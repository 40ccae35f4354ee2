"""NAS-Bench-201: arch strings, the network builder against NASLib's published
parameter counts, and the packaged NASLib sample."""
import importlib.util
import itertools
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nnmass.errors import UsageError
from nnmass.models.nb201 import (EDGES, Cell, ReductionBlock, arch_from_op_indices, build_nb201,
                                 format_arch, op_indices_from_arch, parse_arch)
from nnmass.studies.nb201_data import COLUMNS, DATASETS, NASLIB_SCORES, load_nb201_sample

ROOT = Path(__file__).resolve().parents[1]
JSON_PATH = ROOT.parent / "shared" / "data" / "nb201" / "naslib_zc_nasbench201.json"
ROWS = load_nb201_sample()
ARCHS = sorted({row["arch"] for row in ROWS})
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
EXAMPLE = "|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|"


def all_ops(op):
    return format_arch([op] * 6)


# ---- the packaged sample -------------------------------------------------------------------

def test_sample_has_every_row_with_typed_fields():
    counts = {d: len(load_nb201_sample(d)) for d in DATASETS}
    assert counts == {"cifar10": 725, "cifar100": 725, "ImageNet16-120": 724}
    assert len(ROWS) == 2174 and len(ARCHS) == 725
    for row in ROWS:
        assert tuple(row) == COLUMNS
        assert isinstance(row["op_indices"], tuple) and len(row["op_indices"]) == 6
        assert isinstance(row["naslib_idx"], int) and isinstance(row["val_accuracy"], float)
        assert all(row[f"naslib_{s}"] is None or isinstance(row[f"naslib_{s}"], float) for s in NASLIB_SCORES)
    missing = [(r["dataset"], r["op_indices"], k) for r in ROWS for k, v in r.items() if v is None]
    assert missing == [("cifar10", (3, 2, 4, 0, 4, 4), "naslib_synflow")]
    first = load_nb201_sample("cifar10")[0]
    assert first["op_indices"] == (0, 0, 0, 0, 4, 3) and first["naslib_params"] == 0.101306
    assert first["val_accuracy"] == 82.5


def test_sample_refuses_an_unknown_dataset():
    with pytest.raises(UsageError, match="valid: cifar10, cifar100, ImageNet16-120"):
        load_nb201_sample("imagenet")


@pytest.mark.skipif(not JSON_PATH.exists(), reason="NASLib's JSON is not beside the checkout")
def test_csv_equals_naslib_json_value_for_value():
    data = json.loads(JSON_PATH.read_text())
    assert list(data) == list(DATASETS)
    for dataset in DATASETS:
        rows = {row["op_indices"]: row for row in load_nb201_sample(dataset)}
        entries = {tuple(int(v) for v in key.strip("()").split(",")): e for key, e in data[dataset].items()}
        assert set(rows) == set(entries)
        for indices, entry in entries.items():
            row = rows[indices]
            assert set(entry) <= {"idx", "arch", "val_accuracy", *NASLIB_SCORES}
            assert row["naslib_idx"] == int(entry["idx"])
            assert row["val_accuracy"] == entry["val_accuracy"]
            for score in NASLIB_SCORES:
                published = entry[score]["score"] if score in entry else None
                assert row[f"naslib_{score}"] == published, (dataset, indices, score)


@pytest.mark.skipif(not JSON_PATH.exists(), reason="NASLib's JSON is not beside the checkout")
def test_tool_regenerates_the_packaged_csv_byte_for_byte(tmp_path):
    spec = importlib.util.spec_from_file_location("make_nb201_csv", ROOT / "tools" / "make_nb201_csv.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(JSON_PATH), "--out", str(tmp_path / "out.csv")])
    assert (tmp_path / "out.csv").read_bytes() == (ROOT / "nnmass" / "studies" / "nb201_naslib.csv").read_bytes()


def test_loader_leaves_torch_out():
    code = ("import sys\n"
            "from nnmass.studies.nb201_data import load_nb201_sample\n"
            "assert len(load_nb201_sample()) == 2174\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# ---- arch strings and NASLib op_indices ----------------------------------------------------

def test_conversions_round_trip_on_the_sample():
    for row in ROWS:
        assert format_arch(parse_arch(row["arch"])) == row["arch"]
        assert op_indices_from_arch(row["arch"]) == row["op_indices"]
        assert arch_from_op_indices(row["op_indices"]) == row["arch"]


def test_conversions_round_trip_on_the_whole_space():
    seen = set()
    for indices in itertools.product(range(5), repeat=6):
        arch = arch_from_op_indices(indices)
        assert op_indices_from_arch(arch) == indices
        seen.add(arch)
    assert len(seen) == 5 ** 6


def test_conversion_follows_naslib_edge_order():
    # NASLib edges (1<-0) (2<-0) (3<-0) (2<-1) (3<-1) (3<-2); ids 0 skip, 1 none, 2 conv3x3, 3 conv1x1.
    assert arch_from_op_indices((0, 2, 3, 2, 3, 1)) == (
        "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_1x1~1|none~2|")
    assert op_indices_from_arch("|none~0|+|skip_connect~0|avg_pool_3x3~1|"
                                "+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|") == (1, 0, 3, 4, 2, 1)
    assert parse_arch(EXAMPLE) == ("nor_conv_3x3", "none", "nor_conv_1x1", "skip_connect",
                                   "avg_pool_3x3", "nor_conv_3x3")


@pytest.mark.parametrize("text,problem", [
    ("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_3x3'"),
    ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "input 1 of node 2 reads node '1', needs 0"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~3|", "input 3 of node 3"),
    ("|none~0|+|none~0|none~1|", "2 node group(s)"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "4 node group(s)"),
    ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 has 1 input(s), needs 2"),
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2", "must start and end with '|'"),
    ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "is not op~index"),
    ("hello world", "1 node group(s)"),
    ("", "1 node group(s)"),
    ("|none~0|" * 5000, "40000 characters"),
    (12, "must be a string, got int"),
])
def test_bad_arch_is_refused_in_one_line(text, problem):
    with pytest.raises(UsageError) as info:
        parse_arch(text)
    message = str(info.value)
    assert problem in message
    assert "\n" not in message and len(message) < 400  # the bad value is cut to 200 characters
    assert "valid form: |op~0|+|op~0|op~1|+|op~0|op~1|op~2|" in message
    with pytest.raises(UsageError):
        build_nb201(text)


@pytest.mark.parametrize("indices", [(0, 1, 2, 3, 4), (0, 1, 2, 3, 4, 5), (0, 0, 0, 0, 0, -1),
                                     (True, 0, 0, 0, 0, 0), "0-2-3-2-3-1", (0.0,) * 6, None])
def test_bad_op_indices_are_refused(indices):
    with pytest.raises(UsageError, match="needs six ints in 0..4"):
        arch_from_op_indices(indices)


# ---- parameters: NASLib's published counts --------------------------------------------------

def conv_counts(arch):
    ops = parse_arch(arch)
    return ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1")


def test_every_cell_holds_its_ops_in_place():
    """Every arch's cell carries its string's op on each edge, each mapping C -> C; so
    a network's parameter count depends on its arch only through how many 3x3 and
    1x1 convs the cell holds, which the next test uses."""
    kinds = {"none": "Zero", "skip_connect": "Identity", "nor_conv_1x1": "ReLUConvBN",
             "nor_conv_3x3": "ReLUConvBN", "avg_pool_3x3": "ChannelsLastAvgPool2d"}
    with torch.device("meta"):
        for arch in ARCHS:
            cell = Cell(parse_arch(arch), 8)
            assert list(cell.edges) == [f"{to}<-{src}" for to, src in EDGES]
            for op, module in zip(parse_arch(arch), cell.edges.values()):
                assert type(module).__name__ == kinds[op]
                if op.startswith("nor_conv"):
                    k = int(op[-1])
                    assert module.conv.weight.shape == (8, 8, k, k) and module.bn.weight.shape == (8,)


@pytest.mark.parametrize("dataset", DATASETS)
def test_params_equal_naslib_for_every_architecture(dataset):
    """``sum(numel)`` of the full network equals NASLib's ``params`` (millions)
    exactly: ``count / 1e6 == params`` as floats, no tolerance. One full network
    is built per (3x3, 1x1) conv count; every row of that group is compared."""
    rows = load_nb201_sample(dataset)
    groups = defaultdict(list)
    for row in rows:
        groups[conv_counts(row["arch"])].append(row)
    matched = 0
    for rows_of_group in groups.values():
        with torch.device("meta"):
            model = build_nb201(rows_of_group[0]["arch"], num_classes=NUM_CLASSES[dataset])
        count = sum(p.numel() for p in model.parameters())
        for row in rows_of_group:
            assert count / 1e6 == row["naslib_params"], (row["arch"], count)
            assert round(row["naslib_params"] * 1e6) == count
            matched += 1
    assert matched == len(rows) == (724 if dataset == "ImageNet16-120" else 725)
    assert len(groups) == 21  # of the 28 possible (3x3, 1x1) counts


def test_params_of_known_architectures():
    # By hand for C=16, N=5. Stem 3*16*9 + 2*16 = 464. Reductions (two 3x3 convs,
    # two BNs, 1x1 shortcut): 4,608 + 9,216 + 512 + 128 = 14,464 and 18,432 + 36,864
    # + 2,048 + 256 = 57,600. Head BN 128. A conv edge, 5 cells per stage at 16, 32, 64
    # channels: 3x3: 5 * (2,304 + 9,216 + 36,864 + 2 * 112) = 243,040; 1x1:
    # 5 * (256 + 1,024 + 4,096 + 2 * 112) = 28,000. Classifier 65 per class.
    base = 464 + 14_464 + 57_600 + 128
    for op, per_edge in (("none", 0), ("skip_connect", 0), ("avg_pool_3x3", 0),
                         ("nor_conv_1x1", 28_000), ("nor_conv_3x3", 243_040)):
        for classes in (10, 100, 120):
            with torch.device("meta"):
                model = build_nb201(all_ops(op), num_classes=classes)
            assert sum(p.numel() for p in model.parameters()) == base + 6 * per_edge + 65 * classes


# ---- structure and forward ------------------------------------------------------------------

def randomize_bn(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.1)


def reference_forward(model, arch, x, N):
    """NB201's forward written out with functional ops, reading the model's weights."""
    def relu_conv_bn(m, x, k, stride=1):
        y = F.conv2d(F.relu(x), m.conv.weight, stride=stride, padding=k // 2)
        return F.batch_norm(y, m.bn.running_mean, m.bn.running_var, m.bn.weight, m.bn.bias, False, 0.0, 1e-5)

    def edge(op, m, x):
        if op == "none":
            return torch.zeros_like(x)
        if op == "skip_connect":
            return x
        if op == "avg_pool_3x3":
            return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        return relu_conv_bn(m, x, int(op[-1]))

    ops = dict(zip(EDGES, parse_arch(arch)))
    bn = model.stem.bn
    x = F.batch_norm(F.conv2d(x, model.stem.conv.weight, padding=1), bn.running_mean, bn.running_var,
                     bn.weight, bn.bias, False, 0.0, 1e-5)
    cells = iter(model.cells)
    for stage in range(3):
        if stage:
            block = next(cells)
            main = relu_conv_bn(block.conv_b, relu_conv_bn(block.conv_a, x, 3, stride=2), 3)
            x = F.conv2d(F.avg_pool2d(x, 2, 2), block.shortcut.conv.weight) + main
        for _ in range(N):
            cell = next(cells)
            n1 = edge(ops[1, 0], cell.edges["1<-0"], x)
            n2 = edge(ops[2, 0], cell.edges["2<-0"], x) + edge(ops[2, 1], cell.edges["2<-1"], n1)
            x = (edge(ops[3, 0], cell.edges["3<-0"], x) + edge(ops[3, 1], cell.edges["3<-1"], n1)
                 + edge(ops[3, 2], cell.edges["3<-2"], n2))
    bn = model.lastact.bn
    x = F.relu(F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, 1e-5))
    return F.linear(x.mean((2, 3)), model.classifier.weight, model.classifier.bias)


def test_forward_equals_a_written_out_recomputation():
    torch.manual_seed(0)
    model = build_nb201(EXAMPLE, num_classes=7, C=4, N=2).eval()
    randomize_bn(model)
    x = torch.randn(3, 3, 12, 12)
    with torch.no_grad():
        assert torch.allclose(model(x), reference_forward(model, EXAMPLE, x, N=2), atol=1e-5, rtol=1e-5)


def test_layout_and_module_names():
    model = build_nb201(EXAMPLE)
    names = dict(model.named_modules())
    assert len(model.cells) == 17
    assert [i for i, c in enumerate(model.cells) if isinstance(c, ReductionBlock)] == [5, 11]
    assert model.cells[5].conv_a.conv.weight.shape == (32, 16, 3, 3) and model.cells[5].conv_a.conv.stride == (2, 2)
    assert model.cells[11].shortcut.conv.weight.shape == (64, 32, 1, 1)
    assert model.cells[16].edges["3<-2"].conv.weight.shape == (64, 64, 3, 3)
    for name in ("stem.conv", "cells.3.edges.2<-1", "cells.5.shortcut.pool", "cells.11.conv_b.bn",
                 "lastact.bn", "classifier"):
        assert name in names
    assert model.classifier.weight.shape == (10, 64) and model.arch == EXAMPLE


def test_all_none_cells_output_zero_and_all_skip_cells_four_times_the_input():
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(Cell(parse_arch(all_ops("none")), 4)(x), torch.zeros_like(x))
    # node1 = x, node2 = x + node1 = 2x, node3 = x + node1 + node2 = 4x.
    assert torch.equal(Cell(parse_arch(all_ops("skip_connect")), 4)(x), 4 * x)
    model = build_nb201(all_ops("none"), num_classes=5, C=4, N=1).eval()
    with torch.no_grad():  # zero features reach the head: the logits are the classifier's bias
        assert torch.equal(model(torch.randn(3, 3, 8, 8)), model.classifier.bias.expand(3, 5))


@pytest.mark.parametrize("dataset,size", [("cifar10", 32), ("cifar100", 32), ("ImageNet16-120", 16)])
def test_full_size_forward_is_finite_and_traceable(dataset, size):
    torch.manual_seed(1)
    model = build_nb201(EXAMPLE, num_classes=NUM_CLASSES[dataset]).train()
    x = torch.randn(2, 3, size, size)
    out = model(x)
    assert out.shape == (2, NUM_CLASSES[dataset]) and torch.isfinite(out).all()
    out.square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())
    traced = torch.fx.symbolic_trace(model.eval())
    assert "cells.16.edges.3<-2.conv" in {n.target for n in traced.graph.nodes if n.op == "call_module"}
    with torch.no_grad():
        assert torch.equal(traced(x), model(x))


@pytest.mark.parametrize("sizes", [dict(num_classes=0), dict(C=0), dict(N=-1), dict(C=2.0), dict(N=True)])
def test_bad_sizes_are_refused(sizes):
    with pytest.raises(UsageError, match=r"must be an integer in 1\.\.4096, got "):
        build_nb201(EXAMPLE, **sizes)
