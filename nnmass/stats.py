"""Fits and correlations that say how well a topology measure predicts accuracy or LDI.

Pure numpy + scipy. The paper fits a straight line to accuracy against
log(NN-Mass) and log(#Params) and compares R^2 (Sec. 4.2, Fig. 3). We add rank
correlations and bootstrap confidence intervals that resample whole seeds
(a cluster bootstrap), because trials that share a seed are not independent.
"""
from __future__ import annotations

import json
from typing import Callable, Iterable, Sequence

import numpy as np
from scipy import stats as _sp

from .errors import UsageError

TARGETS = ("test_acc", "ldi_mean", "ldi_prop2_mean")
PREDICTORS = ("nn_mass", "params", "macs")
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


def _kendall_tau_b(x: np.ndarray, y: np.ndarray) -> float:
    # Over all pairs: (concordant - discordant) / sqrt(pairs untied in x * pairs untied in y).
    # O(n^2) memory, fine for the few hundred points a sweep has, and ~50x faster
    # than scipy's call overhead inside a bootstrap loop.
    i, j = np.triu_indices(x.size, 1)
    sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    return float(np.dot(sx, sy) / np.sqrt(np.dot(sx, sx) * np.dot(sy, sy)))


def correlations(x, y) -> dict[str, float]:
    """Pearson r, Spearman rho (average ranks for ties) and Kendall tau-b of ``x`` and
    ``y``; nan when either is constant or there are fewer than 3 points."""
    x, y = _as_pair(x, y)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {k: float("nan") for k in CORRELATIONS}
    return {"pearson": _pearson(x, y),
            "spearman": _pearson(_sp.rankdata(x), _sp.rankdata(y)),
            "kendall": _kendall_tau_b(x, y)}


def _unit_means(x, y, units) -> tuple[np.ndarray, np.ndarray]:
    """Mean x and y per unit id, in order of first appearance."""
    _, first, inverse = np.unique(units, return_index=True, return_inverse=True)
    counts = np.bincount(inverse)
    mx = np.bincount(inverse, weights=x) / counts
    my = np.bincount(inverse, weights=y) / counts
    order = np.argsort(first)
    return mx[order], my[order]


def bootstrap_ci(x, y, groups, stat: Callable[[np.ndarray, np.ndarray], float], n: int = 1000,
                 seed: int = 0, level: float = 0.95, units=None):
    """Percentile bootstrap interval of ``stat(x, y)`` resampling whole groups.

    Args:
        groups: group id per point (the training seed); a resample draws as many
            groups as there are, with replacement, and keeps all their points.
            ``None`` resamples single points.
        stat: the statistic, e.g. ``lambda x, y: r2_score(x, y, log_x=True)``;
            it may return a vector to bootstrap several statistics on the same draws.
        n: number of resamples.
        seed: seeds the ``numpy.random.Generator`` (PCG64) that draws them.
        units: optional unit id per point (the architecture); each resample is
            averaged per unit before ``stat``, as the point estimate is.

    Returns:
        ``(lo, hi)`` (arrays for a vector stat); nan where fewer than half the
        resamples give a finite value.
    """
    x, y = _as_pair(x, y)
    if n < 1:
        raise UsageError(f"bootstrap resamples must be >= 1, got {n}")
    if not 0 < level < 1:
        raise UsageError(f"confidence level must be in (0, 1), got {level}")
    groups = np.arange(x.size) if groups is None else np.asarray(groups)
    if units is not None:  # integer codes: np.unique on strings in the loop is slow
        units = np.unique(np.asarray(units), return_inverse=True)[1]
    ids, inverse = np.unique(groups, return_inverse=True)
    members = [np.flatnonzero(inverse == g) for g in range(ids.size)]
    rng = np.random.Generator(np.random.PCG64(seed))
    values = []
    for _ in range(n):
        idx = np.concatenate([members[g] for g in rng.integers(0, ids.size, ids.size)])
        bx, by = x[idx], y[idx]
        if units is not None:
            bx, by = _unit_means(bx, by, units[idx])
        values.append(np.asarray(stat(bx, by), dtype=float))
    values = np.stack(values)
    alpha = (1 - level) / 2
    finite = np.isfinite(values)
    lo = np.full(values.shape[1:], np.nan)
    hi = np.full(values.shape[1:], np.nan)
    for k in np.ndindex(values.shape[1:]):
        col = values[(slice(None),) + k][finite[(slice(None),) + k]]
        if col.size >= n / 2:
            lo[k], hi[k] = np.quantile(col, [alpha, 1 - alpha])
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def architecture_id(row: dict) -> str:
    """What identifies an architecture across seeds: its spec without seed and skip links."""
    spec = row.get("spec_json")
    if spec:
        d = json.loads(spec) if isinstance(spec, str) else dict(spec)
        d.pop("seed", None)
        d.pop("skips", None)
        return json.dumps(d, sort_keys=True)
    return str(row.get("key", id(row)))


