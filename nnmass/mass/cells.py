"""NN-Mass cells of a traced :class:`LayerGraph` (pure data, no torch).

The rule (:mod:`nnmass.topology`): each unit (:mod:`nnmass.mass.layers`) reads its
*predecessor*, the deepest unit it reads; every other unit it reads, and every
earlier unit added to its output, is a *skip*. A skip must come from an earlier
unit of the same chain, at least two steps back. A cell is a run of the chain
that skips cover: two skips belong to the same cell when their spans share a
chain edge, so the chain splits wherever no skip crosses. Skips of a cell are
all concatenations (Eq. 1-2, volume = all neurons) or all additions (Eq. 3,
volume = input channels of its layers). A concatenation cannot cross a change
of resolution: a layer that reads a concatenation at another resolution than
its own output (a DenseNet transition, a classifier after global pooling) reads
the cell's output and ends the cell; those reads are listed as ``exits``.

Merges that fit none of this are reported by node name, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..spec import SHORTCUTS
from ..topology import CellTopology, average_degree
from .graph import LayerGraph
from .layers import Skip, UnitGraph, build_units


@dataclass
class FoundCells:
    """Cells found in a graph, with what could not be classified.

    Attributes:
        cells: the cells, in network order.
        info: per cell, ``first`` and ``last`` node names and the node names of its layers.
        unclassified: node name -> why it could not be classified.
        exits: concatenation reads that cross a change of resolution (not counted).
        projections: projection shortcuts found (counted unless ``shortcuts="identity"``).
        units: the units the cells are made of.
        cell_units: per cell, its unit ids in chain order.
        cell_skips: per cell, its skips.
    """

    cells: list[CellTopology]
    info: list[dict]
    unclassified: dict[str, str]
    exits: list[Skip]
    projections: list[Skip]
    units: UnitGraph
    cell_units: list[list[int]] = field(default_factory=list)
    cell_skips: list[list[Skip]] = field(default_factory=list)


def find_cells(graph: LayerGraph, shortcuts: str = "all") -> FoundCells:
    """Find, classify and measure the cells of ``graph``.

    Args:
        graph: a traced layer graph.
        shortcuts: ``"all"`` (default) also counts projection shortcuts, which deliver
            ``min(in, out)`` channels, as the authors' ResNet NN-Mass does;
            ``"identity"`` counts only identity residuals.
    """
    if shortcuts not in SHORTCUTS:
        raise ValueError(f"shortcuts must be one of {', '.join(SHORTCUTS)}, got {shortcuts!r}")
    ug = build_units(graph)
    units = ug.units
    unclassified = dict(ug.unclassified)
    pred = _predecessors(ug, unclassified)
    skips, exits = [], []
    for u in units:
        for s, ranges in u.reads.items():
            if s == pred[u.uid]:
                continue
            sk = Skip(s, ranges, "concat", u.read_node, target=u.uid)
            (skips if units[s].spatial == u.spatial else exits).append(sk)
        skips.extend(u.adds)
    if shortcuts == "all":
        skips.extend(ug.projections)
    paths = []
    for sk in skips:
        path = _path(pred, sk.source, sk.target)
        if path is None or len(path) < 3:
            unclassified.setdefault(sk.node, "skip from a tensor that is not an earlier layer of the same chain")
        else:
            paths.append((sk, path))
    found = FoundCells([], [], unclassified, exits, ug.projections, ug)
    for group in _components(paths):
        _add_cell(found, group, pred)
    order = sorted(range(len(found.cells)), key=lambda i: found.cell_units[i][-1])
    for name in ("cells", "info", "cell_units", "cell_skips"):
        setattr(found, name, [getattr(found, name)[i] for i in order])
    return found


def _predecessors(ug: UnitGraph, unclassified: dict) -> dict[int, int | None]:
    pred: dict[int, int | None] = {}
    for u in ug.units:
        if not u.reads:
            pred[u.uid] = None
            continue
        top = max(ug.units[s].depth for s in u.reads)
        deepest = [s for s in u.reads if ug.units[s].depth == top]
        if len(deepest) > 1:
            unclassified.setdefault(u.read_node, "concatenation of parallel branches of equal depth")
        pred[u.uid] = deepest[0]
    return pred


def _path(pred, source: int, target: int) -> list[int] | None:
    """Units from ``source`` down the chain to ``target``, or None if not an ancestor."""
    path, cur = [target], target
    while cur != source:
        cur = pred.get(cur)
        if cur is None:
            return None
        path.append(cur)
    return path[::-1]


def _components(paths):
    """Group skips whose spans share a chain edge (union-find over edges)."""
    parent = list(range(len(paths)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[int, int], int] = {}
    for i, (_, path) in enumerate(paths):
        for edge in zip(path, path[1:]):
            if edge in owner:
                parent[find(i)] = find(owner[edge])
            else:
                owner[edge] = i
    groups: dict[int, list] = {}
    for i, item in enumerate(paths):
        groups.setdefault(find(i), []).append(item)
    return list(groups.values())


def _add_cell(found: FoundCells, group, pred) -> None:
    units = found.units.units
    members = {u for _, path in group for u in path}
    bottoms = [u for u in members if not any(pred.get(v) == u for v in members)]
    kinds = {sk.kind for sk, _ in group}
    if len(bottoms) != 1 or len(kinds) != 1:
        why = ("skips that branch off the chain" if len(bottoms) != 1
               else "a cell mixing concatenation and addition skips")
        for sk, _ in group:
            found.unclassified.setdefault(sk.node, why)
        return
    chain = _path(pred, min(members, key=lambda u: units[u].depth), bottoms[0])
    skips = [sk for sk, _ in group]
    kind = kinds.pop()
    widths = tuple(units[u].width for u in chain)
    if kind == "add" and _expansion_one_block(chain, units):
        widths = (widths[0],) + widths  # the degenerate bottleneck W2 = W1 (nnmass.mass.mobilenet)
    if kind == "concat" and chain[-1] in found.units.outputs and len(widths) > 1:
        # The classifier as the cell's last layer (the authors' Dense_MLP): Eq. 2 counts
        # w * d neurons, the classifier at the cell's width, whatever the class count.
        widths = widths[:-1] + (widths[-2],)
    names = [units[u].name for u in chain]
    cell = CellTopology(kind, widths, sum(sk.count for sk in skips), _common_prefix(names[1:]) or names[0])
    found.cells.append(cell)
    found.info.append({"first": names[0], "last": units[chain[-1]].last, "nodes": names})
    found.cell_units.append(chain)
    found.cell_skips.append(skips)


def _expansion_one_block(chain: list[int], units) -> bool:
    """An inverted residual of expansion 1: a depthwise conv then one pointwise layer,
    added to the block input. It is read as a bottleneck whose 1x1 expansion is the
    identity (Fig. 2 with W2 = W1), the authors' rule for MobileNetV2."""
    if len(chain) != 3:
        return False
    dw = units[chain[1]]
    return dw.kind == "conv" and dw.groups > 1 and dw.groups == dw.width == units[chain[0]].width


