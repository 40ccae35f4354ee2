"""The DARTS space of NAS-Bench-301: both string forms, bad input, the network against
NASLib's published parameter counts, the packaged sample, sampling and the CLI."""
import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.spaces import get_space
from nnmass.spaces.darts import SPACE
from nnmass.spec.darts import OPS
from nnmass.spaces.samples import load_naslib_sample
from nnmass.models.space_networks import build_in_space

ROOT = Path(__file__).resolve().parents[1]
JSON_PATH = ROOT.parent / "shared" / "data" / "suite-zero" / "naslib_zc_nasbench301.json"
ROWS = load_naslib_sample("nb301")

# DARTS (second order) as its paper's genotypes.py prints it, concat as range(2, 6).
DARTS_V2 = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
            "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
            "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
            "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
            "('max_pool_3x3', 1)], reduce_concat=range(2, 6))")
# The same in NASLib's compact form, op ids written out from NASLib's order
# max_pool_3x3 0, avg_pool_3x3 1, skip_connect 2, sep_conv_3x3 3, sep_conv_5x5 4, dil_conv_3x3 5, dil_conv_5x5 6.
DARTS_V2_COMPACT = ("[[(0, 3), (1, 3), (0, 3), (1, 3), (1, 3), (0, 2), (0, 2), (2, 5)], "
                    "[(0, 0), (1, 0), (2, 2), (1, 0), (0, 0), (2, 2), (2, 2), (1, 0)]]")


# ---- strings --------------------------------------------------------------------------------

def test_both_forms_and_both_prefixes_name_the_same_architecture():
    assert get_space("darts") is get_space("nb301") is SPACE
    assert SPACE.name == "nb301" and SPACE.prefixes == ("nb301", "darts")
    arch = SPACE.parse(DARTS_V2)
    assert SPACE.parse(DARTS_V2_COMPACT) == arch
    assert arch[0][7] == ("dil_conv_3x3", 2) and arch[1][2] == ("skip_connect", 2)
    assert SPACE.naslib_key(arch) == DARTS_V2_COMPACT
    text = SPACE.format(arch)
    assert text == DARTS_V2.replace("range(2, 6)", "[2, 3, 4, 5]")
    assert SPACE.parse(text) == arch
    # NASLib's tuples, a namedtuple's positional fields and a module-qualified name read too.
    assert SPACE.parse(DARTS_V2_COMPACT.replace("[", "(").replace("]", ")")) == arch
    positional = text.replace("normal=", "").replace("normal_concat=", "").replace("reduce=", "").replace(
        "reduce_concat=", "")
    assert SPACE.parse(positional) == arch == SPACE.parse("genotypes." + text)


def test_canonical_key_sorts_the_two_pairs_of_each_node():
    arch = SPACE.parse(DARTS_V2)
    swapped = (tuple(p for k in range(4) for p in reversed(arch[0][2 * k:2 * k + 2])), arch[1])
    assert swapped != arch and SPACE.format(swapped) != SPACE.format(arch)
    assert SPACE.canonical_key(swapped) == SPACE.canonical_key(arch)
    assert SPACE.parse(SPACE.canonical_key(arch)) != arch  # DARTS_V2 lists (sep_conv, 1) before (skip, 0)


@pytest.mark.parametrize("text,why", [
    (DARTS_V2.replace("'sep_conv_3x3', 0", "'conv_7x7', 0", 1), "unknown op 'conv_7x7'"),
    (DARTS_V2.replace("'sep_conv_3x3', 0", "'none', 0", 1), "unknown op 'none'"),
    (DARTS_V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', 3)", 1), "node 2 reads state 3, which is not computed"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"), "node 5 reads state 5"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', -1)"), "has input -1"),
    (DARTS_V2.replace("('dil_conv_3x3', 2)]", "('dil_conv_3x3', 2), ('skip_connect', 3)]", 1), "has 9 pairs"),
    (DARTS_V2.replace("('skip_connect', 0), ('dil_conv_3x3', 2)", "('skip_connect', 0)"), "has 7 pairs"),
    (DARTS_V2.replace("('sep_conv_3x3', 1), ('skip_connect', 0)", "('sep_conv_3x3', 0), ('skip_connect', 0)"),
     "reads state 0 twice"),
    (DARTS_V2.replace("normal_concat=range(2, 6)", "normal_concat=[2, 3, 4]"), "concatenate nodes"),
    (DARTS_V2.replace("reduce_concat=range(2, 6)", "reduce_concat=range(2, 5)"), "concatenate nodes"),
    (DARTS_V2.replace(", reduce_concat=range(2, 6)", ""), "missing field(s) reduce_concat"),
    (DARTS_V2.replace("Genotype(", "Genotype(extra=1, "), "unexpected or repeated field 'extra'"),
    (DARTS_V2.replace("Genotype", "Phenotype"), "not a Genotype"),
    ("Genotype(normal=[", "not a Genotype"),
    ("Genotype(normal=__import__('os'), normal_concat=[2, 3, 4, 5], reduce=[], reduce_concat=[2, 3, 4, 5])",
     "normal is no list"),
    (DARTS_V2_COMPACT.replace("(2, 5)]", "(2, 7)]"), "op id 7; valid: 0-6"),
    (DARTS_V2_COMPACT.replace("(2, 5)]", "(5, 5)]"), "reads state 5"),
    (DARTS_V2_COMPACT.replace("(2, 5)]", "(2, 5), (3, 1)]"), "has 9 pairs"),
    (DARTS_V2_COMPACT.replace(", (1, 0)]]", "]]"), "reduce cell has 7 pairs"),
    ("[[(0, 3)]]", "not a list of two cells"),
    ("[[(0, 3), (1, 3)", "not a list of two cells"),
    ("[" + DARTS_V2_COMPACT[1:].replace("(0, 3), ", "(0, 3, 1), ", 1), "is (0, 3, 1), not a pair"),
    ("", "empty"),
    ("x" * 5000, "5000 characters"),
])
def test_bad_architectures_are_one_line_naming_the_problem(text, why):
    with pytest.raises(UsageError) as e:
        SPACE.parse(text)
    message = str(e.value)
    assert why in message and "\n" not in message
    assert "write" in message or "fewer than" in message


