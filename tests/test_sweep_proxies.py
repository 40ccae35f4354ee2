"""Sweeps record training-free proxies: the grid key (checked torch-free), the trial's
scores at init (equal to each proxy's own function on the same batch, training
untouched), and ``fit``/``report`` ranking them beside NN-Mass, like for like."""
import json
import re
import math

import numpy as np
import pytest
from scipy import stats as sp

from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.stats.proxy_fits import best_predictor, proxy_table
from nnmass.store import ResultStore
from nnmass.studies import load_study_grid
from nnmass.sweep import LocalExecutor, run_sweep
from nnmass.sweep.grid import grid_from_dict

BASE = {"name": "p", "model": "dense-mlp", "dataset": "digits", "epochs": 1, "fixed": {"width": 4},
        "grid": {"depth": [4, 6], "tc": [2, 8]}, "seeds": [0, 1], "train": {"batch_size": 64, "lr": 0.01},
        "ldi": {"batch": 4, "seed": 0}}
PROXIES = ["synflow", "snip", "zico", "nwot"]


def grid(**kw):
    return grid_from_dict({**BASE, **kw}, source="g.yaml")


@pytest.mark.parametrize("kw, match", [
    ({"proxies": ["snip", "bogus"]}, "proxies: unknown proxy 'bogus'"),
    ({"proxies": "snip"}, "proxies must be a non-empty list"),
    ({"proxies": []}, "proxies must be a non-empty list"),
    ({"proxies": ["params", "snip"]}, "proxies lists params, which every trial stores already"),
    ({"proxies": ["zico"], "proxy_batch": 1}, "proxy_batch 1 is too small for zico: they need at least 2 samples"),
    ({"proxies": ["snip"], "proxy_batch": "8"}, "proxy_batch must be an integer in 1..65536"),
    ({"proxy_batch": 8}, "proxy_batch is set but no proxies are listed"),
])
def test_grid_proxies_are_checked_in_one_line(kw, match):
    with pytest.raises(UsageError, match=re.escape(f"grid file 'g.yaml': {match}")):
        grid(**kw)


def test_proxies_enter_the_key_only_when_listed():
    plain, listed = grid(), grid(proxies=["snip"])
    assert [t.key for t in plain.trials()] == [t.key for t in grid_from_dict(dict(BASE), source="g").trials()]
    assert not {t.key for t in plain.trials()} & {t.key for t in listed.trials()}
    assert listed.trials()[0].proxies == ("snip",) and listed.trials()[0].proxy_batch == 64
    assert grid(proxies=["snip"], proxy_batch=8).trials()[0].key != listed.trials()[0].key


def test_the_packaged_mlp_studies_list_proxies_defined_on_elu_mlps():
    for quick in (False, True):
        g = load_study_grid("mnist-mlp", quick)
        assert g.proxies and not {"nwot", "meco", "params", "macs", "nn_mass"} & set(g.proxies)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sweep")
    with_proxies, without = grid(proxies=PROXIES, proxy_batch=16), grid(name="plain")
    with ResultStore(tmp / "s.sqlite") as store:
        run_sweep(with_proxies, store, LocalExecutor(1), progress=False)
        rows = store.trials()
    with ResultStore(tmp / "plain.sqlite") as store:
        run_sweep(without, store, LocalExecutor(1), progress=False)
        plain = store.trials()
    return tmp, rows, plain


def test_trials_store_the_proxies_of_their_network_at_init(swept):
    import dataclasses

    from nnmass import proxies
    from nnmass.data import load_dataset
    from nnmass.models import build
    from nnmass.proxies.data_batch import data_batch
    from nnmass.spec import spec_from_json

    _, rows, plain = swept
    data = load_dataset("digits")
    batch = data_batch(data, 16, seed=0)
    batch = dataclasses.replace(batch, inputs=batch.inputs.flatten(1))
    for row in rows:
        assert row["status"] == "done"
        stored = json.loads(row["proxies_json"])
        assert stored["batch"] == 16 and set(stored["scores"]) == set(stored["seconds"]) == set(PROXIES)
        model = build(spec_from_json(row["spec_json"]), seed=row["seed"])  # the trial's network at init
        own = proxies.run_proxies(model, dataclasses.replace(batch, seed=row["seed"]), PROXIES).scores
        assert stored["scores"]["nwot"] is None and math.isnan(own["nwot"])  # ELU: no ReLU codes, undefined
        assert {k: v for k, v in stored["scores"].items() if k != "nwot"} == \
            {k: v for k, v in own.items() if k != "nwot"}
    # Scoring leaves the model as it was: training gives the same numbers as without proxies.
    assert [r["test_acc"] for r in rows] == [r["test_acc"] for r in plain]
    assert all(r["proxies_json"] is None for r in plain)


