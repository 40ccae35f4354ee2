"""How well each proxy ranks architectures by accuracy. numpy + scipy, no torch.

For one proxy, over the architectures where both its score and the target are defined
(finite; nan is the proxies' "undefined", see ``nnmass.proxies``):

- Spearman's rho and Kendall's tau-b with the target;
- top-10% precision: of the 10% best-scored, the share among the 10% most accurate;
- Spearman partial to log #params: rho with the ranks of log #params regressed out of
  both sides, i.e. what the score knows about accuracy beyond network size;
- 95% percentile bootstrap intervals of the three correlations, resampling
  architectures with replacement (``nnmass.stats.bootstrap_ci``);
- the number of distinct values (isomorphic NB201 cells share their data-free scores,
  and a proxy with few distinct values cannot rank finely);
- the number of undefined scores and the mean seconds per architecture.
"""
from __future__ import annotations

import math
from concurrent.futures import Executor
from functools import partial
from typing import Mapping, Sequence

import numpy as np

from ..stats import bootstrap_ci, kendall_tau_b, top_precision
from ..stats.fitting import partial_of_ranks, spearman_of_ranks
from ..stats.resampled_ranks import ResampledRanks

STATS = ("spearman", "kendall", "partial_spearman")
"""The statistics that get bootstrap intervals (``<name>_lo`` / ``<name>_hi``)."""

TOP_FRACTION = 0.1


def rank_stats(score, target, log_size, which: Sequence[str] = STATS) -> list[float]:
    """The statistics named in ``which`` (default ``[spearman, kendall tau-b, spearman
    partial to log_size]``) of finite columns; nan where undefined (fewer than 3 points,
    or a constant side). The bootstrap's :class:`ResampledStats` of every point."""
    score, target, log_size = (np.asarray(v, dtype=float) for v in (score, target, log_size))
    return ResampledStats(score, target, log_size, which)(np.arange(score.size))


def rank_row(name: str, score, target, params, seconds=None, *, n_boot: int = 1000, seed: int = 0,
             level: float = 0.95, fraction: float = TOP_FRACTION, intervals: Sequence[str] = STATS) -> dict:
    """The statistics of one proxy (see the module docstring).

    Args:
        score, target, params: one value per architecture, aligned (nan: undefined).
        seconds: seconds per architecture of this proxy (mean reported).
        n_boot: bootstrap resamples (0: no intervals), drawn by ``PCG64(seed)``.
        intervals: the statistics that get intervals (the others' are nan); the draws
            are the same whichever are asked for.
    """
    score, target, params = (np.asarray(v, dtype=float).ravel() for v in (score, target, params))
    defined = np.isfinite(score)
    keep = defined & np.isfinite(target) & np.isfinite(params) & (params > 0)
    s, t, z = score[keep], target[keep], np.log(params[keep]) if keep.any() else np.empty(0)
    rho, tau, partial = rank_stats(s, t, z)
    row = {"proxy": name, "n": int(keep.sum()), "undefined": int((~defined).sum()),
           "spearman": rho, "kendall": tau, "partial_spearman": partial,
           "top10": top_precision(s, t, fraction) if s.size else math.nan,
           "distinct": int(np.unique(score[defined]).size)}
    for stat in STATS:
        row[f"{stat}_lo"] = row[f"{stat}_hi"] = math.nan
    if n_boot > 0 and s.size >= 3 and math.isfinite(rho):
        index = np.arange(s.size, dtype=float)
        # bootstrap_ci resamples (x, y) pairs; resampling their index carries all three columns.
        lo, hi = bootstrap_ci(index, index, ResampledStats(s, t, z, intervals), n=n_boot, seed=seed, level=level)
        for k, stat in enumerate(intervals):
            row[f"{stat}_lo"], row[f"{stat}_hi"] = float(lo[k]), float(hi[k])
    if seconds is not None:
        secs = np.asarray(seconds, dtype=float)
        row["seconds_per_arch"] = float(np.nanmean(secs)) if np.isfinite(secs).any() else math.nan
    return row


class ResampledStats:
    """:func:`rank_stats` of the resample ``(score, target, log_size)[drawn]``, value for
    value, with each column's ranks counted rather than sorted (``ResampledRanks``)."""

    def __init__(self, score, target, log_size, which: Sequence[str] = STATS) -> None:
        self.score, self.target, self.which = score, target, which
        self.ranked = [ResampledRanks(v) for v in (score, target, log_size)]

    def __call__(self, index, _=None) -> list[float]:
        drawn = index.astype(int)
        score, target, size = self.ranked
        if drawn.size < 3 or score.constant(drawn) or target.constant(drawn):
            return [math.nan] * len(self.which)
        rx, ry = score.ranks(drawn), target.ranks(drawn)
        compute = {"spearman": lambda: spearman_of_ranks(rx, ry),
                   "kendall": lambda: kendall_tau_b(self.score[drawn], self.target[drawn]),
                   "partial_spearman": lambda: math.nan if size.constant(drawn)
                   else partial_of_ranks(rx, ry, size.ranks(drawn))}
        return [compute[name]() for name in self.which]


def rank_table(scores: Mapping[str, Sequence[float]], target, params, seconds: Mapping | None = None, *,
               n_boot: int = 1000, seed: int = 0, level: float = 0.95, pool: Executor | None = None) -> list[dict]:
    """One :func:`rank_row` per proxy, in the order of ``scores``; every row's bootstrap
    uses the same generator seed, so the intervals of two proxies resample alike. With
    ``pool`` (see :func:`nnmass.parallel.statistics_pool.statistics_pool`) the rows are
    computed in its processes.

    Wherever they run, rows are computed with one BLAS thread: over thousands of points
    a BLAS splits its sums among its threads, so the last digits of a correlation would
    depend on the machine's cores and on the number of workers."""
    seconds = seconds or {}
    row = partial(_rank_row_on_one_blas_thread, n_boot=n_boot, seed=seed, level=level)
    names = list(scores)
    columns = ([scores[n] for n in names], [target] * len(names), [params] * len(names),
               [seconds.get(n) for n in names])
    return list(map(row, names, *columns) if pool is None else pool.map(row, names, *columns))


def _rank_row_on_one_blas_thread(*args, **kwargs) -> dict:
    """:func:`rank_row` with one BLAS thread (see :func:`rank_table`)."""
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        return rank_row(*args, **kwargs)