# ---- the network ---------------------------------------------------------------------------

def closed_form_params(arch, C=32, layers=8, classes=10, affine=False):
    """The parameter count written out: stem conv3x3 (3 -> 3C) + BN; per cell two 1x1
    input projections + BN (a factorized reduction, two 1x1 convs to C/2 each, after a
    reduction cell) and its ops; the classifier on 4C of the last stage."""
    bn_ops = 2 if affine else 0  # BN parameters per channel inside the ops
    total = 27 * 3 * C + 2 * 3 * C
    c_pp, c_p, c = 3 * C, 3 * C, C
    for i in range(layers):
        reduction = i in (layers // 3, 2 * layers // 3)
        c = 2 * c if reduction else c
        total += (c_pp * c + 2 * c) + (c_p * c + 2 * c)  # both projections: c_in * c weights, affine BN
        for op, source in arch[1 if reduction else 0]:
            k = int(op[-1]) if "conv_" in op and op != "skip_connect" else 0
            if op.startswith("sep_conv"):
                total += 2 * (k * k * c + c * c + bn_ops * c)
            elif op.startswith("dil_conv"):
                total += k * k * c + c * c + bn_ops * c
            elif op == "skip_connect" and reduction and source < 2:
                total += c * c + bn_ops * c
        c_pp, c_p = c_p, 4 * c
    return total + c_p * classes + classes


def test_closed_form_equals_the_built_modules_on_a_subset():
    archs = [SPACE.parse(r["arch"]) for r in ROWS[::97]] + [SPACE.parse(DARTS_V2)]
    for arch in archs:
        for sets, kw in (({}, {}), ({"C": "6", "layers": "5"}, {"C": 6, "layers": 5}),
                         ({"C": "4", "layers": "4", "ops": "darts"}, {"C": 4, "layers": 4, "affine": True})):
            with torch.device("meta"):
                model = build_in_space(SPACE, arch, None, sets)
            assert sum(p.numel() for p in model.parameters()) == closed_form_params(arch, **kw)


def test_params_equal_naslib_for_every_architecture_of_the_sample():
    assert len(ROWS) == 725
    for row in ROWS:
        assert round(closed_form_params(SPACE.parse(row["arch"])) / 1e6, 6) == row["naslib_params"], row["arch"]


def test_darts_evaluation_network_has_its_published_size():
    # DARTS (Liu et al. 2019), Table 1: DARTS (second order) at C=36, 20 cells has 3.3M
    # parameters; its training log prints 3.349342 (MB), without the auxiliary head.
    arch = SPACE.parse(DARTS_V2)
    with torch.device("meta"):
        model = build_in_space(SPACE, arch, None, {"C": "36", "layers": "20", "ops": "darts"})
    assert sum(p.numel() for p in model.parameters()) == 3_349_342
    reductions = [i for i, cell in enumerate(model.cells)
                  if any(getattr(m, "stride", None) in (2, (2, 2)) for m in cell.ops.modules())]
    assert reductions == [6, 13]  # 20 // 3 and 2 * 20 // 3


def test_forward_gives_ten_logits_and_sets_are_checked():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    for arch in (SPACE.parse(DARTS_V2), SPACE.parse(ROWS[0]["arch"])):
        for sets in ({"C": "8", "layers": "5"}, {"C": "4", "layers": "3", "ops": "darts"}):
            out = build_in_space(SPACE, arch, "cifar10", sets).eval()(x)
            assert out.shape == (2, 10) and torch.isfinite(out).all()
    arch = SPACE.parse(DARTS_V2)
    for sets, why in (({"C": "7"}, "C must be even"), ({"C": "0"}, "C "), ({"layers": "2"}, "layers "),
                      ({"ops": "nb"}, "ops must be naslib or darts"), ({"depth": "3"}, "unknown key")):
        with pytest.raises(UsageError, match=why):
            build_in_space(SPACE, arch, None, sets)
    with pytest.raises(UsageError, match="unknown nb301 task"):
        SPACE.task("cifar100")


# ---- the sample ----------------------------------------------------------------------------

def test_every_sample_row_parses_formats_back_and_keeps_its_naslib_key():
    assert {r["task"] for r in ROWS} == {"cifar10"}
    for row in ROWS:
        arch = SPACE.parse(row["arch"])
        assert SPACE.format(arch) == row["arch"]
        assert SPACE.naslib_key(arch) == row["naslib_key"] and SPACE.parse(row["naslib_key"]) == arch


@pytest.mark.skipif(not JSON_PATH.exists(), reason="NASLib's JSON is not beside the checkout")
def test_csv_holds_the_json_values_and_the_tool_regenerates_it(tmp_path):
    data = json.loads(JSON_PATH.read_text())["cifar10"]
    rows = {r["naslib_key"]: r for r in ROWS}
    assert set(rows) == set(data)
    for key, entry in data.items():
        row = rows[key]
        assert row["val_accuracy"] == entry["val_accuracy"]
        for metric in set(entry) - {"idx", "arch", "val_accuracy"}:
            assert row[f"naslib_{metric}"] == entry[metric]["score"], (key, metric)
        normal, reduce = ast.literal_eval(key)  # NASLib's (input, op id) pairs, op ids in OPS order
        assert SPACE.parse(row["arch"]) == tuple(tuple((OPS[o], s) for s, o in c) for c in (normal, reduce))
    spec = importlib.util.spec_from_file_location("make_nb301_csv", ROOT / "tools" / "make_nb301_csv.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(JSON_PATH), "--out", str(tmp_path / "out.csv")])
    assert (tmp_path / "out.csv").read_bytes() == (ROOT / "nnmass" / "spaces" / "data" / "nb301_naslib.csv"
                                                   ).read_bytes()


# ---- search --------------------------------------------------------------------------------

def valid(arch) -> bool:
    try:
        return SPACE.parse(SPACE.format(arch)) == arch
    except UsageError:
        return False


def test_sampling_is_seeded_and_valid_and_mutation_changes_exactly_one_pair():
    draws = [SPACE.sample(np.random.default_rng(5)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(11)
    archs = [SPACE.sample(rng) for _ in range(200)]
    assert all(valid(a) for a in archs) and len(set(archs)) == 200
    # Every input of node 5 is drawn: states 0-4, each about 2/5 of the time.
    sources = [p[1] for a in archs for p in a[0][6:]]
    assert {s: sources.count(s) for s in range(5)} == pytest.approx({s: 80 for s in range(5)}, abs=25)
    kinds = set()
    for arch in archs:
        child = SPACE.mutate(arch, rng)
        assert valid(child) and child != arch
        changed = [(c, i) for c in range(2) for i in range(8) if child[c][i] != arch[c][i]]
        assert len(changed) == 1
        (c, i), = changed
        kinds.add("op" if child[c][i][1] == arch[c][i][1] else "input")
    assert kinds == {"op", "input"}


# ---- the CLI -------------------------------------------------------------------------------

def test_mass_and_proxies_commands_read_either_prefix(capsys):
    compact = DARTS_V2_COMPACT.replace(" ", "")
    assert main(["mass", f"darts:{compact}", "--set", "C=4", "--set", "layers=3", "--json"]) == 0
    mass = json.loads(capsys.readouterr().out)
    assert mass["nn_mass"] > 0 and mass["unclassified"] == []
    assert main(["proxies", f"nb301:{DARTS_V2}", "--set", "C=4", "--set", "layers=3", "--proxies",
                 "params,nn_mass,synflow", "--batch", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    arch = SPACE.parse(DARTS_V2)
    assert out["scores"]["params"] == closed_form_params(arch, C=4, layers=3)
    assert out["scores"]["nn_mass"] == pytest.approx(mass["nn_mass"])
    assert main(["mass", "nb301:" + DARTS_V2_COMPACT.replace("(2, 5)]", "(2, 9)]")]) == 2
    assert "op id 9" in capsys.readouterr().err


def test_the_space_and_its_sample_import_no_torch():
    code = ("import sys\n"
            "from nnmass.spaces import get_space\n"
            "from nnmass.spaces.samples import load_naslib_sample\n"
            "import numpy as np\n"
            "space = get_space('darts')\n"
            "rows = load_naslib_sample('darts')\n"
            "a = space.mutate(space.parse(rows[0]['naslib_key']), np.random.default_rng(0))\n"
            "assert space.parse(space.format(a)) == a and len(rows) == 725\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
