"""From a :class:`LayerGraph` to its layers (*units*) and merges: what NN-Mass cells are made of.

Pure data, no torch. Every conv or linear (and every resampling pool or reshape)
creates a unit; norms, activations, dropout and pooling that keeps the shape pass
their input through. Each tensor carries its provenance, which unit produced each
of its channels, so a concatenation, a slice or an ``index_select`` delivers
exactly the channels it keeps. A sum of tensors is a *merge*: a ``sum`` unit that
is no layer (it computes nothing of its own) and holds its summands; which summand
is the main path and which a skip is decided on the collapsed layers
(:mod:`nnmass.mass.cells`).

What is not a connection: a multiplication by a constant zero (NAS-Bench-201's
``none``) delivers nothing, a tensor of unit :data:`NONE`; a layer whose whole input
is nothing is no connection either (its output is constant). A product with a
per-channel gate computed inside the network (squeeze-excitation) passes the gated
tensor through: the gate steers channels and delivers none of its own.

Two conventions merge units into one layer, and they are ours:

* consecutive weight layers with no activation between them (only norms or
  linear pooling) are one linear operator, so one layer: the 1x1 -> depthwise ->
  1x1 of a separable conv, a transition's conv and average pool, a shortcut's
  average pool and 1x1 conv;
* in a concatenation network, whatever a layer computes between reading a
  concatenation and producing the tensor that is concatenated with those same
  inputs is internal to that layer (the 1x1 bottleneck of a DenseNet layer),
  as in Eq. 2 where a layer maps its concatenated input to its outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .graph import LayerGraph

NONE = -1  # the "unit" of channels that carry nothing (a product with zero)
Segments = tuple  # ((unit, lo, hi), ...): channels lo..hi-1 of each unit, in tensor order


@dataclass
class Prov:
    """Provenance of one tensor: its channels by unit, and what it went through."""

    segs: Segments
    cat: bool = False  # came through a concatenation since its units were made
    act: bool = False  # came through an activation since its (last) unit was made
    pooled: frozenset = frozenset()  # units whose channels came through a pooling op since

    @property
    def width(self) -> int:
        return sum(hi - lo for _, lo, hi in self.segs)

    def units(self) -> list[int]:
        return list(dict.fromkeys(u for u, _, _ in self.segs if u != NONE))

    @classmethod
    def nothing(cls, width: int) -> "Prov":
        return cls(((NONE, 0, width),)) if width else cls(())


@dataclass
class Unit:
    """A candidate node (one layer's output: channels = neurons of Eq. 2), the network's
    input, or a ``sum`` merge of several tensors."""

    uid: int
    name: str  # the node that made it
    last: str  # the last node that belongs to it
    width: int
    spatial: tuple | None
    kind: str  # input, conv, linear, pool, flatten, other, sum
    groups: int = 1
    reads: dict = field(default_factory=dict)  # source unit -> channel ranges read (summed, for a sum)
    read_node: str = ""  # the node whose output it read (a concat, for several sources)
    via_concat: bool = False
    after_act: bool = False
    pooled: frozenset = frozenset()  # sources whose channels reached it through pooling alone
    members: list[str] = field(default_factory=list)
    depth: int = 0  # layers on the longest path from the input (a sum adds none)


@dataclass
class UnitGraph:
    units: list[Unit]
    unclassified: dict[str, str]  # node name -> why
    concat_operands: set = field(default_factory=set)  # units some concatenation holds
    concat_groups: list = field(default_factory=list)  # the units of each concatenation
    extra_uses: dict = field(default_factory=dict)  # unit -> reads other than by a new unit
    outputs: set = field(default_factory=set)  # units the network returns


def _size(spatial) -> int:
    n = 1
    for d in spatial or ():
        n *= d
    return n


def _same_spatial(a, b) -> bool:
    """Equal resolutions; a 1x1 map and a flat vector count as the same."""
    return a == b or (_size(a) == 1 and _size(b) == 1)


def merge_ranges(ranges) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(a, b) for a, b in out]


def select(segs: Segments, keep: list[int]) -> Segments:
    """The segments of ``segs`` that channels ``keep`` (in order) pick out."""
    starts, flat = [], 0
    for _, lo, hi in segs:
        starts.append(flat)
        flat += hi - lo
    out: list[list[int]] = []
    seg_i = 0
    for k in keep:
        if not 0 <= k < flat:
            raise ValueError(f"channel {k} out of range 0..{flat - 1}")
        # Segments are few; a linear scan from the last hit is fast for sorted keeps.
        if not starts[seg_i] <= k < starts[seg_i] + segs[seg_i][2] - segs[seg_i][1]:
            seg_i = max(i for i, s in enumerate(starts) if s <= k)
        u, lo, _ = segs[seg_i]
        c = lo + k - starts[seg_i]
        if out and out[-1][0] == u and out[-1][2] == c:
            out[-1][2] = c + 1
        else:
            out.append([u, c, c + 1])
    return tuple(tuple(s) for s in out)


def _by_source(provs) -> dict[int, list]:
    by_source: dict[int, list] = {}
    for p in provs:
        for u, lo, hi in p.segs:
            if u != NONE:
                by_source.setdefault(u, []).append((lo, hi))
    return {u: merge_ranges(r) for u, r in by_source.items()}


class _Builder:
    def __init__(self, graph: LayerGraph):
        self.graph = graph
        self.units: list[Unit] = []
        self.prov: dict[str, Prov] = {}
        self.unclassified: dict[str, str] = {}
        self.concat_operands: set[int] = set()
        self.concat_groups: list[set] = []
        self.extra: dict[int, int] = {}
        self.outputs: set[int] = set()

    def new_unit(self, node, kind, reads_from: list[Prov] | None, width: int | None = None) -> Prov:
        """A unit for ``node`` reading ``reads_from``; a layer that reads nothing real is
        no connection, so it makes no unit and delivers nothing."""
        width = int(node.channels) if width is None else width
        reads = _by_source(reads_from or [])
        if reads_from is not None and not reads:
            return Prov.nothing(width)
        uid = len(self.units)
        unit = Unit(uid, node.name, node.name, width, node.spatial, kind, node.groups, reads=reads,
                    members=[node.name])
        if reads_from:
            unit.via_concat = any(p.cat for p in reads_from)
            unit.after_act = any(p.act for p in reads_from)
            unit.pooled = frozenset(u for p in reads_from for u in p.pooled) & set(reads)
            unit.read_node = node.inputs[0]
        self.units.append(unit)
        return Prov(((uid, 0, width),))

    def use(self, p: Prov) -> None:
        """Count a read of ``p``'s units that does not make a new unit (outputs, gates)."""
        for u in p.units():
            self.extra[u] = self.extra.get(u, 0) + 1

    def run(self) -> UnitGraph:
        for node in self.graph.nodes:
            ins = [self.prov[i] for i in node.inputs]
            self.prov[node.name] = self.visit(node, ins)
        return UnitGraph(self.units, self.unclassified, self.concat_operands, self.concat_groups,
                         self.extra, self.outputs)

    def visit(self, node, ins: list[Prov]) -> Prov | None:
        op = node.op
        if op == "input":
            return self.new_unit(node, "input", None)
        if op == "output":
            for p in ins:
                self.use(p)
                self.outputs.update(p.units())
            return None
        if op in ("conv", "linear"):
            return self.new_unit(node, op, ins[:1])
        if op == "zero":
            return Prov.nothing(int(node.channels))
        if op == "concat":
            group = {u for p in ins for u in p.units()}
            self.concat_operands.update(group)
            self.concat_groups.append(group)
            segs = tuple(s for p in ins for s in p.segs)
            return Prov(segs, True, any(p.act for p in ins), frozenset().union(*(p.pooled for p in ins)))
        if op == "index":
            p = ins[0]
            return Prov(select(p.segs, node.keep), p.cat, p.act, p.pooled)
        if op == "add":
            return self.visit_add(node, ins)
        if op == "mul":
            return self.visit_mul(node, ins)
        same_shape = (len(ins) == 1 and node.channels == ins[0].width
                      and _same_spatial(node.spatial, self.graph[node.inputs[0]].spatial))
        if op in ("bn", "act") and same_shape:
            return Prov(ins[0].segs, ins[0].cat, ins[0].act or op == "act", ins[0].pooled)
        if op in ("pool", "flatten", "other") and same_shape and not node.params:
            pooled = ins[0].pooled | frozenset(ins[0].units()) if op == "pool" else ins[0].pooled
            return Prov(ins[0].segs, ins[0].cat, ins[0].act, pooled)
        if len({tuple(p.segs) for p in ins}) > 1:
            return self.reject(node, f"{node.target or op} merges {len(ins)} feature tensors", ins)
        if not ins:
            return None
        return self.new_unit(node, op if op in ("pool", "flatten") else "other", ins[:1])

    def reject(self, node, why: str, ins: list[Prov]) -> Prov:
        """Report ``node`` as unclassified; carry on with its first input."""
        self.unclassified[node.name] = why
        for p in ins:
            self.use(p)
        return ins[0]

    def visit_add(self, node, ins: list[Prov]) -> Prov:
        real = [p for p in ins if p.units()]
        if not real:
            return Prov.nothing(int(node.channels))
        if len(real) == 1 or len({tuple(p.segs) for p in real}) == 1:
            return real[0]  # plus nothing, a constant, or itself: elementwise
        spatial = [self.graph[i].spatial for i, p in zip(node.inputs, ins) if p.units()]
        full = [p for p, s in zip(real, spatial) if _size(s) > 1]
        if 0 < len(full) < len(real) and len({p.width for p in full}) == 1:
            return self.visit_gate(full, [p for p in real if p not in full])  # a broadcast term
        if len({p.width for p in real}) != 1:
            return self.reject(node, "addition of tensors of different shapes", ins)
        if any(len(p.segs) > 1 for p in real):
            return self.visit_blockwise_add(node, real)
        # A merge: which summand is the main path is decided on the collapsed layers.
        return self.new_unit(node, "sum", real, width=real[0].width)

    def visit_blockwise_add(self, node, real: list[Prov]) -> Prov:
        """A sum with a concatenation among its summands (NAS-Bench-101's cell output,
        ``cat(v1, v2) + projection(x)``). A sum pairs channel ``k`` with channel ``k``, so it
        is, block by block of channels from one unit each, a sum onto that block's unit;
        the blocks stay concatenated. Each block becomes its own merge, and a later
        reader sees the concatenation of the merges."""
        cuts = set()
        for p in real:
            at = 0
            for _, lo, hi in p.segs:
                at += hi - lo
                cuts.add(at)
        segs: list = []
        start = 0
        for end in sorted(cuts):
            keep = list(range(start, end))
            parts = [Prov(select(p.segs, keep), p.cat, p.act, p.pooled) for p in real]
            parts = [q for q in parts if q.units()]
            if not parts:
                segs.extend(Prov.nothing(end - start).segs)
            elif len(parts) == 1 or len({q.segs for q in parts}) == 1:
                segs.extend(parts[0].segs)
            else:
                segs.extend(self.new_unit(node, "sum", parts, width=end - start).segs)
            start = end
        return Prov(tuple(segs), True, any(p.act for p in real), frozenset().union(*(p.pooled for p in real)))

    def visit_mul(self, node, ins: list[Prov]) -> Prov:
        """A product of two feature tensors: a per-channel gate (one side 1x1, squeeze-excitation)
        passes the gated tensor through; a product of two feature maps fits no rule."""
        real = [(p, self.graph[i].spatial) for i, p in zip(node.inputs, ins) if p.units()]
        if len(real) < 2:
            return real[0][0] if real else Prov.nothing(int(node.channels))
        full = [p for p, s in real if _size(s) > 1]
        if len(full) == 1:
            return self.visit_gate(full, [p for p, s in real if _size(s) <= 1])
        return self.reject(node, "product of two feature maps", ins)

    def visit_gate(self, main: list[Prov], gates: list[Prov]) -> Prov:
        for p in gates:
            self.use(p)
        return main[0]


def build_units(graph: LayerGraph) -> UnitGraph:
    """Units of ``graph`` with their reads and merges, then merged into layers, with depths."""
    ug = _collapse(_Builder(graph).run())
    _fold_partial_sums(ug)
    for u in ug.units:  # creation order is a topological order
        below = [ug.units[s].depth for s in u.reads]
        u.depth = (max(below, default=0) if u.kind == "sum" else 1 + max(below, default=-1))
    return ug


def _fold_partial_sums(ug: UnitGraph) -> None:
    """``a + b + c`` is traced as ``(a + b) + c``: a sum read only by another sum is part of
    it, so which summand is the main path is decided on the whole sum."""
    readers = readers_of(ug)
    for s in ug.units:
        rs = readers.get(s.uid, [])
        if s.kind != "sum" or len(rs) != 1 or s.uid in ug.outputs or ug.extra_uses.get(s.uid):
            continue
        r = ug.units[rs[0]]
        if r.kind != "sum" or r.reads[s.uid] != [(0, s.width)]:
            continue
        del r.reads[s.uid]
        for src, ranges in s.reads.items():
            r.reads[src] = merge_ranges(r.reads.get(src, []) + ranges)
        r.pooled = r.pooled | s.pooled
        s.reads = {}  # folded: read by nothing, it drops out of every path


def readers_of(ug: UnitGraph) -> dict[int, list[int]]:
    """unit id -> the ids of the units that read it."""
    readers: dict[int, list[int]] = {}
    for v in ug.units:
        for s in v.reads:
            readers.setdefault(s, []).append(v.uid)
    return readers


def _direct_reader(ug: UnitGraph, readers: dict[int, list[int]], extra_uses: dict[int, int], u: Unit):
    """The one layer that reads ``u``'s full output directly and nothing else, if any."""
    rs = readers.get(u.uid, [])
    if len(rs) != 1 or extra_uses.get(u.uid, 0):
        return None
    v = ug.units[rs[0]]
    if v.kind == "sum" or list(v.reads) != [u.uid] or v.reads[u.uid] != [(0, u.width)] or v.via_concat:
        return None
    return v


def _collapse(ug: UnitGraph) -> UnitGraph:
    units = ug.units
    readers = readers_of(ug)
    extra = ug.extra_uses
    link: dict[int, int] = {}
    for u in units:
        v = _direct_reader(ug, readers, extra, u)
        if v is not None and not v.after_act and u.kind not in ("input", "sum"):
            link[u.uid] = v.uid  # one linear operator
    for u in units:
        if not u.via_concat or u.uid in ug.concat_operands or u.kind == "sum":
            continue
        chain, cur = [u.uid], u
        while cur.uid not in ug.concat_operands:
            nxt = _direct_reader(ug, readers, extra, cur)
            if nxt is None or nxt.spatial != u.spatial:
                break
            chain.append(nxt.uid)
            cur = nxt
        if cur.uid in ug.concat_operands and len(chain) > 1 and _concat_with(ug, cur.uid, set(u.reads)):
            for a, b in zip(chain, chain[1:]):
                link[a] = b  # internal to a concatenation layer
    return _merge(ug, link)


def _concat_with(ug: UnitGraph, uid: int, sources: set) -> bool:
    """Whether unit ``uid`` is concatenated together with any of ``sources``."""
    return any(uid in group and group & sources for group in ug.concat_groups)


def _merge(ug: UnitGraph, link: dict[int, int]) -> UnitGraph:
    targets = set(link.values())
    new_id: dict[int, int] = {}
    merged: list[Unit] = []
    for u in ug.units:
        if u.uid in targets:
            continue  # absorbed into the chain that starts before it
        chain = [u]
        while chain[-1].uid in link:
            chain.append(ug.units[link[chain[-1].uid]])
        head, tail = chain[0], chain[-1]
        m = Unit(len(merged), head.name, tail.last, tail.width, tail.spatial, tail.kind, head.groups,
                 reads=dict(head.reads), read_node=head.read_node, via_concat=head.via_concat,
                 after_act=head.after_act, pooled=head.pooled, members=[n for c in chain for n in c.members])
        for c in chain:
            new_id[c.uid] = m.uid
        merged.append(m)
    for m in merged:
        m.reads = {new_id[s]: r for s, r in m.reads.items()}
        m.pooled = frozenset(new_id[s] for s in m.pooled)
    operands = {new_id[u] for u in ug.concat_operands}
    groups = [{new_id[u] for u in g} for g in ug.concat_groups]
    extra = {}
    for u, n in ug.extra_uses.items():
        extra[new_id[u]] = extra.get(new_id[u], 0) + n
    outputs = {new_id[u] for u in ug.outputs}
    return UnitGraph(merged, ug.unclassified, operands, groups, extra, outputs)
