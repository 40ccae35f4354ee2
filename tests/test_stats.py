"""Fits, correlations and the seed-cluster bootstrap against hand computations and scipy."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as sp

from nnmass.errors import UsageError
from nnmass.stats import (LinearFit, bootstrap_ci, check_enough_architectures, correlations, fit_table,
                          partial_spearman, r2_score, spearman, top_precision)


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
    ci = bootstrap_ci(x, y, stat, n=300, seed=7)
    assert ci == bootstrap_ci(x, y, stat, n=300, seed=7)
    assert ci != bootstrap_ci(x, y, stat, n=300, seed=8)
    assert ci[0] <= r2_score(x, y) <= ci[1]


def test_bootstrap_draws_architectures_then_their_seeds():
    # Architecture 0 has one trial, architecture 1 has ten: every resample has two points,
    # one per drawn architecture, each the mean of its own (resampled) trials.
    x = np.array([100.0] + list(range(10)))
    units = np.array([0] + [1] * 10)
    seen = []
    bootstrap_ci(x, x, lambda a, b: seen.append(a.copy()) or 0.0, units, n=300, seed=0)
    assert {len(a) for a in seen} == {2}
    values = {v for a in seen for v in a.tolist()}
    assert 100.0 in values  # the lone trial is its architecture's mean
    others = values - {100.0}
    # Seeds within architecture 1 are resampled: its means vary around 4.5, within 0..9.
    assert len(others) > 20 and all(0 <= v <= 9 for v in others)
    fixed = []
    bootstrap_ci(x, x, lambda a, b: fixed.append(a.copy()) or 0.0, units, n=100, seed=0, within=False)
    assert {v for a in fixed for v in a.tolist()} <= {100.0, 4.5}


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


def test_fit_table_fits_every_predictor_on_the_same_architectures():
    rows = _rows()
    table = fit_table(rows, n_boot=50, seed=0)
    assert [(r["target"], r["predictor"]) for r in table] == [("test_acc", "nn_mass"), ("test_acc", "params")]
    mass_row, params_row = table
    # Independent: mean test accuracy per (depth, tc) over seeds. NN-Mass 0 has no log, so
    # those architectures leave both fits: #Params is fitted on the same 6, not all 8.
    means = {}
    for r in rows[:-1]:
        spec = json.loads(r["spec_json"])
        means.setdefault((spec["depth"], spec["tc"]), []).append(r)
    pts = np.array([(rs[0]["nn_mass"], rs[0]["params"], np.mean([r["test_acc"] for r in rs]))
                    for rs in means.values() if rs[0]["nn_mass"] > 0])
    for row in table:
        assert row["n"] == 6 and row["n_excluded"] == 6 and row["n_trials"] == 18
        assert row["ci_over"] == "architectures, and seeds within them"
        assert row["r2_lo"] <= row["r2_hi"] and 0 <= row["r2_lo"] and row["r2_hi"] <= 1
    assert mass_row["r2"] == pytest.approx(hand_r2(np.log(pts[:, 0]), pts[:, 2])[2])
    assert params_row["r2"] == pytest.approx(hand_r2(np.log(pts[:, 1]), pts[:, 2])[2])
    assert params_row["kendall"] == pytest.approx(sp.kendalltau(pts[:, 1], pts[:, 2])[0])


def test_too_few_architectures_are_refused():
    rows = [r for r in _rows() if json.loads(r.get("spec_json") or "{}").get("tc") in (1, 2)
            and json.loads(r["spec_json"])["depth"] == 4]
    with pytest.raises(UsageError, match="at least 3 architectures"):
        check_enough_architectures(fit_table(rows, n_boot=0))


def test_partial_spearman_and_top_precision_by_hand():
    # The textbook first-order partial correlation of Spearman's rhos (scipy's each).
    rng = np.random.default_rng(3)
    z = rng.normal(size=60)
    x, y = z + rng.normal(size=60), z + 0.5 * rng.normal(size=60)
    rxy, rxz, ryz = (sp.spearmanr(a, b)[0] for a, b in ((x, y), (x, z), (y, z)))
    assert spearman(x, y) == pytest.approx(rxy)
    assert partial_spearman(x, y, z) == pytest.approx((rxy - rxz * ryz) / np.sqrt((1 - rxz**2) * (1 - ryz**2)))
    assert partial_spearman(x, y, z) < rxy  # most of what x says about y is z
    # Top 10% of 20 is 2: the best-scored 2 are {19, 18}; the most accurate 2 are {19, 0}.
    score, target = np.arange(20.0), np.r_[19.0, np.arange(1.0, 19.0), 20.0]
    assert top_precision(score, target) == 0.5


def test_stats_imports_without_torch():
    code = "import sys, nnmass.stats; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bootstrap_of_single_points_draws_as_the_general_loop():
    # The fast path for one trial per unit must give the loop's draws and numbers.
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=40), rng.normal(size=40)
    stat = lambda a, b: [np.corrcoef(a, b)[0, 1], a.mean()]
    lo, hi = bootstrap_ci(x, y, stat, n=200, seed=5)
    gen = np.random.Generator(np.random.PCG64(5))
    values = []
    for _ in range(200):
        drawn = gen.integers(0, 40, 40)
        values.append(stat(np.array([x[[u]].mean() for u in drawn]), np.array([y[[u]].mean() for u in drawn])))
    expected = np.array([np.quantile(col, [0.025, 0.975]) for col in np.array(values).T])
    np.testing.assert_allclose(np.stack([lo, hi], 1), expected, rtol=1e-13, atol=1e-15)
    assert bootstrap_ci(x, y, stat, units=np.arange(40), n=200, seed=5)[0].tolist() == lo.tolist()


@pytest.mark.parametrize("n", [3, 40, 256, 257, 900, 2000])  # one block, the blocked count, the bound
def test_pairwise_kendall_equals_scipy_exactly_in_bounded_memory(n):
    """Whole pair sums are exact in any order, so the pairwise count, in blocks of at
    most PAIR_BLOCK pairs beyond 256 points, gives scipy's float itself."""
    import tracemalloc

    from nnmass.stats.fitting import PAIR_BLOCK, kendall_tau_b
    g = np.random.Generator(np.random.PCG64(n))
    x = np.round(g.normal(size=n), 1)  # ties on both sides
    y = np.round(x + g.normal(size=n), 1)
    tracemalloc.start()
    tau = kendall_tau_b(x, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert tau == float(sp.kendalltau(x, y).statistic)
    assert peak < 8 * 8 * PAIR_BLOCK  # a few float columns of one block, not n^2 pairs


def test_average_ranks_are_scipys_bit_for_bit():
    from scipy.stats import rankdata

    from nnmass.stats.fitting import average_ranks
    rng = np.random.Generator(np.random.PCG64(7))
    cases = [np.array([]), np.array([3.0]), np.array([2.0, 2.0, 2.0]), np.array([0.0, -0.0, 1.0, -np.inf, np.inf]),
             np.array([np.inf, 1.0, np.inf, -np.inf])]
    cases += [rng.integers(0, k, n).astype(float) for n in (2, 7, 100, 1001) for k in (1, 3, 40)]  # many ties
    cases += [rng.normal(size=n) for n in (5, 64, 725)]
    for values in cases:
        ours, theirs = average_ranks(values), rankdata(values)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), values
    with_nan = np.array([1.0, np.nan, 0.5])  # scipy's nan policy: every rank nan
    assert np.isnan(average_ranks(with_nan)).all() and np.isnan(rankdata(with_nan)).all()


