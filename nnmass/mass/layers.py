"""From a :class:`LayerGraph` to its layers (*units*): the candidate nodes of NN-Mass cells.

Pure data, no torch. Every conv, linear, resampling pool or reshape creates a
unit; norms and activations pass their input's unit through. Each tensor
carries its provenance, the channels of which units it holds, so a
concatenation, a slice or an ``index_select`` delivers exactly the channels it
keeps. An addition of a layer's output and an earlier unit (directly, or
through a short projection branch) is a residual skip into that layer.

Two conventions merge units into one layer, and they are ours:

* consecutive weight layers with no activation between them (only norms or
  linear pooling) are one linear operator, so one layer: the 1x1 -> depthwise ->
  1x1 of a separable conv, a transition's conv and average pool;
* in a concatenation network, whatever a layer computes between reading a
  concatenation and producing the tensor that is concatenated with those same
  inputs is internal to that layer (the 1x1 bottleneck of a DenseNet layer),
  as in Eq. 2 where a layer maps its concatenated input to its outputs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .graph import LayerGraph

Segments = tuple  # ((unit, lo, hi), ...): channels lo..hi-1 of each unit, in tensor order


@dataclass
class Prov:
    """Provenance of one tensor: its channels by unit, and what it went through."""

    segs: Segments
    cat: bool = False  # came through a concatenation since its units were made
    act: bool = False  # came through an activation since its (last) unit was made

    @property
    def width(self) -> int:
        return sum(hi - lo for _, lo, hi in self.segs)

    def units(self) -> list[int]:
        return list(dict.fromkeys(u for u, _, _ in self.segs))

    def whole(self, units: list["Unit"]) -> int | None:
        """The unit this tensor is, when it is exactly one unit's full output."""
        if len(self.segs) == 1:
            u, lo, hi = self.segs[0]
            if lo == 0 and hi == units[u].width:
                return u
        return None


@dataclass
class Skip:
    """Channels of unit ``source`` delivered to a later unit by a merge node."""

    source: int
    ranges: list[tuple[int, int]]  # merged channel ranges of the source
    kind: str  # "concat" or "add"
    node: str  # the merge node
    projection: bool = False  # reached the add through a projection branch
    target: int = -1  # the unit it lands on

    @property
    def count(self) -> int:
        return sum(hi - lo for lo, hi in self.ranges)


@dataclass
class Unit:
    """A candidate node: one layer's output (channels = neurons of Eq. 2)."""

    uid: int
    name: str  # the node that made it
    last: str  # the last node that belongs to it (an add that merged a skip into it)
    width: int
    spatial: tuple | None
    kind: str  # input, conv, linear, pool, flatten, other
    groups: int = 1
    reads: dict = field(default_factory=dict)  # source unit -> channel ranges read on creation
    read_node: str = ""  # the node whose output it read (a concat, for several sources)
    via_concat: bool = False
    after_act: bool = False
    adds: list[Skip] = field(default_factory=list)  # residual skips merged into it
    members: list[str] = field(default_factory=list)
    depth: int = 0


@dataclass
class UnitGraph:
    units: list[Unit]
    unclassified: dict[str, str]  # node name -> why
    projections: list[Skip]  # projection shortcuts found (counted unless shortcuts="identity")
    concat_operands: set = field(default_factory=set)  # units some concatenation holds
    concat_groups: list = field(default_factory=list)  # the units of each concatenation
    extra_uses: dict = field(default_factory=dict)  # unit -> reads other than by a new unit
    outputs: set = field(default_factory=set)  # units the network returns


def _same_spatial(a, b) -> bool:
    """Equal resolutions; a 1x1 map and a flat vector count as the same."""
    def size(s):
        n = 1
        for d in s or ():
            n *= d
        return n
    return a == b or (size(a) == 1 and size(b) == 1)


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


