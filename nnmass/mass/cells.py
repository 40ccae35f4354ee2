"""NN-Mass cells of a traced :class:`LayerGraph` (pure data, no torch), for chains and
for cells whose nodes add or concatenate several branches.

The rule generalises the paper's cell (Eq. 1-3, :mod:`nnmass.topology`) from a chain
of layers to a DAG of layers (units, :mod:`nnmass.mass.layers`):

* **Depth.** A layer's depth is the number of layers on the longest path from the
  network input to its output. A merge (a sum) computes nothing: its depth is its
  deepest summand's.
* **Main path and levels.** A layer is on the main path when a longest path from
  input to output runs through it. Main-path layers of equal depth form one
  *level*, one node of the cell whose width is the sum of theirs: parallel branches
  of equal depth are one wider layer (option ``parallel="layer"`` keeps them
  apart, see below). A chain has one layer per level.
* **Links.** A layer receives a link from every layer whose channels reach its
  input (through concatenations, slices, pooling, identity). A sum delivers its
  shallower summands onto its deepest ones: a residual skip lands on the node of the
  layer whose output it is added to (Fig. 2). A layer off the main path (a
  projection shortcut, a shorter branch, a weighted NB201 edge that skips layers) is
  a branch: what it delivers counts as a link from the main-path layers it starts
  from, of at most as many channels as its narrowest point (``min(in, out)`` for a
  projection).
* **Long-range.** A link from level ``j`` to level ``i`` is long-range when
  ``i - j >= 2``, as in Eq. 1. A cell is a run of levels that long-range links
  cover: two links belong to the same cell when their spans share a level edge.
* **Density and mass.** possible = ``sum_i sum_{j <= i-2} W_j`` over the cell's
  levels (every channel of every node two or more levels back), actual = the
  channels the long-range links deliver, counted once per source channel and
  target level, so density <= 1. Volume: all neurons ``sum_j W_j`` when the links
  are concatenations (Eq. 2), the input channels of the layers ``sum_{j<L} W_j``
  when they are additions (Eq. 3), all neurons when a cell has both.

On a chain this is exactly the rule before it (every closed form and trace test
still agrees). A concatenation cannot cross a change of resolution: a layer that
reads a concatenation at another resolution than its own output (a DenseNet
transition, a classifier after global pooling) reads the cell's output and ends
the cell; those reads are ``exits``.

Options where the paper leaves a real choice:

* ``shortcuts``: ``"all"`` (default) counts links that pass through branch layers
  (projection shortcuts, weighted edges); ``"identity"`` only parameter-free ones.
* ``pool_links``: whether a long-range link made of parameter-free ops only, one
  of them a pooling, counts (default ``True``: pooling is linear and keeps the
  channels, like an identity skip); ``False`` counts it as no link.
* ``parallel``: ``"level"`` (default) reads parallel layers of equal depth as one
  wider node; ``"layer"`` counts possible links into each of them, as Eq. 1
  counts them into each layer.

Merges that fit none of this (a product of two feature maps, a sum of tensors of
different widths, an op merging several tensors) are reported by node name,
never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..spec import SHORTCUTS
from ..topology import CellTopology, average_degree
from ..validate import check_choice
from .graph import LayerGraph
from .layers import UnitGraph, build_units, merge_ranges, readers_of
from .report import MassReport

PARALLEL = ("level", "layer")


@dataclass
class Skip:
    """Channels of unit ``source`` delivered to unit ``target`` by a merge node."""

    source: int
    ranges: list[tuple[int, int]]  # channel ranges of the source (or one (0, count) range)
    kind: str  # "concat" or "add"
    node: str  # the merge node
    projection: bool = False  # passes through a branch layer
    target: int = -1
    pooled: bool = False  # a parameter-free path with a pooling op

    @property
    def count(self) -> int:
        return sum(hi - lo for lo, hi in self.ranges)


@dataclass
class FoundCells:
    """Cells found in a graph, with what could not be classified.

    Attributes:
        cells: the cells, in network order.
        info: per cell, ``first`` and ``last`` node names and the node names of its layers.
        unclassified: node name -> why it could not be classified.
        exits: concatenation reads that cross a change of resolution (not counted).
        projections: links that pass through a branch layer (counted unless ``shortcuts="identity"``).
        units: the units the cells are made of.
        cell_units: per cell, its levels' unit ids, level by level.
        cell_skips: per cell, its long-range links.
    """

    cells: list[CellTopology]
    info: list[dict]
    unclassified: dict[str, str]
    exits: list[Skip]
    projections: list[Skip]
    units: UnitGraph
    cell_units: list[list[list[int]]] = field(default_factory=list)
    cell_skips: list[list[Skip]] = field(default_factory=list)


def find_cells(graph: LayerGraph, shortcuts: str = "all", pool_links: bool = True,
               parallel: str = "level") -> FoundCells:
    """Find, classify and measure the cells of ``graph`` (options in the module docstring)."""
    check_choice("shortcuts", shortcuts, SHORTCUTS)
    check_choice("parallel", parallel, PARALLEL)
    ug = build_units(graph)
    units = ug.units
    main = _main_path(ug)
    links, exits = _links(ug, main)
    found = FoundCells([], [], dict(ug.unclassified), exits, [sk for sk in links if sk.projection], ug)
    counted = [sk for sk in links if _long(units, sk) and (shortcuts == "all" or not sk.projection)
               and (pool_links or not sk.pooled)]
    levels: dict[int, list[int]] = {}
    for u in sorted(main, key=lambda u: (units[u].depth, u)):
        levels.setdefault(units[u].depth, []).append(u)
    for group in _components(units, counted):
        _add_cell(found, group, levels, parallel)
    return found


def _main_path(ug: UnitGraph) -> set[int]:
    """Layers (and the input) on a longest path from the input to an output."""
    units = ug.units
    tail = [None] * len(units)  # layers after a unit on its longest path to an output
    readers = readers_of(ug)
    for u in reversed(units):
        best = 0 if u.uid in ug.outputs else None
        for v in readers.get(u.uid, []):
            step = tail[v] if units[v].kind == "sum" else (None if tail[v] is None else tail[v] + 1)
            if step is not None and (best is None or step > best):
                best = step
        tail[u.uid] = best
    total = max((u.depth + tail[u.uid] for u in units if tail[u.uid] is not None), default=0)
    return {u.uid for u in units if u.kind != "sum" and tail[u.uid] is not None and u.depth + tail[u.uid] == total}


def _links(ug: UnitGraph, main: set[int]) -> tuple[list[Skip], list[Skip]]:
    """Every link into a main-path layer, with branches traced back to where they start."""
    units = ug.units
    origins: dict[int, dict] = {}  # branch or sum unit -> {main unit: (channels, projection, pooled)}
    links, exits = [], []
    for u in units:
        if u.kind == "input":
            continue
        if u.kind == "sum":
            tops = [s for s in u.reads if units[s].depth == u.depth]
            main_tops = [t for t in tops if t in main]
            lower = {s: r for s, r in u.reads.items() if s not in main_tops}
            if main_tops:  # a sum lands its shallower summands on its deepest ones
                for s, ranges in lower.items():
                    for src, (count, proj, pooled) in _read_feeds(units, u, s, ranges, main, origins).items():
                        for t in main_tops:
                            if src != t:
                                links.append(Skip(src, [(0, count)], "add", u.name, proj, t, pooled))
            # Reading the sum reads its main summands; a sum off the main path flows on whole.
            held = {t: u.reads[t] for t in main_tops} if main_tops else u.reads
            origins[u.uid] = _gathered(units, u, held, main, origins, cap=False)
            continue
        if u.uid not in main:
            origins[u.uid] = _gathered(units, u, u.reads, main, origins, cap=True)
            continue
        top = max((units[s].depth for s in u.reads), default=0)
        for s, ranges in u.reads.items():
            for src, (count, proj, pooled) in _read_feeds(units, u, s, ranges, main, origins).items():
                sk = Skip(src, ranges if src == s else [(0, count)], "concat", u.read_node, proj, u.uid, pooled)
                if units[s].depth != top and units[src].spatial != u.spatial:
                    exits.append(sk)  # a concatenation read at another resolution: the cell's output
                else:
                    links.append(sk)
    return links, exits


def _gathered(units, u, reads: dict, main: set[int], origins: dict, cap: bool) -> dict:
    """What unit ``u`` holds from the main path, through ``reads``; a branch layer (``cap``)
    delivers at most its own width of each source."""
    acc: dict = {}
    for s, ranges in reads.items():
        feeds = _read_feeds(units, u, s, ranges, main, origins)
        if cap:
            feeds = {o: (min(c, u.width), proj, pooled) for o, (c, proj, pooled) in feeds.items()}
        _add_feeds(acc, feeds)
    return acc


def _feed(units, s: int, channels: int, main: set[int], origins: dict, pooled: bool) -> dict:
    """Where ``channels`` of unit ``s`` come from on the main path: {main unit: (count, projection, pooled)}."""
    if s in main:
        return {s: (min(channels, units[s].width), False, pooled)}
    # Parameter-free units (a merge, a resampling pool) pass a link on; a branch layer projects it.
    through_layer = units[s].kind not in ("sum", "pool")
    out = {}
    for o, (count, proj, was_pooled) in origins.get(s, {}).items():
        out[o] = (min(count, channels), proj or through_layer,
                  not through_layer and (was_pooled or units[s].kind == "pool"))
    return out


def _add_feeds(acc: dict, feeds: dict) -> None:
    for o, (count, proj, pooled) in feeds.items():
        if o in acc:
            old = acc[o]
            acc[o] = (max(old[0], count), old[1] and proj, old[2] and pooled)
        else:
            acc[o] = (count, proj, pooled)


def _read_feeds(units, u, s, ranges, main, origins) -> dict:
    count = sum(hi - lo for lo, hi in ranges)
    return _feed(units, s, count, main, origins, s in u.pooled)


def _long(units, sk: Skip) -> bool:
    return units[sk.target].depth - units[sk.source].depth >= 2


def _components(units, links: list[Skip]) -> list[list[Skip]]:
    """Group links whose level spans share a level edge (union-find over edges)."""
    parent = list(range(len(links)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[int, int] = {}
    for i, sk in enumerate(links):
        for edge in range(units[sk.source].depth, units[sk.target].depth):
            if edge in owner:
                parent[find(i)] = find(owner[edge])
            else:
                owner[edge] = i
    groups: dict[int, list] = {}
    for i, sk in enumerate(links):
        groups.setdefault(find(i), []).append(sk)
    return sorted(groups.values(), key=lambda g: max(units[sk.target].depth for sk in g))


def _add_cell(found: FoundCells, group: list[Skip], levels: dict[int, list[int]], parallel: str) -> None:
    units = found.units.units
    lo = min(units[sk.source].depth for sk in group)
    hi = max(units[sk.target].depth for sk in group)
    level_units = [levels.get(d, []) for d in range(lo, hi + 1)]
    widths = [sum(units[u].width for u in lv) for lv in level_units]
    counts = [max(len(lv), 1) for lv in level_units] if parallel == "layer" else None
    kinds = {sk.kind for sk in group}
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    chain = [lv[0] for lv in level_units if lv]
    if kind == "add" and len(level_units) == 3 and all(len(lv) == 1 for lv in level_units) \
            and _depthwise(units[level_units[1][0]], widths[0]):
        widths = [widths[0]] + widths  # the degenerate bottleneck W2 = W1 (nnmass.mass.mobilenet)
        counts = None if counts is None else [1] + counts
    if kind == "concat" and len(level_units[-1]) == 1 and level_units[-1][0] in found.units.outputs \
            and len(widths) > 1:
        # The classifier as the cell's last layer (the authors' Dense_MLP): Eq. 2 counts
        # w * d neurons, the classifier at the cell's width, whatever the class count.
        widths[-1] = widths[-2]
    actual = _actual(units, group, parallel)
    names = [units[u].name for u in chain]
    cell = CellTopology(kind, tuple(widths), actual, _common_prefix(names[1:]) or names[0],
                        counts=None if counts is None else tuple(counts))
    found.cells.append(cell)
    last = units[chain[-1]]
    merges = [sk.node for sk in group if units[sk.target].depth == hi and sk.kind == "add"]
    found.info.append({"first": names[0], "last": merges[-1] if merges else last.last, "nodes": names})
    found.cell_units.append(level_units)
    found.cell_skips.append(group)


def _actual(units, group: list[Skip], parallel: str) -> int:
    """Channels delivered, once per source channel and target level (or target layer)."""
    per: dict[tuple, list] = {}
    for sk in group:
        key = (sk.source, sk.target if parallel == "layer" else units[sk.target].depth)
        per.setdefault(key, []).extend(sk.ranges if sk.kind == "concat" else [(0, sk.count)])
    total = 0
    for (source, _), ranges in per.items():
        covered = sum(hi - lo for lo, hi in merge_ranges(ranges))
        total += min(covered, units[source].width)
    return total


def _depthwise(unit, width_in: int) -> bool:
    """An inverted residual of expansion 1: a depthwise conv then one pointwise layer,
    added to the block input. It is read as a bottleneck whose 1x1 expansion is the
    identity (Fig. 2 with W2 = W1), the authors' rule for MobileNetV2."""
    return unit.kind == "conv" and unit.groups > 1 and unit.groups == unit.width == width_in


def _common_prefix(names: list[str]) -> str:
    parts = [n.split(".") for n in names]
    out = []
    for level in zip(*parts):
        if len(set(level)) != 1:
            break
        out.append(level[0])
    return ".".join(out)


def graph_report(graph: LayerGraph, found: FoundCells, model: str, *, params: int, macs: int | None,
                 input_shape=None, spec: dict | None = None) -> MassReport:
    """A :class:`MassReport` from the cells found in a traced graph."""
    info = [{"first": i["first"], "last": i["last"]} for i in found.info]
    return MassReport(model=model, method="graph", cells=list(found.cells), params=params, macs=macs,
                      layers=graph.count("conv", "linear"), cell_info=info,
                      unclassified=list(found.unclassified), spec=spec, input_shape=input_shape,
                      degree=degree_stats(graph, found))


def degree_stats(graph: LayerGraph, found: FoundCells) -> dict | None:
    """Empirical degree of each concatenation chain cell, next to Prop. 1's ``w + m/2``.

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
    for cell, levels, skips in zip(found.cells, found.cell_units, found.cell_skips):
        if cell.kind == "concat" and all(len(lv) == 1 for lv in levels):
            out.append(_cell_degree(graph, found, cell, [lv[0] for lv in levels], skips))
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
