"""Prop. 2 by simulation (the paper's Fig. 1(b)). Pure numpy, no torch.

For a single-cell network of width ``w`` and NN-Mass ``m`` a layer receives on
average ``w + m/2`` inputs (Prop. 1), so its layerwise Jacobian in a deep linear
network is like a Gaussian matrix of size ``(w + m/2, w)`` with entries
``N(0, q)``. Prop. 2 bounds the mean singular value of such a matrix by
``sqrt(q (w + m/2)) -/+ sqrt(q w)``.

Conventions (the paper leaves them open):
- ``q = 1`` by default: every singular value scales by ``sqrt(q)``, as do both
  bounds, so ``q`` only rescales the figure.
- ``w + m/2`` rows, rounded half up to an integer (``floor(w + m/2 + 0.5)``);
  the bounds use the exact, unrounded ``m``.
- The mean is over all ``w`` singular values of all ``trials`` matrices; ``std``
  is their population standard deviation.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import UsageError
from .validate import MAX_BOUNDS_ENTRIES, MAX_BOUNDS_WIDTH, check_int, check_number, check_seed
from .topology import prop2_bounds


def jacobian_rows(width: int, mass: float) -> int:
    """Rows of the simulated Jacobian: ``w + m/2`` (Prop. 1) rounded half up."""
    return int(math.floor(width + mass / 2 + 0.5))


def simulate_bounds(width: int, masses, trials: int = 200, q: float = 1.0, seed: int = 0) -> list[dict]:
    """Mean singular value of Gaussian ``(w + m/2, w)`` matrices against Prop. 2.

    Args:
        width: the cell width ``w`` (Fig. 1(b) uses 16).
        masses: NN-Mass values ``m >= 0`` to simulate.
        trials: matrices drawn per mass.
        q: variance of the entries.
        seed: seeds the ``np.random.Generator(PCG64(seed))`` shared by all masses, in order.

    Returns:
        One dict per mass: ``mass``, ``rows``, ``width``, ``trials``, ``q``, ``seed``,
        ``mean``, ``std``, ``lower``, ``upper``.
    """
    width, trials, q, masses = _checked(width, trials, q, masses, seed)
    rng = np.random.Generator(np.random.PCG64(seed))
    out = []
    for m in masses:
        rows = jacobian_rows(width, m)
        draws = rng.standard_normal((trials, rows, width)) * math.sqrt(q)
        sv = np.linalg.svd(draws, compute_uv=False)  # (trials, width): one batched call per mass
        lower, upper = prop2_bounds(width, m, q)
        out.append({"mass": m, "rows": rows, "width": width, "trials": trials, "q": q, "seed": seed,
                    "mean": float(sv.mean()), "std": float(sv.std()), "lower": lower, "upper": upper})
    return out


def _checked(width, trials, q, masses, seed):
    check_int("width", width, 1, MAX_BOUNDS_WIDTH)
    check_int("trials", trials, 1)
    check_seed("seed", seed)
    check_number("q (init variance)", q, lo=0, open_lo=True)
    masses = [float(m) for m in np.atleast_1d(np.asarray(masses, dtype=float))]
    if not masses:
        raise UsageError("give at least one mass")
    bad = [m for m in masses if not (0 <= m < math.inf)]
    if bad:
        raise UsageError(f"masses must be finite numbers >= 0, got {bad[0]!r}")
    # Refuse before drawing: one mass draws trials x rows x width numbers at once.
    for m in masses:
        entries = trials * jacobian_rows(width, m) * width
        if entries > MAX_BOUNDS_ENTRIES:
            raise UsageError(f"mass {m:g} at width {width} with {trials} trials draws {entries:,} numbers at once, "
                             f"over the {MAX_BOUNDS_ENTRIES:,} a run may draw; lower the mass, width or trials")
    return int(width), int(trials), float(q), masses
