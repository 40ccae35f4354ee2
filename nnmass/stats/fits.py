"""The fit table of a sweep: each target against the log of each predictor, like for like.

Every predictor of a target is fitted on the same architectures: those with a
finite target and, for every predictor, a usable value (finite, and > 0 for a log
fit). NN-Mass 0 (no skips) has no log, so such architectures leave every fit of
that target, not only the NN-Mass one: a comparison of R^2 on different sets would
not compare the predictors.
"""
from __future__ import annotations

import json
from typing import Sequence

import numpy as np

from ..errors import UsageError
from .bootstrap import bootstrap_ci
from .fitting import CORRELATIONS, LinearFit, correlations

TARGETS = ("test_acc", "ldi_mean", "ldi_prop2_mean")
PREDICTORS = ("nn_mass", "params", "macs")
MIN_ARCHITECTURES = 3  # a line through fewer points says nothing


def architecture_id(row: dict) -> str:
    """What identifies an architecture across seeds: its spec without seed and skip links."""
    spec = row.get("spec_json")
    if spec:
        d = json.loads(spec) if isinstance(spec, str) else dict(spec)
        d.pop("seed", None)
        d.pop("skips", None)
        return json.dumps(d, sort_keys=True)
    return str(row.get("key", id(row)))


def _usable_value(v, log: bool) -> bool:
    return v is not None and np.isfinite(v) and (not log or v > 0)


def unit_means(x, y, units) -> tuple[np.ndarray, np.ndarray]:
    """Mean x and y per unit id, in order of first appearance."""
    _, first, inverse = np.unique(units, return_index=True, return_inverse=True)
    counts = np.bincount(inverse)
    mx = np.bincount(inverse, weights=x) / counts
    my = np.bincount(inverse, weights=y) / counts
    order = np.argsort(first)
    return mx[order], my[order]


def fit_row(used: Sequence[dict], target: str, predictor: str, *, log: bool = True, mean_over_seeds: bool = True,
            n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Fit and correlations of ``target`` on ``predictor`` over the rows ``used``."""
    x = np.array([r[predictor] for r in used], dtype=float)
    y = np.array([r[target] for r in used], dtype=float)
    units = np.array([architecture_id(r) for r in used]) if mean_over_seeds else None
    px, py = unit_means(x, y, units) if units is not None and x.size else (x, y)
    out = {"target": target, "predictor": predictor, "log": log, "n": int(px.size), "n_trials": len(used),
           "ci_over": "architectures, and seeds within them" if mean_over_seeds else "points"}
    enough = px.size >= MIN_ARCHITECTURES and np.ptp(px) > 0
    if enough:
        fit = LinearFit(log_x=log).fit(px, py)
        out.update(slope=fit.slope_, intercept=fit.intercept_, r2=fit.r2_)
    else:
        out.update(slope=float("nan"), intercept=float("nan"), r2=float("nan"))
    out.update(correlations(np.log(px) if log else px, py))

    def all_stats(a, b):
        c = correlations(np.log(a) if log else a, b)
        # R^2 of a least-squares line is Pearson's r squared (on the fitted x scale).
        return [c["pearson"] ** 2] + [c[k] for k in CORRELATIONS]

    names = ("r2",) + CORRELATIONS
    if enough and n_boot > 0:
        lo, hi = bootstrap_ci(x, y, all_stats, units, n=n_boot, seed=seed, level=level)
    else:
        lo = hi = np.full(len(names), np.nan)
    for k, name in enumerate(names):
        out[f"{name}_lo"], out[f"{name}_hi"] = float(lo[k]), float(hi[k])
    return out


def fit_table(rows: Sequence[dict], targets: Sequence[str] = TARGETS, predictors: Sequence[str] = PREDICTORS,
              log: bool = True, *, mean_over_seeds: bool = True, n_boot: int = 1000, seed: int = 0,
              level: float = 0.95) -> list[dict]:
    """Linear fit (R^2) and correlations of each target against each predictor.

    Only ``status == 'done'`` rows take part. For each target, every predictor is
    fitted on the same rows (see the module docstring). By default each
    architecture is one point, the mean over its seeds, as in the paper's plots;
    intervals resample architectures and seeds within them.

    Returns:
        One dict per (target, predictor) with keys target, predictor, log, n
        (architectures fitted), n_trials, n_excluded (finished trials left out),
        ci_over, slope, intercept, r2, pearson, spearman, kendall, each with
        ``_lo``/``_hi``. Targets or predictors that no row carries are left out.
    """
    done = [r for r in rows if r.get("status", "done") == "done"]
    present = [p for p in predictors if any(r.get(p) is not None for r in done)]
    out = []
    for t in targets:
        if not any(r.get(t) is not None for r in done):
            continue
        used = [r for r in done if _usable_value(r.get(t), False) and all(_usable_value(r.get(p), log) for p in present)]
        for p in present:
            row = fit_row(used, t, p, log=log, mean_over_seeds=mean_over_seeds, n_boot=n_boot, seed=seed, level=level)
            out.append({**row, "n_excluded": len(done) - len(used)})
    return out


def check_enough_architectures(table: Sequence[dict]) -> None:
    """Refuse a table whose fits stand on fewer than :data:`MIN_ARCHITECTURES` architectures."""
    fitted = [r["n"] for r in table]
    if not fitted or max(fitted) < MIN_ARCHITECTURES:
        raise UsageError(f"a fit needs at least {MIN_ARCHITECTURES} architectures with finished trials and "
                         f"a value for every predictor, got {max(fitted, default=0)}")