def test_proxy_table_ranks_every_predictor_on_the_same_architectures(swept):
    _, rows, _ = swept
    table = proxy_table(rows, n_boot=50, seed=0)
    assert table["proxies"] == ["synflow", "snip", "zico"] and table["undefined"] == ["nwot"]
    acc = [r for r in table["rows"] if r["target"] == "test_acc"]
    assert [r["predictor"] for r in acc] == ["nn_mass", "params", "macs", "synflow", "snip", "zico"]
    assert {r["n"] for r in acc} == {4} and {r["n_trials"] for r in acc} == {8}
    # Each architecture is one point, the mean over its seeds.
    by_arch = {}
    for r in rows:
        key = (json.loads(r["spec_json"])["depth"], json.loads(r["spec_json"])["tc"])
        by_arch.setdefault(key, []).append((json.loads(r["proxies_json"])["scores"]["snip"], r["test_acc"]))
    x = [np.mean([v[0] for v in vs]) for vs in by_arch.values()]
    y = [np.mean([v[1] for v in vs]) for vs in by_arch.values()]
    snip = next(r for r in acc if r["predictor"] == "snip")
    expected = sp.spearmanr(x, y).statistic
    assert snip["spearman"] == pytest.approx(expected) or (math.isnan(snip["spearman"]) and math.isnan(expected))
    best = best_predictor(table)
    assert best is None or best["spearman"] == max(r["spearman"] for r in acc if not math.isnan(r["spearman"]))


def test_a_proxy_undefined_on_some_trials_shrinks_every_row_of_its_target():
    rows = [{"status": "done", "key": str(i), "spec_json": json.dumps({"depth": i}), "test_acc": a, "nn_mass": m,
             "params": 10 + i, "macs": 5 + i,
             "proxies_json": json.dumps({"scores": {"snip": s, "zen": None}})}
            for i, (a, m, s) in enumerate([(0.1, 0.0, 1.0), (0.3, 2.0, None), (0.5, 3.0, 2.0), (0.7, 5.0, 4.0),
                                           (0.6, 4.0, 3.5)])]
    table = proxy_table(rows, targets=("test_acc",), n_boot=0)
    assert table["undefined"] == ["zen"]
    assert {r["n"] for r in table["rows"]} == {4} and {r["n_excluded"] for r in table["rows"]} == {1}
    mass = next(r for r in table["rows"] if r["predictor"] == "nn_mass")
    assert mass["spearman"] == pytest.approx(1.0)  # NN-Mass 0 stays in: no log is taken
    assert proxy_table([{**r, "proxies_json": None} for r in rows])["rows"] == []


def test_fit_and_report_include_the_proxies(swept, capsys):
    tmp, _, _ = swept
    store = str(tmp / "s.sqlite")
    assert main(["fit", store, "--bootstrap", "20"]) == 0
    text = capsys.readouterr().out
    assert "Rank correlations at init" in text and "undefined on every trial: nwot" in text and "zico" in text
    assert main(["fit", store, "--bootstrap", "0", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ranked = [r for r in rows if r.get("kind") == "rank"]
    assert ranked and {r["predictor"] for r in ranked} >= {"nn_mass", "synflow", "snip", "zico"}
    assert all("r2" in r for r in rows if r.get("kind") != "rank")
    assert main(["report", store, "--out", str(tmp / "rep"), "--bootstrap", "0", "--format", "md"]) == 0
    report = (tmp / "rep" / "report.md").read_text()
    assert "## Training-free proxies" in report and "Undefined on every trial, so left out: nwot" in report
