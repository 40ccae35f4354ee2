"""Counts that are a sum over a cell's edges, from a few networks counted once.

On NB201 and TransNAS-Bench-101 micro every edge op has its own weights and its own
work, whatever the other edges hold. So a count such as #params or MACs of any cell
is the count of the reference cell (every edge the op that adds nothing) plus, per
edge, what that edge's op adds there. Each term is counted on a built network the
first time it is needed: at most 1 + edges x (ops - 1) networks per setting, however
many architectures follow. The counts are whole numbers, so the sums are exact. Torch-free:
the caller says how to count a network.
"""
from __future__ import annotations

from typing import Callable, Hashable, Sequence

ADDITIVE = {"nb201": ("none", 6, 5), "tnb-micro": (0, 6, 4)}
"""Spaces whose architectures are tuples of per-edge ops with additive counts: the op
that adds nothing there, the edges, and the ops an edge can hold."""


def is_additive(space) -> bool:
    """Whether ``space``'s counts are sums over its edges."""
    return space.name in ADDITIVE


def most_networks(space) -> int:
    """The most networks :class:`AdditiveCount` counts in ``space``: the reference cell
    and each other op on each edge."""
    _, edges, ops = ADDITIVE[space.name]
    return 1 + edges * (ops - 1)


class AdditiveCount:
    """``count(arch)`` of an additive space, from ``count`` run on the reference cell and
    on each (edge, op) alone, once each.

    Args:
        space: an additive space (:func:`is_additive`).
        count: a built network's counts, as a tuple of numbers, for an architecture.
    """

    def __init__(self, space, count: Callable[[Hashable], Sequence[float]]):
        if not is_additive(space):
            raise ValueError(f"the {space.name} space has no additive counts")
        self.reference = ADDITIVE[space.name][0]
        self._count = count
        self._base: tuple[float, ...] | None = None
        self._terms: dict[tuple[int, Hashable], tuple[float, ...]] = {}

    @property
    def networks_counted(self) -> int:
        """How many networks ``count`` has been run on."""
        return (self._base is not None) + len(self._terms)

    def __call__(self, arch: Sequence[Hashable]) -> tuple[float, ...]:
        edges = len(arch)
        if self._base is None:
            self._base = tuple(self._count((self.reference,) * edges))
        total = self._base
        for edge, op in enumerate(arch):
            if op == self.reference:
                continue
            if (edge, op) not in self._terms:
                alone = tuple(op if e == edge else self.reference for e in range(edges))
                self._terms[edge, op] = tuple(c - b for c, b in zip(self._count(alone), self._base))
            total = tuple(t + d for t, d in zip(total, self._terms[edge, op]))
        return total
