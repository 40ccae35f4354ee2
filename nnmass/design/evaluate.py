"""Fast evaluation of a chunk of a space as a sum of broadcast terms.

NN-Mass, params and MACs of the searchable families are sums of parts that
each depend on a few axes only (a cell's depth and tc, with the width
multiplier; a stage's block count, with the width multiplier). A space
definition lists these parts as :class:`Term` objects; a chunk is then a block
of whole rows over the trailing axes, and each term is evaluated once per
distinct value of its own axes and broadcast over the rest. The sum equals
the direct evaluation (checked in the tests), at a fraction of the work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Term:
    """One additive part: ``fn({axis: codes}) -> (nn_mass, params, macs)`` of ``axes``."""

    axes: tuple[str, ...]
    fn: Callable


def row_split(shape: tuple[int, ...], chunk_size: int) -> int:
    """First trailing axis: the trailing block ``shape[k:]`` is the largest that fits a chunk."""
    k, block = len(shape), 1
    while k > 0 and block * shape[k - 1] <= chunk_size:
        k -= 1
        block *= shape[k]
    return k


def chunk_bounds(shape: tuple[int, ...], chunk_size: int):
    """Yield ``(start, stop)`` chunks of whole trailing blocks covering the space."""
    k = row_split(shape, chunk_size)
    block = int(np.prod(shape[k:], dtype=np.int64))
    size = int(np.prod(shape, dtype=object))
    step = max(1, chunk_size // block) * block
    for start in range(0, size, step):
        yield start, min(start + step, size)


def evaluate_rows(space, terms, start: int, stop: int, chunk_size: int):
    """``(nn_mass, params, macs)`` of candidates ``start..stop-1`` by broadcast terms.

    ``start`` and ``stop`` must be whole trailing blocks (from :func:`chunk_bounds`
    with the same ``chunk_size``) or ``stop`` the end of the space.
    """
    shape = space.shape
    k = row_split(shape, chunk_size)
    block = int(np.prod(shape[k:], dtype=np.int64))
    rows = np.arange(start // block, -(-stop // block), dtype=np.int64)
    lead = np.unravel_index(rows, shape[:k]) if k else ()
    names = [a.name for a in space.axes]
    codes = {a.name: a.codes for a in space.axes}
    grid = (len(rows),) + shape[k:]
    mass = np.zeros(grid)
    params = np.zeros(grid, dtype=np.int64)
    macs = np.zeros(grid, dtype=np.int64)
    for term in terms:
        axes = [names.index(a) for a in term.axes]
        # The term's own grid: rows (when it reads a leading axis) x its trailing axes.
        leading = [a for a in axes if a < k]
        tshape = (len(rows) if leading else 1,) + tuple(shape[j] if j in axes else 1 for j in range(k, len(shape)))
        cols = {}
        for a in axes:
            if a < k:
                c = codes[names[a]][lead[a]].reshape((-1,) + (1,) * (len(shape) - k))
            else:
                c = codes[names[a]].reshape((1,) + tuple(-1 if j == a else 1 for j in range(k, len(shape))))
            cols[names[a]] = np.broadcast_to(c, tshape).ravel()
        m, p, c = term.fn(cols)
        mass += _shaped(m, np.float64, tshape)
        params += _shaped(p, np.int64, tshape)
        macs += _shaped(c, np.int64, tshape)
    lo = start - rows[0] * block if len(rows) else 0
    n = stop - start
    return mass.ravel()[lo:lo + n], params.ravel()[lo:lo + n], macs.ravel()[lo:lo + n]


def _shaped(x, dtype, shape):
    x = np.asarray(x, dtype=dtype)
    return x if x.ndim == 0 else x.reshape(shape)  # a scalar part broadcasts as is
