"""`nnmass search`: candidates, budgets in closed form, the cascade, the table's regret,
the model file, resuming from the score store, and bad input in one line."""
import csv
import json
import math

import numpy as np
import pytest

from cli_in_process import run_cli as nnmass
from nnmass.errors import UsageError
from nnmass.search.costs import candidate_costs, network_costs
from nnmass.search.strategies import aging_evolution, uniform_sample
from nnmass.spaces import get_space
from nnmass.models.space_networks import build_in_space

NB201 = get_space("nb201")


def test_closed_form_costs_equal_the_built_networks():
    rng = np.random.default_rng(5)
    archs = [NB201.sample(rng) for _ in range(30)]  # more than the 25 terms: the closed form is used
    params, macs, how = candidate_costs(NB201, archs, "cifar100")
    assert how == "closed form"
    for i in (0, 7, 29):
        model = build_in_space(NB201, archs[i], "cifar100")
        assert params[i] == sum(p.numel() for p in model.parameters())
        assert (params[i], macs[i]) == network_costs(NB201, archs[i], "cifar100")


def test_closed_form_costs_hold_on_transnas_micro_cells_too():
    micro = get_space("tnb-micro")
    rng = np.random.default_rng(1)
    archs = [micro.sample(rng) for _ in range(30)]
    sets = {"channels": 8}  # a narrow encoder keeps the 31 builds cheap; the rule is the same
    params, macs, how = candidate_costs(micro, archs, "class_object", sets)
    assert how == "closed form"
    for i in (0, 29):
        assert (params[i], macs[i]) == network_costs(micro, archs[i], "class_object", sets)


def test_uniform_sample_is_seeded_and_distinct():
    a, b = uniform_sample(NB201, 50, seed=3), uniform_sample(NB201, 50, seed=3)
    assert a == b and len({NB201.format(x) for x in a}) == 50
    assert uniform_sample(NB201, 50, seed=4) != a
    with pytest.raises(UsageError, match="more than the 15,625"):
        uniform_sample(NB201, 20_000, seed=0)


def test_aging_evolution_climbs_a_simple_fitness():
    def convs(archs):  # fitness: the number of 3x3 convolutions; its optimum is the all-conv cell
        return [sum(op == "nor_conv_3x3" for op in a) for a in archs]
    found = aging_evolution(NB201, 300, seed=0, fitness=convs, population=20, tournament=5)
    assert len(found) == 300 and len({NB201.format(a) for a in found}) == 300
    assert max(convs(found)) == 6
    assert max(convs(found[:20])) < 6  # the first population did not have it


def _table(tmp_path, archs, values):
    path = tmp_path / "table.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "acc"])
        w.writerows([NB201.format(a), v] for a, v in zip(archs, values))
    return path


def test_search_cli_picks_the_best_scored_and_gives_the_regret(tmp_path):
    archs = uniform_sample(NB201, 6, seed=11)
    accs = [80.0, 85.5, 70.25, 91.0, 60.0, 88.0]
    store, out = tmp_path / "s.sqlite", tmp_path / "best.json"
    args = ["search", "nb201", "--samples", "6", "--seed", "11", "--score", "params", "--store", str(store),
            "--table", str(_table(tmp_path, archs, accs)), "--target", "acc", "--json", "--no-progress"]
    res = nnmass(*args, "--out", str(out))
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert {"space", "score", "strategy", "candidates", "evaluated", "seconds", "top", "best_in_table",
            "regret"} <= set(got)
    # Candidates are canonical networks: each built from its canonical string and counted.
    canonical = {NB201.canonical_key(a) for a in archs}
    built = {a: sum(p.numel() for p in build_in_space(NB201, NB201.parse(a), "cifar10").parameters()) for a in canonical}
    assert [r["params"] for r in got["top"]] == sorted(built.values(), reverse=True)
    assert built[got["top"][0]["arch"]] == max(built.values())
    written = [NB201.format(a) for a in archs]
    chosen = accs[written.index(got["top"][0]["arch"])] if got["top"][0]["arch"] in written else None
    assert got["best_in_table"] == 91.0
    assert got["regret"] == (None if chosen is None else pytest.approx(91.0 - chosen))
    assert got["candidates"] == 6 and got["evaluated"] == got["computed"] == len(canonical)
    # The model file names the chosen network for `mass`; a rerun computes nothing.
    mass = nnmass("mass", str(out), "--json")
    assert mass.returncode == 0, mass.stderr
    assert json.loads(mass.stdout)["params"] == got["top"][0]["params"]
    again = json.loads(nnmass(*args).stdout)
    assert again["computed"] == 0 and again["top"] == got["top"]


