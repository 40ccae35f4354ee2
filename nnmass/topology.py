"""Closed-form topology of NN-Mass (Bhardwaj et al., CVPR 2021). Pure numpy, no torch.

Every function takes scalars or numpy arrays and broadcasts, so a design search
can evaluate millions of candidate cells in one call.

Conventions (the paper is silent on these; they are ours and hold everywhere):

* A cell is a chain of nodes ``0..L`` with widths ``w_0..w_L``. Node ``i`` always
  reads node ``i-1``; a *skip* may go from node ``j`` to node ``i >= j + 2`` and
  delivers some channels (neurons in an MLP) of node ``j``.
* possible skips = ``sum_{i=2}^{L} sum_{j=0}^{i-2} w_j`` (every channel of every
  earlier-than-previous node); actual skips = channels the skips really deliver.
* volume: concatenation cells use all their neurons, ``sum_j w_j`` (Eq. 2 uses
  ``w * d``); addition cells use ``ic``, the input channels of their layers,
  ``sum_{j<L} w_j`` (Eq. 3).
* mass of a cell = volume * density; NN-Mass = sum over cells.

For a DenseNet-type cell of depth ``d`` and width ``w`` the nodes are layers
``0..d-1``, so the general rule reproduces Eq. 1-2 exactly; for bottleneck and
basic residual cells it reproduces Remark 2 / Fig. 2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CellTopology",
    "dense_skip_count",
    "dense_density",
    "dense_mass",
    "average_degree",
    "prop2_bounds",
    "bottleneck_cell_mass",
    "basic_cell_mass",
    "possible_skips",
]


def dense_skip_count(depth, width, tc):
    """Actual skip links of a DenseNet-type cell: ``sum_{i=2}^{d-1} min(w (i-1), tc)``.

    Closed form of the sum: with ``K = d - 2`` terms ``min(w k, tc)``, ``k = 1..K``,
    the first ``k* = min(K, tc // w)`` are ``w k`` and the rest are ``tc``.
    """
    d = np.asarray(depth, dtype=np.int64)
    w = np.asarray(width, dtype=np.int64)
    t = np.asarray(tc, dtype=np.int64)
    k_terms = np.maximum(d - 2, 0)
    k_star = np.minimum(k_terms, t // np.maximum(w, 1))
    return w * k_star * (k_star + 1) // 2 + t * (k_terms - k_star)


def dense_density(depth, width, tc):
    """Cell density, Eq. 1: ``2 sum_i min(w(i-1), tc) / (w (d-1)(d-2))``; 0 when ``d <= 2``."""
    d = np.asarray(depth, dtype=np.float64)
    w = np.asarray(width, dtype=np.float64)
    skips = dense_skip_count(depth, width, tc).astype(np.float64)
    possible = w * (d - 1) * (d - 2) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(possible > 0, skips / np.where(possible > 0, possible, 1), 0.0)
    return rho if rho.ndim else float(rho)


def dense_mass(depth, width, tc):
    """NN-Mass of one DenseNet-type cell, Eq. 2: ``w * d * rho``. Sum it over cells."""
    m = np.asarray(width, dtype=np.float64) * np.asarray(depth, dtype=np.float64) * dense_density(depth, width, tc)
    return m if np.ndim(m) else float(m)


def average_degree(width, mass):
    """Average degree of a single-cell network, Prop. 1: ``k = w + m / 2``."""
    k = np.asarray(width, dtype=np.float64) + np.asarray(mass, dtype=np.float64) / 2
    return k if np.ndim(k) else float(k)


def prop2_bounds(width, mass, q=1.0):
    """Prop. 2 bounds on the mean singular value of a layerwise Jacobian of a deep
    linear network with init variance ``q``: ``sqrt(q(w + m/2)) -/+ sqrt(q w)``.

    Returns ``(lower, upper)``.
    """
    w = np.asarray(width, dtype=np.float64)
    m = np.asarray(mass, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    centre, half = np.sqrt(q * (w + m / 2)), np.sqrt(q * w)
    lower, upper = centre - half, centre + half
    if lower.ndim == 0:
        return float(lower), float(upper)
    return lower, upper


def possible_skips(widths, counts=None) -> int:
    """``sum_{i=2}^{L} c_i sum_{j=0}^{i-2} w_j`` for node widths ``w_0..w_L``: every channel of
    every node two or more steps back may reach node ``i``. ``c_i`` (default 1) counts the
    layers a node stands for, when parallel layers are counted one by one."""
    w = np.asarray(widths, dtype=np.int64)
    if w.size < 3:
        return 0
    c = np.ones_like(w) if counts is None else np.asarray(counts, dtype=np.int64)
    before = np.concatenate([[0, 0], np.cumsum(w)[:-2]])  # sum_{j <= i-2} w_j for each i
    return int((c * before).sum())


def bottleneck_cell_mass(w1, w2):
    """Mass of a bottleneck / inverted-residual cell (Remark 2, Fig. 2):
    ``(W1 + 2 W2) W1 / (2 W1 + W2)``. Nodes ``W1, W2, W2, W1``."""
    a = np.asarray(w1, dtype=np.float64)
    b = np.asarray(w2, dtype=np.float64)
    m = (a + 2 * b) * a / (2 * a + b)
    return m if m.ndim else float(m)


def basic_cell_mass(w1, w2):
    """Mass of a basic residual cell (two 3x3 convs): nodes ``W1, W2, W1``, density 1,
    ``ic = W1 + W2``."""
    m = np.asarray(w1, dtype=np.float64) + np.asarray(w2, dtype=np.float64)
    return m if m.ndim else float(m)


CELL_KINDS = ("concat", "add", "mixed")


@dataclass(frozen=True)
class CellTopology:
    """One cell, in the general form shared by formulas and traced graphs.

    Attributes:
        kind: ``"concat"`` (DenseNet-type, Eq. 2), ``"add"`` (residual, Eq. 3) or
            ``"mixed"`` (links of both kinds; volume as Eq. 2).
        widths: node widths ``w_0..w_L`` (channels, or neurons in an MLP).
        actual: skip channels actually delivered inside the cell.
        name: a label (e.g. ``"cell0"`` or the first node of a traced cell).
        counts: layers each node stands for, when parallel layers are counted one by
            one (``None``: one each).
    """

    kind: str
    widths: tuple[int, ...]
    actual: int
    name: str = ""
    counts: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.kind not in CELL_KINDS:
            raise ValueError(f"cell kind must be one of {', '.join(CELL_KINDS)}, got {self.kind!r}")

    @property
    def possible(self) -> int:
        return possible_skips(self.widths, self.counts)

    @property
    def volume(self) -> int:
        """Eq. 2 counts all neurons of a concatenation cell; Eq. 3 the input channels
        of the layers of an addition cell; a cell with both kinds of links counts its
        neurons (Remark 1: nodes are channels)."""
        if self.kind == "add":
            return int(sum(self.widths[:-1]))
        return int(sum(self.widths))

    @property
    def density(self) -> float:
        return self.actual / self.possible if self.possible else 0.0

    @property
    def mass(self) -> float:
        return self.volume * self.density

    @property
    def depth(self) -> int:
        """Number of nodes (layers of a DenseNet-type cell; ``L + 1`` in general)."""
        return len(self.widths)

    @property
    def width(self) -> int:
        """The cell's representative width: its widest node (all equal in Eq. 2)."""
        return int(max(self.widths))

    @property
    def average_degree(self) -> float:
        return average_degree(self.width, self.mass)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "width": self.width,
            "depth": self.depth,
            "widths": list(self.widths),
            "actual_skips": self.actual,
            "possible_skips": self.possible,
            "volume": self.volume,
            "density": self.density,
            "mass": self.mass,
            "average_degree": self.average_degree,
        }


def total_mass(cells) -> float:
    """NN-Mass: the sum of the cells' masses (Eq. 2 / Eq. 3)."""
    return float(sum(c.mass for c in cells))