def _usable(rows: Iterable[dict], target: str, predictor: str, log: bool) -> list[dict]:
    out = []
    for r in rows:
        if r.get("status", "done") != "done":
            continue
        xv, yv = r.get(predictor), r.get(target)
        if xv is None or yv is None or not (np.isfinite(xv) and np.isfinite(yv)):
            continue
        if log and xv <= 0:  # log(0) is undefined: NN-Mass 0 (no skips) stays out of log fits
            continue
        out.append(r)
    return out


def fit_row(rows: Sequence[dict], target: str, predictor: str, *, log: bool = True,
            mean_over_seeds: bool = True, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """One line of :func:`fit_table`: fit and correlations of ``target`` on ``predictor``."""
    used = _usable(rows, target, predictor, log)
    out = {"target": target, "predictor": predictor, "log": log, "n_trials": len(used),
           "n_excluded": sum(1 for r in rows if r.get("status", "done") == "done") - len(used)}
    x = np.array([r[predictor] for r in used], dtype=float)
    y = np.array([r[target] for r in used], dtype=float)
    units = np.array([architecture_id(r) for r in used]) if mean_over_seeds else None
    seeds = [r.get("seed") for r in used]
    groups = np.array(seeds) if len(set(seeds)) >= 2 and None not in seeds else None
    out["ci_over"] = "seeds" if groups is not None else "points"
    out["n_groups"] = len(set(seeds)) if groups is not None else len(used)
    px, py = (_unit_means(x, y, units) if units is not None and x.size else (x, y))
    out["n"] = int(px.size)
    tx = np.log(px) if log else px
    enough = px.size >= 3 and np.ptp(px) > 0
    if enough:
        fit = LinearFit(log_x=log).fit(px, py)
        out.update(slope=fit.slope_, intercept=fit.intercept_, r2=fit.r2_)
    else:
        out.update(slope=float("nan"), intercept=float("nan"), r2=float("nan"))
    out.update(correlations(tx, py))
    def all_stats(a, b):
        c = correlations(np.log(a) if log else a, b)
        # R^2 of a least-squares line is Pearson's r squared (on the fitted x scale).
        return [c["pearson"] ** 2] + [c[k] for k in CORRELATIONS]

    names = ("r2",) + CORRELATIONS
    if enough and n_boot > 0:
        lo, hi = bootstrap_ci(x, y, groups, all_stats, n=n_boot, seed=seed, level=level, units=units)
    else:
        lo = hi = np.full(len(names), np.nan)
    for k, name in enumerate(names):
        out[f"{name}_lo"], out[f"{name}_hi"] = float(lo[k]), float(hi[k])
    return out


def fit_table(rows: Sequence[dict], targets: Sequence[str] = TARGETS, predictors: Sequence[str] = PREDICTORS,
              log: bool = True, *, mean_over_seeds: bool = True, n_boot: int = 1000, seed: int = 0,
              level: float = 0.95) -> list[dict]:
    """Linear fit (R^2) and correlations of each target against each predictor.

    Only ``status == 'done'`` rows with finite values take part (and, for log fits,
    a predictor > 0). By default each architecture is one point, the mean over
    its seeds, as in the paper's plots; intervals resample seeds.

    Returns:
        One dict per (target, predictor) with keys target, predictor, log, n
        (points fitted), n_trials, n_excluded, n_groups, ci_over, slope, intercept,
        r2, r2_lo, r2_hi, pearson, spearman, kendall and their ``_lo``/``_hi``.
        Targets or predictors that no row carries are left out.
    """
    rows = list(rows)
    present = lambda k: any(r.get(k) is not None for r in rows)
    return [fit_row(rows, t, p, log=log, mean_over_seeds=mean_over_seeds, n_boot=n_boot, seed=seed, level=level)
            for t in targets if present(t) for p in predictors if present(p)]
