"""`nnmass study ... --shard K/N`: each shard scores its part of the study's networks and
writes no report; the merged shards' store gives the unsharded study's statistics and
scores nothing."""
import json
import sqlite3

import pytest

import nnmass.studies.suite_zero as suite
from nnmass.rank.merge import merge_stores
from nnmass.rank.table import shard_of
from nnmass.studies.nb201_search import run_nb201_search_study, space_rows
from nnmass.studies.suite_zero import SuiteTask, run_suite_zero_study

TASKS = [SuiteTask("nb201", "cifar10"), SuiteTask("nb301", "cifar10")]


def _statistics(out):
    """The rows and the agreement with NASLib, without the timings."""
    record = json.loads((out / "results.json").read_text())
    rows = {task: [{k: v for k, v in row.items() if k != "seconds_per_arch"} for row in rows]
            for task, rows in record["rank"].items()}
    return rows, record["agreement"]


@pytest.fixture
def small_suite(monkeypatch):
    monkeypatch.setattr(suite, "QUICK_ARCHS", 8)
    monkeypatch.setattr(suite, "task_proxies", lambda task, quick: ["params", "nn_mass", "mass_size"])


@pytest.mark.parametrize("shards", [2, 3])
def test_merged_study_shards_give_the_unsharded_study(tmp_path, small_suite, shards):
    kwargs = dict(quick=True, workers=1, progress=False, n_boot=30, tasks=TASKS)
    run_suite_zero_study(store=tmp_path / "whole.sqlite", out=tmp_path / "whole", **kwargs)
    parts = []
    for k in range(shards):
        part = run_suite_zero_study(store=tmp_path / f"part{k}.sqlite", out=tmp_path / f"r{k}", shard=(k, shards),
                                    **kwargs)
        assert part.report is None and part.shard == f"{k}/{shards}" and not (tmp_path / f"r{k}").exists()
        for row, task in zip(part.fits, TASKS):
            table = suite.task_table(task, True)
            assert row["networks"] == len({n for n in table.networks if shard_of(n, shards) == k})
            assert row["scored now"] == row["networks"]
        parts.append(tmp_path / f"part{k}.sqlite")
    merge_stores(tmp_path / "merged.sqlite", parts)
    run_suite_zero_study(store=tmp_path / "merged.sqlite", out=tmp_path / "merged", **kwargs)
    assert all(s["scored"] == 0 for s in json.loads((tmp_path / "merged" / "results.json").read_text())[
        "scoring"].values())
    assert _statistics(tmp_path / "merged") == _statistics(tmp_path / "whole")


def test_search_study_shard_scores_its_part_of_the_pool(tmp_path):
    kwargs = dict(quick=True, workers=1, progress=False, scores=["params"], datasets=["cifar10"], pool=40)
    part = run_nb201_search_study(store=tmp_path / "p.sqlite", out=tmp_path / "r", shard=(1, 2), **kwargs)
    networks = set(space_rows("cifar10", 40)[2])
    assert part.report is None and part.fits[0]["networks"] == len({n for n in networks if shard_of(n, 2) == 1})


def test_shard_flag_is_checked(capsys):
    from hostile_helpers import refused
    refused(capsys, ["study", "mnist-mlp", "--shard", "0/2"], "--shard applies to the studies that score networks")
    refused(capsys, ["study", "suite-zero", "--shard", "2/2"], "--shard's K")
    refused(capsys, ["study", "nb201-proxies", "--shard", "one"], "K/N")


def test_proxy_study_shard_scores_every_proxy_of_its_networks(tmp_path, small_suite):
    from nnmass.proxies.combined import members_to_score
    from nnmass.proxies.proxy_names import PROXY_NAMES
    from nnmass.studies.nb201_proxies import run_nb201_proxy_study
    table = suite.task_table(SuiteTask("nb201", "cifar10"), True)
    part = run_nb201_proxy_study(store=tmp_path / "p.sqlite", out=tmp_path / "r", workers=1, progress=False,
                                 tables={"cifar10": table}, shard=(1, 2))
    mine = {n for n in table.networks if shard_of(n, 2) == 1}
    assert part.report is None and part.fits == [{"task": "cifar10", "networks": len(mine), "scored now": len(mine),
                                                   "reused": 0, "failed": 0}]
    with sqlite3.connect(tmp_path / "p.sqlite") as db:
        stored = set(db.execute("SELECT network, proxy FROM scores"))
    assert {n for n, _ in stored} == mine and {p for _, p in stored} == set(members_to_score(PROXY_NAMES))
