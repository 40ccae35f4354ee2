"""`nnmass study suite-zero` on a cut-down task list: the tables, the agreement with
NASLib's scores, the heat map and the report."""
import json

import numpy as np
import pytest

import nnmass.studies.suite_zero as suite
from nnmass.studies.nb201_data import load_nb201_sample
from nnmass.studies.suite_zero import SuiteTask, run_suite_zero_study, task_proxies, task_table
from study_calls import study_kwargs


def test_quick_tables_are_seeded_and_the_same_on_nb201s_datasets():
    a, b = task_table(SuiteTask("nb201", "cifar10"), True), task_table(SuiteTask("nb201", "cifar100"), True)
    assert len(a) == suite.QUICK_ARCHS and set(a.networks) == set(b.networks)
    assert task_table(SuiteTask("nb201", "cifar10"), True).networks == a.networks
    full = load_nb201_sample("cifar10")
    by_arch = {r["arch"]: r["val_accuracy"] for r in full}
    assert np.array_equal(a.target, [by_arch[n] for n in a.networks])


def test_heavy_tasks_get_the_data_free_scores_in_quick():
    assert task_proxies(SuiteTask("tnb-micro", "jigsaw"), True) == list(suite.DATA_FREE) + ["mass_size"]
    assert {"meco", "mass_size", "ensemble"} <= set(task_proxies(SuiteTask("tnb-micro", "jigsaw"), False))
    assert {"meco", "mass_size", "ensemble"} <= set(task_proxies(SuiteTask("nb101", "cifar10"), True))


def test_suite_study_ranks_reports_and_agrees_with_naslib(tmp_path, monkeypatch):
    monkeypatch.setattr(suite, "QUICK_ARCHS", 6)
    monkeypatch.setattr(suite, "task_proxies", lambda task, quick: ["params", "nn_mass"])
    tasks = [SuiteTask("nb201", "cifar10"), SuiteTask("nb201", "ImageNet16-120")]
    result = run_suite_zero_study(quick=True, store=tmp_path / "s.sqlite", out=tmp_path / "report", workers=1,
                                  progress=False, n_boot=20, tasks=tasks)
    record = json.loads((tmp_path / "report" / "results.json").read_text())
    assert record["tasks"] == ["nb201/cifar10", "nb201/ImageNet16-120"]
    assert "This run covers 2 of the study's" in result.report.read_text()
    assert (tmp_path / "report" / "rho_heatmap.png").stat().st_size > 0
    assert "Spearman rho, proxies by tasks" in result.report.read_text()
    # Our params are NB201's, so they rank exactly as NASLib's published params do.
    assert record["agreement"]["nb201/cifar10"]["params"]["spearman"] == pytest.approx(1.0)
    rows = {(r["task"], r["proxy"]): r for r in result.fits}
    table = task_table(tasks[0], True)
    from scipy.stats import spearmanr
    naslib_params = [r["naslib_params"] for r in table.rows]
    assert rows["nb201/cifar10", "params"]["spearman"] == pytest.approx(spearmanr(naslib_params, table.target)[0])


def test_tasks_flag_selects_spaces_and_labels_in_the_studys_order():
    chosen = suite.select_tasks("tnb-micro/jigsaw, nb101,nb201/cifar100,nb101/cifar10")
    assert [t.label for t in chosen] == ["nb101/cifar10", "nb201/cifar100", "tnb-micro/jigsaw"]
    every = suite.suite_tasks()
    assert [t.label for t in suite.select_tasks("tnb-macro")] == [t.label for t in every if t.space == "tnb-macro"]
    assert len(suite.select_tasks("nb101,nb201,nb301,tnb-micro,tnb-macro")) == len(every)


def test_tasks_flag_is_checked_and_reaches_the_study(capsys, monkeypatch, tmp_path):
    from hostile_helpers import refused
    refused(capsys, ["study", "suite-zero", "--tasks", "nb201/cifar1000"], "--tasks: unknown task 'nb201/cifar1000'")
    refused(capsys, ["study", "nb201-proxies", "--tasks", "nb101"], "suite-zero only")
    seen = study_kwargs(monkeypatch, suite, "run_suite_zero_study",
                        ["study", "suite-zero", "--tasks", "nb301,nb101", "--store", str(tmp_path / "s.sqlite"),
                         "--no-progress"])
    assert [t.label for t in seen["tasks"]] == ["nb101/cifar10", "nb301/cifar10"]


def test_limit_draws_the_quick_subsets_and_extends_them():
    jigsaw = SuiteTask("tnb-micro", "jigsaw")
    assert task_table(jigsaw, False, limit=suite.QUICK_TNB_ARCHS).networks == task_table(jigsaw, True).networks
    small, large = task_table(jigsaw, False, limit=7), task_table(jigsaw, False, limit=30)
    assert len(small) == 7 and len(large) == 30 and set(small.networks) < set(large.networks)
    c10, c100 = task_table(SuiteTask("nb201", "cifar10"), False, 9), task_table(SuiteTask("nb201", "cifar100"), False, 9)
    assert len(c10) == 9 and set(c10.networks) == set(c100.networks)


def test_limit_flag_is_checked_and_reaches_the_study(capsys, monkeypatch, tmp_path):
    from hostile_helpers import refused
    refused(capsys, ["study", "suite-zero", "--quick", "--limit", "20"], "--quick draws its own subsets")
    refused(capsys, ["study", "nb201-proxies", "--limit", "20"], "suite-zero only")
    refused(capsys, ["study", "suite-zero", "--limit", "1"], "--limit")
    seen = study_kwargs(monkeypatch, suite, "run_suite_zero_study",
                        ["study", "suite-zero", "--tasks", "tnb-micro", "--limit", "20", "--store",
                         str(tmp_path / "s.sqlite"), "--no-progress"])
    assert seen["limit"] == 20 and seen["quick"] is False


def test_limited_study_ranks_that_many_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(suite, "task_proxies", lambda task, quick: ["params"])
    result = run_suite_zero_study(store=tmp_path / "s.sqlite", out=tmp_path / "report", workers=1, progress=False,
                                  n_boot=0, tasks=[SuiteTask("nb101", "cifar10")], limit=5)
    record = json.loads((tmp_path / "report" / "results.json").read_text())
    assert record["limit"] == 5 and record["networks"]["nb101/cifar10"] <= 5
    assert "Subset: 5 architectures per task" in result.report.read_text()
    table = task_table(SuiteTask("nb101", "cifar10"), False, 5)
    assert [r["n"] for r in result.fits] == [len(table)]
