"""TransNAS-Bench-101 micro and macro spaces: strings, tasks, the shipped NASLib
samples, parameter counts against NASLib's, and forward shapes."""
from __future__ import annotations

import importlib.util
import json
from math import comb
from pathlib import Path

import numpy as np
import pytest
import torch

from nnmass.errors import UsageError
from nnmass.spaces import get_space
from nnmass.spaces.samples import load_naslib_sample, sample_tasks
from nnmass.spaces.transnas_params import network_params
from nnmass.models.space_networks import build_in_space

ROOT = Path(__file__).resolve().parents[1]
SUITE = next((p / "shared" / "data" / "suite-zero" for p in (ROOT.parent, ROOT.parent.parent)
              if (p / "shared" / "data" / "suite-zero").exists()), ROOT.parent / "shared" / "data" / "suite-zero")
MICRO, MACRO = get_space("tnb-micro"), get_space("tnb-macro")
TASKS = ("class_scene", "class_object", "room_layout", "jigsaw", "segmentsemantic", "normal", "autoencoder")
SAMPLES = {"tnb-micro": load_naslib_sample("tnb-micro"), "tnb-macro": load_naslib_sample("tnb-macro")}


def modules_and_cell(space, arch):
    return ("41414", arch) if space is MICRO else ("".join(map(str, arch)), None)


# ---- strings -------------------------------------------------------------------------------

def test_micro_forms_name_the_same_cell_in_the_benchmark_order():
    arch = MICRO.parse("64-41414-1_02_103")
    assert arch == (1, 0, 2, 1, 0, 3)
    assert MICRO.parse("(1, 0, 2, 1, 0, 3)") == arch == MICRO.parse(" (1,0,2,1,0,3) ")
    assert MICRO.format(arch) == "64-41414-1_02_103" and MICRO.naslib_key(arch) == "(1, 0, 2, 1, 0, 3)"


def test_macro_forms_drop_naslib_padding():
    arch = MACRO.parse("64-1242-basic")
    assert arch == (1, 2, 4, 2) == MACRO.parse("(1, 2, 4, 2, 0, 0)")
    assert MACRO.format(arch) == "64-1242-basic" and MACRO.naslib_key(arch) == "(1, 2, 4, 2, 0, 0)"
    assert MACRO.naslib_key(MACRO.parse("64-443311-basic")) == "(4, 4, 3, 3, 1, 1)"


@pytest.mark.parametrize("space,text,problem", [
    (MICRO, "64-41414-4_00_000", "op code 4"),
    (MICRO, "64-41414-1_00_00", "write 64-41414-A_BC_DEF"),
    (MICRO, "32-41414-1_00_000", "must start 64-41414-"),
    (MICRO, "64-4141-1_00_000", "must start 64-41414-"),
    (MICRO, "(1, 0, 0, 2, 1)", "six op codes"),
    (MICRO, "(1, 0, 0, 2, 1, x)", "six op codes"),
    (MICRO, "(1, 0, 0, 2, 1, -1)", "op code -1"),
    (MICRO, "|nor_conv_3x3~0|+|", "write 64-41414-A_BC_DEF"),
    (MACRO, "64-123-basic", "3 modules; valid: 4 to 6"),
    (MACRO, "64-1234123-basic", "7 modules"),
    (MACRO, "64-1250-basic", "module code 5"),
    (MACRO, "64-1111-basic", "halves the resolution 0 times"),
    (MACRO, "64-33333-basic", "halves the resolution 5 times"),
    (MACRO, "64-4444-basic", "doubles the channels 4 times"),
    (MACRO, "64-2211-basic", "halves the resolution 0 times"),
    (MACRO, "32-1234-basic", "must start 64-"),
    (MACRO, "(1, 0, 2, 4, 3, 0)", "0 (no module) before a module"),
    (MACRO, "(1, 2, 3, 4)", "six codes"),
    (MACRO, "64-1234-bottleneck", "write 64-CODES-basic"),
])
def test_bad_architectures_are_one_line_usage_errors(space, text, problem):
    with pytest.raises(UsageError) as err:
        space.parse(text)
    assert problem in str(err.value) and "\n" not in str(err.value)