def _common_prefix(names: list[str]) -> str:
    parts = [n.split(".") for n in names]
    out = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        out.append(level[0])
    return ".".join(out)


def degree_stats(graph: LayerGraph, found: FoundCells) -> dict | None:
    """Empirical degree of each concatenation cell, next to Prop. 1's ``w + m/2``.

    Nodes are the cell's neurons (channels in a CNN, Remark 1); an edge is one
    weight of a layer of the cell: node ``i`` reads its predecessor's
    ``w_{i-1}`` channels and its ``t_i`` skip channels, so ``(w_{i-1} + t_i) w_i
    / g_i`` edges enter it (``g_i`` the conv groups). Edges from outside the cell
    are not counted. The average degree is #edges / #nodes (Definition 1); for a
    DenseNet-type cell it is ``((d-1) w + sum_i t_i) / d``. The histogram counts
    neurons by in- plus out-degree. The top-level keys describe the first
    concatenation cell; ``cells`` holds all of them. None if there is none.
    """
    out = []
    for cell, chain, skips in zip(found.cells, found.cell_units, found.cell_skips):
        if cell.kind == "concat":
            out.append(_cell_degree(graph, found, cell, chain, skips))
    if not out:
        return None
    return {**out[0], "cells": out}


def _cell_degree(graph, found, cell, chain, skips) -> dict:
    units = found.units.units
    pos = {u: i for i, u in enumerate(chain)}
    w = [units[u].width for u in chain]
    g = [max(1, graph[units[u].name].groups) if units[u].name in graph else 1 for u in chain]
    fan_in = [0] * len(chain)  # in-degree of each neuron of node i
    out_deg = [[0.0] * wi for wi in w]  # out-degree of each neuron
    edges = 0.0
    for i in range(1, len(chain)):
        t_i = sum(sk.count for sk in skips if sk.target == chain[i])
        fan_in[i] = (w[i - 1] + t_i) / g[i]
        edges += (w[i - 1] + t_i) * w[i] / g[i]
        for c in range(w[i - 1]):
            out_deg[i - 1][c] += w[i] / g[i]
    for sk in skips:
        i, j = pos[sk.target], pos[sk.source]
        for lo, hi in sk.ranges:
            for c in range(lo, hi):
                out_deg[j][c] += w[i] / g[i]
    hist: dict[float, int] = {}
    for i, row in enumerate(out_deg):
        for d in row:
            deg = round(fan_in[i] + d, 6)
            key = int(deg) if deg == int(deg) else deg
            hist[key] = hist.get(key, 0) + 1
    nodes = sum(w)
    return {"cell": cell.name, "nodes": nodes, "edges": edges, "empirical": edges / nodes,
            "prop1": average_degree(cell.width, cell.mass), "width": cell.width, "mass": cell.mass,
            "histogram": {str(k): v for k, v in sorted(hist.items())}}
