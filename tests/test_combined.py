"""Combined scores: the rank aggregation against a brute-force count, the expression
grammar, and ``rank``/``proxies``/grids with a combination."""
import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sp

from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.proxies.combined import NAMED, Combination, combine, members_to_score, parse_score, parse_scores
from nnmass.proxies.proxy_names import PROXY_NAMES
from nnmass.sweep.grid import grid_from_dict

ROOT = Path(__file__).resolve().parents[1]


def brute_rank(values):
    """Ascending average rank of each value, undefined (nan) below every defined one."""
    def below(w, v):
        return (math.isnan(w) and not math.isnan(v)) or (not math.isnan(w) and not math.isnan(v) and w < v)

    def same(w, v):
        return (math.isnan(w) and math.isnan(v)) or w == v
    # A group of `equal` values tied after `less` smaller ones takes ranks less+1 .. less+equal.
    return [sum(below(w, v) for w in values) + (sum(same(w, v) for w in values) + 1) / 2 for v in values]


def brute_combine(members):
    n = len(members[0])
    ranks = [brute_rank([float(x) for x in m]) for m in members]
    out = []
    for i in range(n):
        if all(math.isnan(float(m[i])) for m in members):
            out.append(math.nan)
        else:
            out.append(sum(math.log(r[i] / n) for r in ranks))
    return np.array(out)


# ---- the aggregation ----------------------------------------------------------------------

def test_aggregation_by_hand_on_four_networks():
    # member a: 1, 2, 2, nan -> ranks 2, 3.5, 3.5, 1 (nan last, the tie shares 3 and 4)
    # member b: 3, nan, 1, nan -> ranks 4, 1.5, 3, 1.5 (the two nans share 1 and 2)
    got = combine([[1, 2, 2, np.nan], [3, np.nan, 1, np.nan]])
    want = [math.log(2 / 4) + math.log(4 / 4), math.log(3.5 / 4) + math.log(1.5 / 4),
            math.log(3.5 / 4) + math.log(3 / 4)]
    assert got[:3] == pytest.approx(want, abs=1e-12)
    assert math.log(1 / 4) + math.log(1.5 / 4) != got[3] and math.isnan(got[3])  # undefined on every member


def test_aggregation_equals_brute_force_with_ties_and_nans():
    rng = np.random.default_rng(7)
    for trial in range(20):
        n = int(rng.integers(2, 15))
        members = []
        for _ in range(int(rng.integers(1, 4))):
            m = rng.integers(0, 4, size=n).astype(float)  # few values: many ties
            m[rng.random(n) < 0.25] = np.nan
            members.append(m)
        got, want = combine(members), brute_combine(members)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        assert got[~np.isnan(got)] == pytest.approx(want[~np.isnan(want)], abs=1e-12)


def test_the_best_network_scores_zero_and_a_population_of_one_is_refused():
    got = combine([[5.0, 1.0, 3.0], [9.0, 2.0, 2.5]])
    assert got[0] == 0.0 and got[1] == pytest.approx(2 * math.log(1 / 3))
    with pytest.raises(UsageError, match="needs a population of at least 2 networks, got 1"):
        combine([[1.0], [2.0]])
    with pytest.raises(UsageError, match="differ in length"):
        combine([[1.0, 2.0], [1.0, 2.0, 3.0]])


# ---- the grammar --------------------------------------------------------------------------

def test_expressions_parse_to_proxies_and_combinations():
    assert parse_score("params") == "params"  # a single name is a plain proxy
    assert parse_score(" NN_mass + params ") == Combination("nn_mass+params", ("nn_mass", "params"))
    assert parse_score("mass_size") == Combination("mass_size", ("nn_mass", "params"))
    assert parse_score("mass_size-nn_mass") == Combination("mass_size-nn_mass", ("params",))
    assert NAMED["mass_size"] == ("nn_mass", "params") and NAMED["ensemble"] == ("meco",)
    # A one-member combination is that member's log(rank / n): meco's order, undefined values last.
    # Its undefined network is undefined in the combination (every member is).
    got = parse_score("ensemble").combine({"meco": [0.3, np.nan, 0.9, 0.1]})  # ranks 3, (1: last), 4, 2
    assert got[[0, 2, 3]] == pytest.approx([math.log(3 / 4), 0.0, math.log(2 / 4)], abs=1e-12)
    assert math.isnan(got[1])
    parsed = parse_scores("synflow,mass_size,nn_mass+params+zico,synflow")
    assert [getattr(p, "expression", p) for p in parsed] == ["synflow", "mass_size", "nn_mass+params+zico"]
    assert members_to_score(parsed) == ("synflow", "nn_mass", "params", "zico")
    assert members_to_score("all,mass_size") == PROXY_NAMES


@pytest.mark.parametrize("text, match", [
    ("nn_mass+nn_mass", "names nn_mass twice"),
    ("nn_mass+bogus", "unknown proxy 'bogus' in 'nn_mass\\+bogus'"),
    ("bogus", "unknown proxy 'bogus'"),
    ("nn_mass++params", "empty member in 'nn_mass\\+\\+params'"),
    ("+params", "empty member"),
    ("", "empty proxy name"),
    ("mass_size+zico", "puts the combination mass_size inside another; write its members instead "
                       "\\(nn_mass\\+params\\)"),
    ("mass_size-zico", "'zico' is not a member of mass_size"),
    ("mass_size-nn_mass-params", "drops every member of mass_size"),
    ("params-nn_mass", "only a shipped combination"),
    ("ensemble+nn_mass", "puts the combination ensemble inside another"),
    ("ensemble-nn_mass", "'nn_mass' is not a member of ensemble \\(meco\\)"),
])
def test_bad_expressions_are_one_line_with_the_valid_names(text, match):
    with pytest.raises(UsageError, match=match) as info:
        parse_scores(text, "--proxies")
    message = str(info.value)
    assert "\n" not in message and message.startswith("--proxies")
    if "unknown" in match or "empty" in match:
        assert ", ".join(PROXY_NAMES) in message and "mass_size" in message