def test_tasks_sets_and_bad_sets():
    assert tuple(MICRO.tasks) == tuple(MACRO.tasks) and set(MICRO.tasks) == set(TASKS)
    assert [MICRO.tasks[t].num_classes for t in TASKS] == [63, 100, 9, 1000, 17, 3, 3]
    assert MICRO.tasks["jigsaw"].input_shape == (9, 3, 64, 64)
    assert all(MICRO.tasks[t].input_shape == (3, 256, 256) for t in TASKS if t != "jigsaw")
    assert all(MICRO.tasks[t].higher_is_better for t in TASKS)
    for sets, problem in (({"channels": "7"}, "even"), ({"channels": "0"}, "channels"),
                          ({"num_classes": "0"}, "num_classes"), ({"width": "3"}, "unknown key")):
        with pytest.raises(UsageError, match=problem):
            build_in_space(MICRO, (3,) * 6, "class_scene", sets)
    with pytest.raises(UsageError, match="valid: class_scene"):
        MACRO.task("depth")


# ---- size, enumeration, search draws -----------------------------------------------------------

def test_micro_enumerates_all_4096_cells_once():
    cells = list(MICRO.enumerate())
    assert MICRO.size() == 4 ** 6 == len(set(cells)) == len(cells)


def test_macro_size_by_counting_halving_and_doubling_positions():
    # Each module independently halves or not and doubles or not, so for L modules there
    # are C(L, h) * C(L, d) code strings with h halvings and d doublings.
    count = sum(comb(n, h) * comb(n, d) for n in (4, 5, 6) for h in range(1, 5) for d in range(1, 4))
    archs = list(MACRO.enumerate())
    assert count == 3256 == MACRO.size() == len(set(archs))
    assert all(MACRO.parse(MACRO.format(a)) == a for a in archs)


@pytest.mark.parametrize("space", [MICRO, MACRO])
def test_sampling_is_seeded_and_mutation_is_a_valid_neighbour(space):
    draws = [space.sample(np.random.default_rng(5)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(1)
    arch = space.sample(rng)
    for _ in range(200):
        child = space.mutate(arch, rng)
        assert child != arch and space.parse(space.format(child)) == child
        if space is MICRO:
            assert sum(a != b for a, b in zip(arch, child)) == 1
        else:  # one module changed, added or removed
            n, m = len(arch), len(child)
            assert abs(n - m) <= 1
            if n == m:
                assert sum(a != b for a, b in zip(arch, child)) == 1
            else:
                short, long_ = sorted((arch, child), key=len)
                assert any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))
        arch = child


# ---- the shipped samples -------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tnb-micro", "tnb-macro"])
def test_sample_rows_round_trip_and_have_every_task(name):
    space, rows = get_space(name), SAMPLES[name]
    assert sample_tasks(name) == ["class_scene", "class_object", "autoencoder", "normal", "jigsaw",
                                  "room_layout", "segmentsemantic"]
    for row in rows:
        arch = space.parse(row["arch"])
        assert space.format(arch) == row["arch"] and space.naslib_key(arch) == row["naslib_key"]
        assert space.parse(row["naslib_key"]) == arch
    counts = {t: sum(r["task"] == t for r in rows) for t in TASKS}
    expected = {t: 711 for t in TASKS} if name == "tnb-micro" else {
        **{t: 725 for t in TASKS}, "class_scene": 662, "class_object": 662}
    assert counts == expected
    # room_layout is a loss that NASLib stores negated
    assert all(r["val_accuracy"] < 0 for r in rows if r["task"] == "room_layout")


@pytest.mark.skipif(not SUITE.exists(), reason="NASLib's JSON is not beside the checkout")
@pytest.mark.parametrize("name", ["tnb-micro", "tnb-macro"])
def test_csv_equals_naslib_json_value_for_value(name):
    data = json.loads((SUITE / f"naslib_zc_transbench101_{name[4:]}.json").read_text())
    rows = {(r["task"], r["naslib_key"]): r for r in SAMPLES[name]}
    assert len(rows) == sum(len(v) for v in data.values())
    for task, entries in data.items():
        for key, entry in entries.items():
            row = rows[(task, key)]
            assert row["val_accuracy"] == entry["val_accuracy"]
            for metric, value in entry.items():
                if metric in ("idx", "arch", "val_accuracy"):
                    continue
                assert row[f"naslib_{metric}"] == (value["score"] if isinstance(value, dict) else value)


