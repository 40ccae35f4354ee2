"""Percentile bootstrap intervals that resample architectures, and seeds within them.

A sweep has few seeds (3 to 5) and many architectures: resampling seeds alone gives
at most a handful of distinct resamples and intervals that sit on the point estimate.
The unit of a fit is the architecture, so we resample architectures with
replacement and, within each drawn architecture, its trials (seeds) with
replacement; each drawn architecture is one point, the mean of its drawn trials,
as in the point estimate.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import UsageError


def bootstrap_ci(x, y, stat: Callable[[np.ndarray, np.ndarray], object], units=None, n: int = 1000,
                 seed: int = 0, level: float = 0.95, within: bool = True):
    """Percentile interval of ``stat(x, y)`` over ``n`` resamples.

    Args:
        x, y: per-trial values.
        stat: the statistic; it may return a vector to bootstrap several at once.
        units: architecture id per trial; ``None`` resamples single points.
        n: resamples, drawn by ``numpy.random.Generator(PCG64(seed))``.
        within: also resample the trials of each drawn architecture.

    Returns:
        ``(lo, hi)`` (arrays for a vector stat); nan where fewer than half the
        resamples give a finite value.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if n < 1:
        raise UsageError(f"bootstrap resamples must be >= 1, got {n}")
    if not 0 < level < 1:
        raise UsageError(f"confidence level must be in (0, 1), got {level}")
    codes = np.arange(x.size) if units is None else np.unique(np.asarray(units), return_inverse=True)[1]
    members = _members(codes)
    rng = np.random.Generator(np.random.PCG64(seed))
    values = []
    if all(idx.size == 1 for idx in members):
        # One trial per unit: the mean of a drawn unit is its one value. Same draws and
        # numbers as the loop below, without a Python step per point.
        order = np.array([idx[0] for idx in members], dtype=int)
        ux, uy = x[order], y[order]
        for _ in range(n):
            drawn = rng.integers(0, len(members), len(members))
            values.append(np.asarray(stat(ux[drawn], uy[drawn]), dtype=float))
    else:
        for _ in range(n):
            drawn = rng.integers(0, len(members), len(members))
            bx, by = np.empty(len(drawn)), np.empty(len(drawn))
            for k, u in enumerate(drawn):
                idx = members[u]
                if within and idx.size > 1:
                    idx = idx[rng.integers(0, idx.size, idx.size)]
                bx[k], by[k] = x[idx].mean(), y[idx].mean()
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


def _members(codes: np.ndarray) -> list[np.ndarray]:
    """The trials of each unit 0..U-1, in ascending order: ``flatnonzero(codes == u)`` for
    every u, in one stable sort rather than a pass over the trials per unit."""
    if not codes.size:
        return []
    order = np.argsort(codes, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(codes[order])) + 1)
