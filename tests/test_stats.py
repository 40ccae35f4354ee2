"""Fits, correlations and the seed-cluster bootstrap against hand computations and scipy."""
import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as sp

from nnmass.errors import UsageError
from nnmass.stats import LinearFit, bootstrap_ci, correlations, fit_table, r2_score


def hand_r2(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    intercept = y.mean() - slope * x.mean()
    ss_res = np.sum((y - slope * x - intercept) ** 2)
    ss_tot = np.sum((y - y.mean()) ** 2)
    return slope, intercept, 1 - ss_res / ss_tot


def test_linear_fit_matches_hand_computed_r2():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    y = [2.1, 3.9, 6.2, 7.8, 10.1]
    slope, intercept, r2 = hand_r2(x, y)
    fit = LinearFit().fit(x, y)
    assert fit.slope_ == pytest.approx(slope) and fit.intercept_ == pytest.approx(intercept)
    assert fit.r2_ == pytest.approx(r2) and 0.99 < fit.r2_ < 1
    assert fit.predict([6.0])[0] == pytest.approx(slope * 6 + intercept)


def test_log_fit_is_a_fit_on_log_x():
    x = np.array([3.0, 10.0, 30.0, 100.0, 300.0])
    y = np.array([0.80, 0.86, 0.85, 0.91, 0.93])
    slope, _, r2 = hand_r2(np.log(x), y)
    fit = LinearFit(log_x=True).fit(x, y)
    assert fit.slope_ == pytest.approx(slope) and fit.r2_ == pytest.approx(r2)
    with pytest.raises(UsageError, match="x > 0"):
        LinearFit(log_x=True).fit([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("x, y", [([1, 2], [1, 2]), ([1, 2, 3], [1, 2]), ([1, 1, 1], [1, 2, 3])])
def test_bad_fit_input_is_a_usage_error(x, y):
    with pytest.raises(UsageError):
        LinearFit().fit(x, y)


def test_correlations_match_scipy_with_ties():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 40).astype(float)
    y = x + rng.integers(0, 4, 40)
    c = correlations(x, y)
    assert c["pearson"] == pytest.approx(sp.pearsonr(x, y)[0])
    assert c["spearman"] == pytest.approx(sp.spearmanr(x, y)[0])
    assert c["kendall"] == pytest.approx(sp.kendalltau(x, y)[0])  # tau-b
    assert np.isnan(correlations([1, 1, 1], [1, 2, 3])["pearson"])


def _noisy(seed=0, groups=5, per=8):
    rng = np.random.default_rng(seed)
    x = np.tile(np.linspace(1, 10, per), groups)
    y = 0.5 * x + rng.normal(0, 1.0, x.size)
    return x, y, np.repeat(np.arange(groups), per)


def test_bootstrap_is_reproducible_by_seed_and_contains_estimate():
    x, y, g = _noisy()
    stat = lambda a, b: r2_score(a, b)
    ci = bootstrap_ci(x, y, g, stat, n=300, seed=7)
    assert ci == bootstrap_ci(x, y, g, stat, n=300, seed=7)
    assert ci != bootstrap_ci(x, y, g, stat, n=300, seed=8)
    assert ci[0] <= r2_score(x, y) <= ci[1]


def test_bootstrap_resamples_whole_groups():
    # Groups of 1 and 10 points: drawing 2 whole groups gives 2, 11 or 20 points, never others.
    x = np.arange(11, dtype=float)
    groups = np.array([0] + [1] * 10)
    sizes = []
    bootstrap_ci(x, x, groups, lambda a, b: sizes.append(a.size) or 0.0, n=200, seed=0)
    assert set(sizes) == {2, 11, 20}


def _rows():
    rows = []
    rng = np.random.default_rng(1)
    for depth in (4, 6):
        for tc in (0, 1, 2, 4):
            for seed in (0, 1, 2):
                mass = depth * tc * 0.7
                rows.append({"key": f"{depth}-{tc}-{seed}", "status": "done", "seed": seed,
                             "spec_json": json.dumps({"depth": depth, "tc": tc, "seed": seed, "skips": [[seed]]}),
                             "nn_mass": mass, "params": 100 + 10 * depth + tc, "macs": None,
                             "test_acc": 0.5 + 0.01 * tc + rng.normal(0, 0.01), "ldi_mean": None})
    rows.append({"key": "x", "status": "failed", "seed": 0, "nn_mass": None, "params": None, "test_acc": None})
    return rows


def test_fit_table_fits_architecture_means_and_drops_mass_zero():
    rows = _rows()
    table = fit_table(rows, n_boot=50, seed=0)
    assert [(r["target"], r["predictor"]) for r in table] == [("test_acc", "nn_mass"), ("test_acc", "params")]
    mass_row, params_row = table
    # Independent: mean test accuracy per (depth, tc) over seeds, NN-Mass 0 left out of the log fit.
    means = {}
    for r in rows[:-1]:
        spec = json.loads(r["spec_json"])
        means.setdefault((spec["depth"], spec["tc"]), []).append(r)
    pts = [(rs[0]["nn_mass"], rs[0]["params"], np.mean([r["test_acc"] for r in rs])) for rs in means.values()]
    m = np.array([p for p in pts if p[0] > 0])
    assert mass_row["n"] == 6 and mass_row["n_excluded"] == 6 and mass_row["n_trials"] == 18
    assert mass_row["r2"] == pytest.approx(hand_r2(np.log(m[:, 0]), m[:, 2])[2])
    allp = np.array(pts)
    assert params_row["n"] == 8
    assert params_row["r2"] == pytest.approx(hand_r2(np.log(allp[:, 1]), allp[:, 2])[2])
    assert params_row["kendall"] == pytest.approx(sp.kendalltau(allp[:, 1], allp[:, 2])[0])
    for row in table:
        assert row["ci_over"] == "seeds" and row["n_groups"] == 3
        assert row["r2_lo"] <= row["r2_hi"] and 0 <= row["r2_lo"] and row["r2_hi"] <= 1


def test_stats_imports_without_torch():
    code = "import sys, nnmass.stats; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