@pytest.mark.skipif(not SUITE.exists(), reason="NASLib's JSON is not beside the checkout")
def test_csv_tool_rewrites_the_same_file(tmp_path):
    spec = importlib.util.spec_from_file_location("make_tnb_csv", ROOT / "tools" / "make_tnb_csv.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / "micro.csv"
    tool.main(["micro", str(SUITE / "naslib_zc_transbench101_micro.json"), "--out", str(out)])
    shipped = ROOT / "nnmass" / "spaces" / "data" / "tnb_micro_naslib.csv"
    assert out.read_text() == shipped.read_text()


# ---- parameters ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tnb-micro", "tnb-macro"])
def test_params_equal_naslib_for_every_row_of_every_task(name):
    space = get_space(name)
    wrong = []
    for row in SAMPLES[name]:
        arch, task = space.parse(row["arch"]), space.task(row["task"])
        count = network_params(*modules_and_cell(space, arch), task.name, task.num_classes)
        if round(count / 1e6, 6) != row["naslib_params"]:
            wrong.append((row["task"], row["arch"], count, row["naslib_params"]))
    assert wrong == []


@pytest.mark.parametrize("name", ["tnb-micro", "tnb-macro"])
def test_closed_form_params_equal_the_built_networks(name):
    space = get_space(name)
    rng = np.random.default_rng(3)
    rows = SAMPLES[name]
    for task in TASKS:
        picks = [r for r in rows if r["task"] == task]
        for i in rng.choice(len(picks), 2, replace=False):
            arch = space.parse(picks[int(i)]["arch"])
            with torch.device("meta"):
                model = build_in_space(space, arch, task)
            built = sum(p.numel() for p in model.parameters())
            assert built == network_params(*modules_and_cell(space, arch), task, space.tasks[task].num_classes)
    with torch.device("meta"):  # the --set keys reach the network
        model = build_in_space(space, space.sample(rng), "room_layout", {"channels": "16", "num_classes": "5"})
    assert model.decoder.fc.out_features == 5 and model.encoder.stem.conv.out_channels == 8


# ---- forward ---------------------------------------------------------------------------------

@pytest.mark.parametrize("space,arch", [(MICRO, "64-41414-3_13_302"), (MACRO, "64-443311-basic"),
                                        (MACRO, "64-3124-basic")])
def test_forward_shapes_per_task_on_a_reduced_input(space, arch):
    """Dense decoders upsample once per encoder halving, so a 64x64 input gives a 64x64 map."""
    torch.manual_seed(0)
    for task in TASKS:
        model = build_in_space(space, space.parse(arch), task, {"channels": "8"}).eval()
        x = torch.randn(2, 9, 3, 64, 64) if task == "jigsaw" else torch.randn(2, 3, 64, 64)
        with torch.no_grad():
            y = model(x)
        classes = space.tasks[task].num_classes
        assert y.shape == ((2, classes, 64, 64) if task in ("segmentsemantic", "normal", "autoencoder")
                           else (2, classes))
        assert torch.isfinite(y).all()


def test_micro_canonical_key_drops_dead_edges_and_relabels_the_two_inner_nodes():
    from nnmass.spaces import get_space
    micro = get_space("tnb-micro")
    key = lambda text: micro.canonical_key(micro.parse(text))  # noqa: E731
    # Node 2 reads only none edges: it is zero, so its edge into node 3 is dead whatever its op.
    assert key("64-41414-3_00_301") == key("64-41414-3_00_303") == key("64-41414-3_00_300")
    # Swapping nodes 1 and 2: 1<-0 conv3x3 and 3<-1 skip, against 2<-0 conv3x3 and 3<-2 skip.
    assert key("64-41414-3_00_010") == key("64-41414-0_30_001")
    assert key("64-41414-3_33_333") == "64-41414-3_33_333" and key("64-41414-0_00_000") == "64-41414-0_00_000"
    assert key("64-41414-2_00_010") != key("64-41414-3_00_010")
    keys = {micro.canonical_key(a) for a in micro.enumerate()}
    assert all(key(k) == k for k in keys)  # a key is its own key
    assert len(keys) < micro.size()
