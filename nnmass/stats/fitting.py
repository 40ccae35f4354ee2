"""Least-squares lines and rank correlations of a predictor against a target. Pure numpy + scipy."""
from __future__ import annotations

import numpy as np
from scipy import stats as _sp

from ..errors import UsageError

CORRELATIONS = ("pearson", "spearman", "kendall")


def _as_pair(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise UsageError(f"x and y must have the same length, got {x.size} and {y.size}")
    return x, y


class LinearFit:
    """Least-squares line ``y = slope * x + intercept`` with its R^2.

    Args:
        log_x: fit against ``ln(x)`` (the paper's log(NN-Mass), log(#Params)).
    """

    def __init__(self, log_x: bool = False):
        self.log_x = log_x

    def _transform(self, x: np.ndarray) -> np.ndarray:
        if not self.log_x:
            return x
        if np.any(x <= 0):
            raise UsageError("log fit needs every x > 0")
        return np.log(x)

    def fit(self, x, y) -> "LinearFit":
        """Fit the line; sets ``slope_``, ``intercept_``, ``r2_`` and ``n_``.

        R^2 = 1 - SS_res / SS_tot; nan when y is constant (nothing to explain).
        """
        x, y = _as_pair(x, y)
        if x.size < 3:
            raise UsageError(f"a fit needs at least 3 points, got {x.size}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise UsageError("a fit needs finite x and y values")
        t = self._transform(x)
        if np.ptp(t) == 0:
            raise UsageError("a fit needs at least two distinct x values")
        self.slope_, self.intercept_ = (float(v) for v in np.polyfit(t, y, 1))
        resid = y - (self.slope_ * t + self.intercept_)
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        self.r2_ = 1.0 - float(np.sum(resid ** 2)) / ss_tot if ss_tot > 0 else float("nan")
        self.n_ = int(x.size)
        return self

    def predict(self, x) -> np.ndarray:
        if not hasattr(self, "slope_"):
            raise RuntimeError("call fit() before predict()")
        return self.slope_ * self._transform(np.asarray(x, dtype=float)) + self.intercept_


def r2_score(x, y, log_x: bool = False) -> float:
    """R^2 of the least-squares line through ``(x, y)``; nan where no line can be fitted."""
    x, y = _as_pair(x, y)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return LinearFit(log_x).fit(x, y).r2_


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    dx, dy = x - x.mean(), y - y.mean()
    return float(np.dot(dx, dy) / np.sqrt(np.dot(dx, dx) * np.dot(dy, dy)))


PAIRWISE_KENDALL_MAX = 2_000
"""Up to this many points Kendall's tau-b counts all pairs with numpy, ~50x faster than
scipy's call overhead inside a bootstrap loop; beyond it scipy's O(n log n) count."""
PAIR_BLOCK = 1 << 15
"""Pairs compared at once (256 KB a float column): the pairwise count's memory stays
bounded whatever the number of points, rather than growing as n^2."""


def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b: (concordant - discordant) / sqrt(pairs untied in x) / sqrt(pairs
    untied in y), in scipy's order of operations (so both counts give the same float:
    the three pair sums are whole numbers, exact in any order of addition)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.size
    if n > PAIRWISE_KENDALL_MAX:
        return float(_sp.kendalltau(x, y).statistic)
    if n * (n - 1) // 2 <= PAIR_BLOCK:  # every pair at once
        i, j = np.triu_indices(n, 1)
        sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        xy, xx, yy = np.dot(sx, sy), np.dot(sx, sx), np.dot(sy, sy)
    else:
        xy = xx = yy = 0.0
        rows = max(1, PAIR_BLOCK // n)
        for a in range(0, n - 1, rows):
            b = min(a + rows, n - 1)
            # pairs (i, j), a <= i < b, i < j: row i - a against column j - a - 1, the upper triangle
            sx = np.triu(np.sign(x[a:b, None] - x[None, a + 1:])).ravel()
            sy = np.triu(np.sign(y[a:b, None] - y[None, a + 1:])).ravel()
            xy += float(np.dot(sx, sy))
            xx += float(np.count_nonzero(sx))
            yy += float(np.count_nonzero(sy))
    tau = xy / np.sqrt(xx) / np.sqrt(yy)
    return float(min(1.0, max(-1.0, tau)))


def correlations(x, y) -> dict[str, float]:
    """Pearson r, Spearman rho (average ranks for ties) and Kendall tau-b of ``x`` and
    ``y``; nan when either is constant or there are fewer than 3 points."""
    x, y = _as_pair(x, y)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {k: float("nan") for k in CORRELATIONS}
    return {"pearson": _pearson(x, y),
            "spearman": spearman(x, y),
            "kendall": kendall_tau_b(x, y)}


def average_ranks(values) -> np.ndarray:
    """``scipy.stats.rankdata(values)`` (1-based, ties given their average rank), value for
    value, in a few numpy steps: the bootstrap ranks a column about a million times in a
    study, where scipy's checks and wrappers cost several times the sort. Each rank is a
    whole or half number, exact in any order of operations. Arrays holding nan, or not
    1-D, go to scipy (whose nan policy applies)."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or np.isnan(x).any():
        return _sp.rankdata(x)
    order = np.argsort(x, kind="mergesort")
    ordered = x[order]
    first = np.empty(x.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)  # 0-based position of each group of equal values
    counts = np.diff(np.append(starts, x.size))
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)
    return ranks


def spearman(x, y) -> float:
    """Spearman's rho with average ranks for ties; nan when either side is constant or
    there are fewer than 3 points."""
    x, y = _as_pair(x, y)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return _pearson(average_ranks(x), average_ranks(y))


def spearman_of_ranks(rx: np.ndarray, ry: np.ndarray) -> float:
    """:func:`spearman` from the two columns' average ranks (neither constant)."""
    return _pearson(rx, ry)


def partial_spearman(x, y, z) -> float:
    """Spearman's rho of ``x`` and ``y`` with ``z`` held fixed: the Pearson correlation of
    the ranks of ``x`` and ``y`` after the least-squares line on the ranks of ``z`` is taken
    out of each. With ``z = log #params`` it says what a score knows beyond size."""
    return partial_of_ranks(*(average_ranks(v) for v in (x, y, z)))


def partial_of_ranks(rx: np.ndarray, ry: np.ndarray, rz: np.ndarray) -> float:
    """:func:`partial_spearman` from the three columns' average ranks."""
    a = np.column_stack([np.ones_like(rz), rz])
    res_x = rx - a @ np.linalg.lstsq(a, rx, rcond=None)[0]
    res_y = ry - a @ np.linalg.lstsq(a, ry, rcond=None)[0]
    if np.ptp(res_x) == 0 or np.ptp(res_y) == 0:
        return float("nan")
    return _pearson(res_x, res_y)


def top_precision(score, target, fraction: float = 0.1) -> float:
    """Of the ``ceil(fraction n)`` best-scored architectures, the share that are among the
    ``ceil(fraction n)`` most accurate (ties broken by position, stable)."""
    score, target = np.asarray(score, dtype=float), np.asarray(target, dtype=float)
    k = max(1, int(np.ceil(fraction * score.size)))
    best = set(np.argsort(-score, kind="stable")[:k].tolist())
    truth = set(np.argsort(-target, kind="stable")[:k].tolist())
    return len(best & truth) / k