def test_the_cascade_scores_only_the_kept_fraction(tmp_path):
    res = nnmass("search", "nb201", "--samples", "8", "--score", "nn_mass", "--screen", "params", "--keep", "0.25",
                 "--store", str(tmp_path / "s.sqlite"), "--json", "--no-progress")
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    stages = {s["stage"]: s for s in got["stages"]}
    distinct = stages["candidates"]["kept"]  # canonical networks among the 8 drawn
    assert got["candidates"] == 8 and stages["screen"]["seen"] == distinct
    assert stages["screen"]["kept"] == math.ceil(0.25 * distinct) == got["evaluated"]


def test_search_shards_split_the_candidates_and_merge_to_the_whole_search(tmp_path):
    from nnmass.rank.merge import merge_stores
    from nnmass.rank.table import shard_of

    def search(store, *extra):
        res = nnmass("search", "nb201", "--samples", "12", "--score", "params", "--top", "12", "--store",
                     str(store), "--json", "--no-progress", *extra)
        assert res.returncode == 0, res.stderr
        return json.loads(res.stdout)

    parts = [search(tmp_path / f"p{k}.sqlite", "--shard", f"{k}/2") for k in range(2)]
    whole = search(tmp_path / "whole.sqlite")
    canonical = {row["arch"] for row in whole["top"]}
    for k, part in enumerate(parts):
        assert part["shard"] == f"{k}/2" and {row["arch"] for row in part["top"]} == {
            a for a in canonical if shard_of(a, 2) == k}
    merge_stores(tmp_path / "merged.sqlite", [tmp_path / "p0.sqlite", tmp_path / "p1.sqlite"])
    merged = search(tmp_path / "merged.sqlite")
    assert merged["computed"] == 0 and merged["top"] == whole["top"]


@pytest.mark.parametrize("argv, message", [
    (["nb201"], "give --all or --samples N"),
    (["nb101", "--strategy", "evolution", "--samples", "4", "--shard", "0/2"], "cannot be split"),
    (["nb201", "--samples", "4", "--shard", "0/2/1"], "--shard"),
    (["nb201", "--all", "--strategy", "evolution"], "needs --samples"),
    (["nb201", "--samples", "4", "--screen", "params"], "go together"),
    (["nb201", "--samples", "20000"], "more than the 15,625"),
    (["nb201", "--samples", "4", "--score", "synflow+bogus"], "unknown proxy 'bogus'"),
    (["nb201", "--samples", "4", "--keep", "1.5", "--screen", "params"], "--keep"),
    (["nb201", "--samples", "4", "--dataset", "svhn"], "unknown nb201 task"),
    (["nb201", "--samples", "4", "--max-params", "1K"], "no candidate is within"),
])
def test_bad_search_input_is_one_line(tmp_path, argv, message):
    res = nnmass("search", *argv, "--store", str(tmp_path / "s.sqlite"), "--no-progress")
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["nb201", "--set", "foo=1"], "unknown key(s) foo for nb201:ARCH"),
    (["nb201", "--set", "num_classes=0"], "num_classes must be an integer in 1..4096"),
    (["nb101", "--set", "channels=0"], "channels must be an integer in 1..4096"),
    (["nb201", "--screen", "foo", "--keep", "0.5"], "--screen: unknown proxy 'foo'"),
    (["nb201", "--workers", "100000"], "--workers"),
])
def test_bad_settings_are_refused_before_the_store_is_touched(tmp_path, argv, message):
    res = nnmass("search", *argv, "--samples", "4", "--store", str(tmp_path / "s.sqlite"), "--no-progress")
    assert res.returncode == 2 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.sqlite").exists()  # no network scored, no failed rows stored