# ---- where a proxy name is accepted ---------------------------------------------------------

ARCHS = ["|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|",
         "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_3x3~2|",
         "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|",
         "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|skip_connect~1|nor_conv_1x1~2|",
         "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
         "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
         "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|nor_conv_1x1~2|",
         "|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|skip_connect~1|avg_pool_3x3~2|"]
ACCURACY = [88.0, 71.5, 60.2, 84.9, 91.3, 55.0, 89.5, 83.0]


def test_rank_cli_ranks_a_combination_as_the_aggregation_of_the_stored_members(tmp_path, capsys):
    table, store = tmp_path / "t.csv", tmp_path / "s.sqlite"
    table.write_text("arch,acc\n" + "".join(f"{a},{acc}\n" for a, acc in zip(ARCHS, ACCURACY)))
    assert main(["rank", str(table), "--arch-column", "arch", "--target", "acc", "--space", "nb201",
                 "--proxies", "params,nn_mass,mass_size", "--store", str(store), "--json", "--no-progress",
                 "--bootstrap", "20"]) == 0
    rows = {r["proxy"]: r for r in json.loads(capsys.readouterr().out)}
    assert list(rows) == ["params", "nn_mass", "mass_size"]
    with sqlite3.connect(store) as db:  # the members as stored, combined here independently
        stored = {(n, p): (v, s) for n, p, v, s in db.execute("SELECT network, proxy, value, seconds FROM scores")}
    assert {p for _, p in stored} == {"params", "nn_mass"}  # members only: a combination is never stored
    from nnmass.rank.scoring import canonical_network
    keys = [canonical_network(a, "nb201") for a in ARCHS]  # each row's network is stored canonically
    members = [[stored[k, p][0] for k in keys] for p in ("nn_mass", "params")]
    want = brute_combine(members)
    row = rows["mass_size"]
    assert row["spearman"] == pytest.approx(sp.spearmanr(want, ACCURACY).statistic, abs=1e-12)
    assert row["kendall"] == pytest.approx(sp.kendalltau(want, ACCURACY).statistic, abs=1e-12)
    assert row["n"] == 8 and row["undefined"] == 0 and row["distinct"] == len(set(np.round(want, 12)))
    assert row["spearman_lo"] <= row["spearman_hi"]
    seconds = sum(np.mean([stored[k, p][1] for k in keys]) for p in ("nn_mass", "params"))
    assert row["seconds_per_arch"] == pytest.approx(seconds, rel=1e-9)
    assert rows["mass_size"]["spearman"] != rows["params"]["spearman"]  # it is not a copy of a member


def test_rank_cli_refuses_a_combination_over_one_row(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(f"arch,acc\n{ARCHS[0]},90\n")
    out = subprocess.run([sys.executable, "-m", "nnmass", "rank", str(table), "--arch-column", "arch", "--target",
                          "acc", "--space", "nb201", "--proxies", "params,nn_mass+params", "--store",
                          str(tmp_path / "s.sqlite"), "--no-progress"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0 and "needs at least 2 rows, the table has 1" in out.stderr
    assert not (tmp_path / "s.sqlite").exists()  # refused before anything was scored


def test_proxies_of_one_network_refuse_a_combination_in_one_line():
    out = subprocess.run([sys.executable, "-m", "nnmass", "proxies", f"nb201:{ARCHS[0]}", "--proxies",
                          "params,mass_size"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr and out.stderr.strip().count("\n") == 0
    assert "'mass_size' is a combined score, which ranks networks against a population" in out.stderr


@pytest.mark.parametrize("listed", [["snip", "mass_size"], ["synflow + snip"], ["mass_size-params"],
                                    ["ensemble"]])
def test_a_grid_refuses_a_combination_in_one_line(listed):
    base = {"name": "p", "model": "dense-mlp", "dataset": "digits", "epochs": 1, "grid": {"depth": [4]}}
    with pytest.raises(UsageError, match="is a combined score, which ranks networks against a population, and "
                                         "each trial is scored alone") as info:
        grid_from_dict({**base, "proxies": listed}, source="g.yaml")
    assert "\n" not in str(info.value)


def test_forward_selection_of_choose_ensemble_takes_the_informative_members_and_stops():
    import importlib.util
    spec = importlib.util.spec_from_file_location("choose_ensemble", ROOT / "tools" / "choose_ensemble.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    rng = np.random.default_rng(3)
    n = 300
    target = rng.normal(size=n)
    scores = {p: rng.normal(size=n) for p in PROXY_NAMES}  # noise, except two noisy views of the target
    scores["zico"], scores["meco"] = target + rng.normal(size=n), target + 1.2 * rng.normal(size=n)
    chosen, path = tool.forward_selection(scores, target, np.arange(n))
    single = {p: sp.spearmanr(scores[p], target).statistic for p in PROXY_NAMES}
    first = max(single, key=single.get)
    assert first in ("zico", "meco") and chosen == [first, {"zico": "meco", "meco": "zico"}[first]]
    assert path[0][1] == pytest.approx(single[first], abs=1e-12)
    both = np.log(sp.rankdata(scores["zico"]) / n) + np.log(sp.rankdata(scores["meco"]) / n)
    assert path[1][1] == pytest.approx(sp.spearmanr(both, target).statistic, abs=1e-12)
    assert path[-1][2] is False and path[-1][1] - path[1][1] < tool.MIN_GAIN  # stopped by the threshold
