"""`nnmass study nb201-search` on a small pool: the protocol, the whole-pool pick, the
cascade and the baselines, checked against the stored scores and the table."""
import json

import numpy as np
import pytest

from nnmass.studies.nb201_search import run_nb201_search_study, zero_shot_protocol


def test_protocol_picks_the_best_scored_of_each_draw():
    archs = [f"a{i:02d}" for i in range(30)]
    accuracy = np.arange(30, dtype=float)
    score = -np.arange(30, dtype=float)  # the lower the index, the better the score
    got = zero_shot_protocol(lambda ix: score[ix], archs, accuracy, 5, 4, seed=1)
    for r, pick in enumerate(got["picks"]):
        index = np.random.Generator(np.random.PCG64([1, 5, r])).choice(30, size=5, replace=False)
        assert pick == accuracy[index.min()]
    assert got["mean"] == pytest.approx(np.mean(got["picks"]))


def test_study_on_a_small_pool(tmp_path):
    result = run_nb201_search_study(quick=True, store=tmp_path / "s.sqlite", out=tmp_path / "r", workers=1,
                                    progress=False, n_boot=20, scores=["params", "mass_size"], pool=120)
    record = json.loads((tmp_path / "r" / "results.json").read_text())
    rec = record["datasets"]["cifar10"]
    assert rec["architectures"] == 120
    from nnmass.spaces.nb201_full import load_nb201_full
    table = {r["arch"]: r["val_accuracy"] for r in load_nb201_full("cifar10")}
    assert rec["optimum"]["accuracy"] == table[rec["optimum"]["arch"]]
    assert all(rec["optimum"]["accuracy"] >= v[k]["accuracy"] for v in rec["scores"].values()
               for k in ("whole", "cascade"))
    # The most-parameters baseline is the params score's own whole-pool pick.
    assert rec["most_params"]["arch"] == rec["scores"]["params"]["whole"]["arch"]
    assert table[rec["scores"]["mass_size"]["whole"]["arch"]] == rec["scores"]["mass_size"]["whole"]["accuracy"]
    assert rec["scores"]["params"]["cascade"]["kept"] == 12
    assert (tmp_path / "r" / "search_cifar10.png").stat().st_size > 0
    assert result.report.exists()


def test_datasets_flag_is_checked(capsys):
    from hostile_helpers import refused
    refused(capsys, ["study", "nb201-search", "--datasets", "cifar10,cifar1000"], "--datasets: unknown nb201 task")
    refused(capsys, ["study", "suite-zero", "--quick", "--datasets", "cifar10"], "nb201-search only")


def test_datasets_flag_reaches_the_study(monkeypatch, tmp_path):
    import nnmass.studies.nb201_search as search_study
    from study_calls import study_kwargs
    seen = study_kwargs(monkeypatch, search_study, "run_nb201_search_study",
                        ["study", "nb201-search", "--datasets", "ImageNet16-120,cifar10,cifar10", "--store",
                         str(tmp_path / "s.sqlite"), "--no-progress"])
    assert seen["datasets"] == ["ImageNet16-120", "cifar10"]
