"""Exact Pareto front of candidates: maximise NN-Mass, minimise MACs and params."""
from __future__ import annotations

import numpy as np

_BLOCK = 512  # candidates checked against each other pairwise per sweep step


def pareto_front(mass, macs, params) -> np.ndarray:
    """Indices of the non-dominated candidates, ordered by MACs then params.

    ``a`` dominates ``b`` when it is at least as good on all three objectives and
    better on one. Of several identical ``(mass, macs, params)`` triples only the
    first (lowest index) is kept.

    The sweep visits candidates by increasing MACs: a candidate can only be
    dominated by an earlier one, which (by transitivity) means by an earlier
    front member with no more params and no less mass, a staircase lookup.
    """
    mass, macs, params = (np.asarray(a) for a in (mass, macs, params))
    order = np.lexsort((-mass, params, macs))  # stable: ties keep index order
    m, c, p = mass[order], macs[order], params[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (m[1:] == m[:-1]) & (c[1:] == c[:-1]) & (p[1:] == p[:-1])
    order, m, p = order[~same], m[~same], p[~same]

    front: list[np.ndarray] = []
    stair_p = np.empty(0, dtype=p.dtype)  # front params, ascending
    stair_m = np.empty(0, dtype=m.dtype)  # best front mass with params <= stair_p
    for lo in range(0, len(order), _BLOCK):
        bp, bm = p[lo:lo + _BLOCK], m[lo:lo + _BLOCK]
        j = np.searchsorted(stair_p, bp, side="right") - 1
        best = stair_m[np.maximum(j, 0)] if stair_m.size else np.full(bm.shape, -np.inf)
        alive = np.flatnonzero((j < 0) | (best < bm))
        if alive.size == 0:
            continue
        ap, am = bp[alive], bm[alive]
        # Within the block: dominated by an earlier survivor (i < k)?
        earlier = np.tri(alive.size, k=-1, dtype=bool)
        hit = earlier & (ap[None, :] <= ap[:, None]) & (am[None, :] >= am[:, None])
        new = alive[~hit.any(axis=1)] + lo
        front.append(new)
        all_p = np.concatenate([stair_p, p[new]])
        all_m = np.concatenate([stair_m, m[new]])
        by_p = np.argsort(all_p, kind="stable")
        stair_p, stair_m = all_p[by_p], np.maximum.accumulate(all_m[by_p])
    if not front:
        return np.empty(0, dtype=np.int64)
    return order[np.concatenate(front)]


def strictly_dominated(mass, macs, params, ref_mass, ref_macs, ref_params, buckets: int = 64) -> np.ndarray:
    """Mask of candidates strictly dominated by some reference point.

    Only references with strictly fewer MACs are used (a sound, not complete, test):
    references are cut into MAC buckets, and for each bucket a staircase of the
    references below it (best mass for at most so many params) is one sorted
    array, so every candidate costs two binary searches.
    """
    mass, macs, params = (np.asarray(a) for a in (mass, macs, params))
    if len(ref_macs) == 0 or len(mass) == 0:
        return np.zeros(len(mass), dtype=bool)
    edges = np.unique(np.quantile(ref_macs, np.linspace(0, 1, buckets + 1), method="lower"))
    offset = int(max(np.max(ref_params), np.max(params))) + 1
    keys, best = [], []
    for b, edge in enumerate(edges):
        below = ref_macs < edge
        order = np.argsort(ref_params[below], kind="stable")
        keys.append(ref_params[below][order] + b * offset)
        best.append(np.maximum.accumulate(ref_mass[below][order]) if order.size else ref_mass[below])
    keys, best = np.concatenate(keys), np.concatenate(best)
    if keys.size == 0:
        return np.zeros(len(mass), dtype=bool)
    b = np.searchsorted(edges, macs, side="right") - 1  # last edge <= macs
    j = np.searchsorted(keys, params + np.maximum(b, 0) * offset, side="right") - 1
    jj = np.maximum(j, 0)
    same_bucket = (j >= 0) & (keys[jj] // offset == b) & (b >= 0)
    return same_bucket & (best[jj] >= mass)


class ParetoStream:
    """The Pareto front of candidates arriving chunk by chunk, in index order."""

    def __init__(self, sample: int = 8192):
        self.sample = sample
        self.mass = np.empty(0)
        self.macs = np.empty(0, dtype=np.int64)
        self.params = np.empty(0, dtype=np.int64)
        self.index = np.empty(0, dtype=np.int64)

    def update(self, mass, macs, params, index) -> None:
        # A sample of the chunk's own front makes a good first filter.
        step = max(1, len(mass) // self.sample)
        s = pareto_front(mass[::step], macs[::step], params[::step]) * step
        ref = [np.concatenate([self_a, new[s]]) for self_a, new in
               ((self.mass, mass), (self.macs, macs), (self.params, params))]
        alive = ~strictly_dominated(mass, macs, params, *ref)
        m = np.concatenate([self.mass, mass[alive]])
        c = np.concatenate([self.macs, macs[alive]])
        p = np.concatenate([self.params, params[alive]])
        i = np.concatenate([self.index, index[alive]])
        keep = pareto_front(m, c, p)
        self.mass, self.macs, self.params, self.index = m[keep], c[keep], p[keep], i[keep]
