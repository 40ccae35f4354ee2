"""Canonical forms of the cells of NAS-Bench-201 and TransNAS-Bench-101 micro: a DAG
of ``n`` nodes whose edges carry ops, node 0 the cell's input and node ``n - 1`` its
output, every node the sum of its incoming edges' ops. Pure Python.

Two cells share a canonical form exactly when, after dropping the edges that
compute nothing the output sees, one is the other with its intermediate nodes
renumbered. The rule is graph-only on purpose: no op is simplified (a
``skip_connect`` stays an edge), so cells with the same form have the same
live modules, wired alike. An edge reading zeros is dropped although a conv op
there still adds its BatchNorm's shift: zero at initialization, where proxies
look, and ignored by NAS-Bench-201's own count of unique cells as well.
"""
from __future__ import annotations

import itertools
from typing import Iterable, Sequence

Edge = tuple[int, int]
"""``(to, from)``, as the NB201 arch string lists a node's inputs."""


def live_edges(n_nodes: int, edges: Sequence[Edge], ops: Sequence[str],
               zero_ops: Iterable[str] = ("none",)) -> dict[Edge, str]:
    """The edges on some path from the input node to the output node, with their ops.

    A ``zero_ops`` edge is no edge. Any other edge is dropped when its source is not
    reached from node 0 (it reads zeros) or its target does not reach node
    ``n_nodes - 1`` (the output never sees it).
    """
    zero = set(zero_ops)
    active = [(edge, op) for edge, op in zip(edges, ops) if op not in zero]
    reached = {0}
    for node in range(1, n_nodes):  # edges go from lower to higher nodes
        if any(to == node and src in reached for (to, src), _ in active):
            reached.add(node)
    reaching = {n_nodes - 1}
    for node in range(n_nodes - 2, -1, -1):
        if any(src == node and to in reaching for (to, src), _ in active):
            reaching.add(node)
    return {(to, src): op for (to, src), op in active if src in reached and to in reaching}


def canonical_ops(n_nodes: int, edges: Sequence[Edge], ops: Sequence[str],
                  zero_op: str = "none", zero_ops: Iterable[str] | None = None) -> tuple[str, ...]:
    """The canonical cell of ``ops`` (one op per edge of ``edges``), in ``edges`` order.

    Its live edges (:func:`live_edges`) are kept, every other edge gets ``zero_op``,
    and of all renumberings of nodes ``1 .. n_nodes - 2`` that keep every live edge
    going from a lower to a higher node and inside ``edges``, the one whose op tuple
    is smallest is taken. A cell whose output no path reaches (it computes zero)
    becomes the all-``zero_op`` cell.

    Args:
        n_nodes: nodes of the cell, input and output included.
        edges: the cell's edges ``(to, from)``, in the order ``ops`` lists them.
        ops: one op name per edge.
        zero_op: the op of an absent edge.
        zero_ops: every op that computes zero (default: ``zero_op`` alone).
    """
    live = live_edges(n_nodes, edges, ops, (zero_op,) if zero_ops is None else zero_ops)
    allowed = set(edges)
    best = None
    for order in itertools.permutations(range(1, n_nodes - 1)):
        new = (0,) + order + (n_nodes - 1,)  # old node i becomes node new[i]
        moved = {(new[to], new[src]): op for (to, src), op in live.items()}
        if any(to <= src or (to, src) not in allowed for to, src in moved):
            continue
        candidate = tuple(moved.get(edge, zero_op) for edge in edges)
        if best is None or candidate < best:
            best = candidate
    return best