def test_resampled_ranks_are_the_sorted_ranks_of_each_resample():
    """Counting a resample's draws of each distinct value gives ``average_ranks`` of the
    resampled values exactly, ties, signed zeros and single values included."""
    from nnmass.stats.fitting import average_ranks
    from nnmass.stats.resampled_ranks import ResampledRanks
    g = np.random.Generator(np.random.PCG64(11))
    columns = [np.round(g.normal(size=500), 1), g.normal(size=300), np.array([0.0, -0.0, 2.0, 2.0, -1.0]),
               np.full(7, 3.5), np.array([1.0, 2.0, 3.0])]
    for values in columns:
        ranked = ResampledRanks(values)
        for _ in range(20):
            drawn = g.integers(0, values.size, values.size)
            ours, sorted_ranks = ranked.ranks(drawn), average_ranks(values[drawn])
            assert ours.dtype == sorted_ranks.dtype and np.array_equal(ours, sorted_ranks)
            assert ranked.constant(drawn) == (np.ptp(values[drawn]) == 0)
    with pytest.raises(ValueError, match="without nan"):
        ResampledRanks([1.0, np.nan])


def test_resampled_stats_equal_the_sorting_statistics_of_the_resample():
    """The bootstrap's statistic with counted ranks gives the floats of spearman, kendall_tau_b
    and partial_spearman (which sort) on the resampled values, every resample, whichever
    statistics are asked for; nan for a constant resample, and partial nan for a constant size."""
    from nnmass.rank.statistics import ResampledStats, rank_stats
    from nnmass.stats import kendall_tau_b, partial_spearman, spearman
    g = np.random.Generator(np.random.PCG64(5))

    def sorted_stats(s, t, z, which):
        if np.ptp(s) == 0 or np.ptp(t) == 0:
            return [math.nan] * len(which)
        by_name = {"spearman": lambda: spearman(s, t), "kendall": lambda: kendall_tau_b(s, t),
                   "partial_spearman": lambda: partial_spearman(s, t, z) if np.ptp(z) > 0 else math.nan}
        return [by_name[name]() for name in which]

    for n, size in ((3000, None), (60, None), (40, np.full(40, 2.0)), (4, None)):  # scipy's Kendall, the pairwise one
        target = g.normal(size=n)
        score = np.round(target + g.normal(size=n), 1)
        log_size = np.round(g.normal(size=n), 2) if size is None else np.log(size)
        for which in (("spearman", "kendall", "partial_spearman"), ("spearman",), ("kendall", "spearman")):
            stat = ResampledStats(score, target, log_size, which)
            for _ in range(15):
                drawn = g.integers(0, n, n)
                ours = stat(drawn.astype(float))
                theirs = sorted_stats(score[drawn], target[drawn], log_size[drawn], which)
                assert np.array_equal(ours, theirs, equal_nan=True), (n, which, ours, theirs)
            assert np.array_equal(rank_stats(score, target, log_size, which),
                                  sorted_stats(score, target, log_size, which), equal_nan=True)
    stuck = ResampledStats(np.array([1.0, 2.0, 3.0]), np.array([3.0, 1.0, 2.0]), np.zeros(3))
    assert all(math.isnan(v) for v in stuck(np.zeros(3)))  # one point drawn three times: constant
    assert all(math.isnan(v) for v in rank_stats([1.0, 2.0], [2.0, 1.0], [0.0, 1.0]))  # fewer than 3 points


def test_bootstrap_members_are_each_units_trials_in_order():
    from nnmass.stats.bootstrap import _members
    g = np.random.Generator(np.random.PCG64(2))
    for size, units in ((200, 13), (50, 50), (1, 1), (0, 1)):
        codes = np.unique(g.integers(0, units, size), return_inverse=True)[1]
        expected = [np.flatnonzero(codes == u) for u in range(codes.max() + 1 if codes.size else 0)]
        got = _members(codes)
        assert len(got) == len(expected) and all(np.array_equal(a, b) for a, b in zip(got, expected))