class _Builder:
    def __init__(self, graph: LayerGraph):
        self.graph = graph
        self.units: list[Unit] = []
        self.prov: dict[str, Prov] = {}
        self.unclassified: dict[str, str] = {}
        self.projections: list[Skip] = []
        self.concat_operands: set[int] = set()
        self.concat_groups: list[set] = []
        self.extra: dict[int, int] = {}
        self.outputs: set[int] = set()

    def new_unit(self, node, kind, reads_from: Prov | None) -> Prov:
        uid = len(self.units)
        unit = Unit(uid, node.name, node.name, int(node.channels), node.spatial, kind, node.groups,
                    members=[node.name])
        if reads_from is not None:
            by_source: dict[int, list] = {}
            for u, lo, hi in reads_from.segs:
                by_source.setdefault(u, []).append((lo, hi))
            unit.reads = {u: merge_ranges(r) for u, r in by_source.items()}
            unit.via_concat, unit.after_act = reads_from.cat, reads_from.act
            unit.read_node = node.inputs[0]
            unit.depth = 1 + max(self.units[u].depth for u in unit.reads)
        self.units.append(unit)
        return Prov(((uid, 0, unit.width),))

    def use(self, p: Prov) -> None:
        """Count a read of ``p``'s units that does not make a new unit (outputs, adds)."""
        for u in p.units():
            self.extra[u] = self.extra.get(u, 0) + 1

    def deepest(self, provs) -> Prov:
        return max(provs, key=lambda p: max(self.units[u].depth for u in p.units()))

    def run(self) -> UnitGraph:
        for node in self.graph.nodes:
            ins = [self.prov[i] for i in node.inputs]
            self.prov[node.name] = self.visit(node, ins)
        return UnitGraph(self.units, self.unclassified, self.projections, self.concat_operands,
                         self.concat_groups, self.extra, self.outputs)

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
            return self.new_unit(node, op, ins[0])
        if op == "concat":
            group = {u for p in ins for u in p.units()}
            self.concat_operands.update(group)
            self.concat_groups.append(group)
            segs = tuple(s for p in ins for s in p.segs)
            return Prov(segs, cat=True, act=any(p.act for p in ins))
        if op == "index":
            p = ins[0]
            return Prov(select(p.segs, node.keep), p.cat, p.act)
        if op == "add":
            return self.visit_add(node, ins)
        same_shape = (len(ins) == 1 and node.channels == ins[0].width
                      and _same_spatial(node.spatial, self.graph[node.inputs[0]].spatial))
        if op in ("bn", "act") and same_shape:
            return Prov(ins[0].segs, ins[0].cat, ins[0].act or op == "act")
        if op in ("pool", "flatten", "other") and same_shape and not node.params:
            return Prov(ins[0].segs, ins[0].cat, ins[0].act)
        if len({tuple(p.segs) for p in ins}) > 1:
            return self.reject(node, f"{node.target or op} merges {len(ins)} feature tensors", ins)
        if not ins:
            return None
        return self.new_unit(node, op if op in ("pool", "flatten") else "other", ins[0])

    def reject(self, node, why: str, ins: list[Prov]) -> Prov:
        """Report ``node`` as unclassified; carry on with its deepest input."""
        self.unclassified[node.name] = why
        for p in ins:
            self.use(p)
        return self.deepest(ins)

    def visit_add(self, node, ins: list[Prov]) -> Prov:
        if len(ins) == 1 or len({tuple(p.segs) for p in ins}) == 1:
            return ins[0]  # adds a constant or a tensor to itself: elementwise
        if len(ins) != 2 or ins[0].width != ins[1].width:
            return self.reject(node, "addition of tensors of different shapes", ins)
        a, b = (p.whole(self.units) for p in ins)
        if a is None or b is None:
            return self.reject(node, "addition of tensors that are not whole layer outputs", ins)
        if self.units[a].depth == self.units[b].depth:
            return self.reject(node, "addition of two parallel branches of equal depth", ins)
        main, short = (a, b) if self.units[a].depth > self.units[b].depth else (b, a)
        main_prov = ins[0] if main == a else ins[1]
        ancestors = self.ancestors(main)
        source, branch = short, 0
        while source is not None and source not in ancestors:
            source, branch = self.pred(source), branch + 1
        if source is None or branch >= ancestors[source]:
            return self.reject(node, "addition of tensors that no chain of layers links", ins)
        if ancestors[source] < 2:
            return self.reject(node, "residual addition that skips no layer", ins)
        self.use(ins[1] if main == a else ins[0])
        if branch == 0:
            self.units[main].adds.append(
                Skip(source, [(0, self.units[source].width)], "add", node.name, target=main))
        else:
            # A projection delivers at most the source's channels to the layer it lands on.
            width = min(self.units[source].width, self.units[main].width)
            self.projections.append(Skip(source, [(0, width)], "add", node.name, True, main))
        self.units[main].last = node.name
        return Prov(main_prov.segs, main_prov.cat, False)

    def pred(self, uid: int) -> int | None:
        reads = self.units[uid].reads
        if not reads:
            return None
        return max(reads, key=lambda u: self.units[u].depth)

    def ancestors(self, uid: int) -> dict[int, int]:
        """unit -> steps back along the predecessor chain from ``uid``."""
        out, steps, cur = {}, 0, uid
        while cur is not None:
            out[cur] = steps
            cur, steps = self.pred(cur), steps + 1
        return out


