"""Canonical forms of the cells of NAS-Bench-201 and TransNAS-Bench-101 micro: a DAG
of ``n`` nodes whose edges carry ops, node 0 the cell's input and node ``n - 1`` its
output, every node the sum of its incoming edges' ops. Pure Python.

Two rules, both after dropping the edges that compute nothing the output sees
(:func:`live_edges`):

- :func:`canonical_ops`, graph-only: two cells share it exactly when one is the
  other with its intermediate nodes renumbered. No op is simplified (a
  ``skip_connect`` stays an edge), so cells with the same form have the same live
  modules, wired alike. TransNAS-Bench-101 micro keeps this rule: its cells also
  run at stride 2, where a skip is a FactorizedReduce with weights.
- :func:`alias_form`, for cells whose skip is the identity (NB201's, always at
  stride 1): a node whose one live input is a skip edge holds its source's tensor,
  so it is that source under another name. The form resolves those aliases first,
  then takes the isomorphism class; equal forms mean the same modules on the same
  tensors. NB201 merges these forms further by their module wiring
  (:mod:`~nnmass.spaces.cell_wiring`, where sums are flat).

An edge reading zeros is dropped although a conv op there still adds its
BatchNorm's shift: zero at initialization, where proxies look, and ignored by
NAS-Bench-201's own count of unique cells as well.
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


def alias_form(n_nodes: int, edges: Sequence[Edge], ops: Sequence[str], alias_op: str = "skip_connect",
               zero_ops: Iterable[str] = ("none",)) -> tuple | None:
    """A hashable form of ``ops``'s cell, ``None`` for a cell that computes zero. Cells
    with equal forms compute the same thing with the same modules on the same tensors.

    On the live edges (:func:`live_edges`), a node whose only live input is one
    ``alias_op`` edge is an alias of that edge's source (resolved transitively, so a
    chain of skips ends at a node that computes something, or at the input). Every
    other live edge is kept as ``(to, source's representative, op)``; the edges into
    aliases are the identities themselves and go. The output's representative is the
    output (or the input, when the output is the input passed through). The form is
    the smallest sorted edge tuple over every numbering ``1 ..`` of the remaining
    intermediate nodes, with the input 0 and the output ``n_nodes - 1``: a multiset
    of edges up to renumbering.

    Only valid where ``alias_op`` is the identity: same tensor, no weights. Exact but
    not the finest rule: a node read only through skips is a set of summands of its
    readers, yet its edges are kept where they are (:mod:`~nnmass.spaces.cell_wiring`
    merges those forms).
    """
    live = live_edges(n_nodes, edges, ops, zero_ops)
    if not live:
        return None  # no path reaches the output
    rep = list(range(n_nodes))
    for node in range(1, n_nodes):  # sources come before targets
        inputs = [(src, op) for (to, src), op in live.items() if to == node]
        if len(inputs) == 1 and inputs[0][1] == alias_op:
            rep[node] = rep[inputs[0][0]]
    kept = [(to, rep[src], op) for (to, src), op in live.items() if rep[to] == to]
    output = rep[n_nodes - 1]
    inner = sorted({node for to, src, _ in kept for node in (to, src)} - {0, output})
    fixed = {0: 0, output: n_nodes - 1 if output else 0}
    best = None
    for order in itertools.permutations(range(1, len(inner) + 1)):
        label = {**dict(zip(inner, order)), **fixed}
        form = tuple(sorted((label[to], label[src], op) for to, src, op in kept))
        if best is None or form < best:
            best = form
    return output != 0, best