def build_units(graph: LayerGraph) -> UnitGraph:
    """Units of ``graph`` with their reads and residual skips, then merged into layers."""
    return _collapse(_Builder(graph).run())


def _direct_reader(ug: UnitGraph, readers: dict[int, list[int]], extra_uses: dict[int, int], u: Unit):
    """The one unit that reads ``u``'s full output directly and nothing else, if any."""
    rs = readers.get(u.uid, [])
    if len(rs) != 1 or extra_uses.get(u.uid, 0):
        return None
    v = ug.units[rs[0]]
    if list(v.reads) != [u.uid] or v.reads[u.uid] != [(0, u.width)] or v.via_concat:
        return None
    return v


def _collapse(ug: UnitGraph) -> UnitGraph:
    units = ug.units
    readers: dict[int, list[int]] = {}
    for v in units:
        for s in v.reads:
            readers.setdefault(s, []).append(v.uid)
    extra = ug.extra_uses
    link: dict[int, int] = {}
    for u in units:
        v = _direct_reader(ug, readers, extra, u)
        if v is not None and not v.after_act and not u.adds and u.kind != "input":
            link[u.uid] = v.uid  # one linear operator
    for u in units:
        if not u.via_concat or u.uid in ug.concat_operands:
            continue
        chain, cur = [u.uid], u
        while cur.uid not in ug.concat_operands:
            nxt = _direct_reader(ug, readers, extra, cur)
            if nxt is None or nxt.spatial != u.spatial or cur.adds:
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
                 after_act=head.after_act, adds=list(tail.adds),
                 members=[n for c in chain for n in c.members])
        for c in chain:
            new_id[c.uid] = m.uid
        merged.append(m)
    for m in merged:
        m.reads = {new_id[s]: r for s, r in m.reads.items()}
        for sk in m.adds:
            sk.source, sk.target = new_id[sk.source], m.uid
        m.depth = 1 + max((merged[s].depth for s in m.reads), default=-1)
    for sk in ug.projections:
        sk.source = new_id[sk.source]
        sk.target = new_id[sk.target]
    operands = {new_id[u] for u in ug.concat_operands}
    groups = [{new_id[u] for u in g} for g in ug.concat_groups]
    extra = {}
    for u, n in ug.extra_uses.items():
        extra[new_id[u]] = extra.get(new_id[u], 0) + n
    outputs = {new_id[u] for u in ug.outputs}
    return UnitGraph(merged, ug.unclassified, ug.projections, operands, groups, extra, outputs)
