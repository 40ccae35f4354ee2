"""NB201's canonical key sees through identity edges: a node whose only live input is a
``skip_connect`` is its source. Checked against a second implementation of the rule
written out here (rewriting aliases away one at a time, then pairwise isomorphism),
a hash of the cells' module wiring, and the built networks' params, MACs and outputs."""
import collections
import itertools

import numpy as np
import pytest

from nnmass.spaces import get_space
from nnmass.spaces.cell_dag import canonical_ops
from nnmass.spec.nb201 import EDGES, OPS, format_arch, parse_arch

SPACE = get_space("nb201")
SKIP = "skip_connect"


def key(text):
    return SPACE.canonical_key(SPACE.parse(text))


# -- a second implementation, by rewriting ------------------------------------------------
def _live(arch):
    """``{edge: op}`` of the edges on some path 0 -> 3, found by listing the paths."""
    active = [e for e, op in zip(EDGES, arch) if op != "none"]

    def paths(node):
        if node == 3:
            return [[]]
        return [[(to, src)] + rest for (to, src) in active if src == node for rest in paths(to)]
    return {e: arch[EDGES.index(e)] for path in paths(0) for e in path}


def _rewritten(arch):
    """(edges, output): the live edges as ``[to, src, op, original edge]`` after each
    node with one live input, a skip, is removed and its readers read its source
    instead, repeated until none is left; ``output`` is what the cell returns."""
    edges = [[to, src, op, (to, src)] for (to, src), op in _live(arch).items()]
    output = 3
    while True:
        alias = next((n for n in (1, 2, 3) if [e[2] for e in edges if e[0] == n] == [SKIP]), None)
        if alias is None:
            return edges, output
        (source,) = [e[1] for e in edges if e[0] == alias]
        edges = [e for e in edges if e[0] != alias]
        for e in edges:
            e[1] = source if e[1] == alias else e[1]
        output = source if output == alias else output


def _matching(a, b):
    """A bijection of ``a``'s inner nodes onto ``b``'s under which their rewritten edges
    are the same multiset (input to input, output to output), or None."""
    (ea, oa), (eb, ob) = a, b
    if (oa == 0) != (ob == 0) or len(ea) != len(eb):
        return None
    inner_a = sorted({n for e in ea for n in e[:2]} - {0, oa})
    inner_b = sorted({n for e in eb for n in e[:2]} - {0, ob})
    if len(inner_a) != len(inner_b):
        return None
    target = collections.Counter((to, src, op) for to, src, op, _ in eb)
    for image in itertools.permutations(inner_b):
        m = {0: 0, oa: ob, **dict(zip(inner_a, image))}
        if collections.Counter((m[to], m[src], op) for to, src, op, _ in ea) == target:
            return m
    return None


def _classes_by_rewriting(archs):
    """Class index of each arch: pairwise isomorphism against each class's first member,
    within buckets of equal op multisets."""
    forms = [_rewritten(a) for a in archs]
    buckets = collections.defaultdict(list)  # bucket -> [(class id, form)]
    out = []
    for form in forms:
        bucket = (tuple(sorted(e[2] for e in form[0])), form[1] == 0, not form[0] and form[1] == 3)
        for cls, first in buckets[bucket]:
            if _matching(form, first) is not None:
                out.append(cls)
                break
        else:
            cls = sum(len(v) for v in buckets.values())
            buckets[bucket].append((cls, form))
            out.append(cls)
    return out


def _same_partition(keys_a, keys_b):
    pairs = set(zip(keys_a, keys_b))
    return len(pairs) == len(set(keys_a)) == len(set(keys_b))


def _no_dead_edge(arch):
    return len(_live(arch)) == sum(op != "none" for op in arch)


def test_the_class_count_two_ways():
    archs = list(SPACE.enumerate())
    ours = [SPACE.canonical_key(a) for a in archs]
    theirs = _classes_by_rewriting(archs)
    assert _same_partition(ours, theirs)
    assert len(set(ours)) == len(set(theirs)) == 6985
    # the key is the smallest op tuple of its class among the members with no dead edge
    smallest = {}
    for arch, cls in zip(archs, theirs):
        if _no_dead_edge(arch):
            smallest[cls] = min(smallest.get(cls, arch), arch)
    assert all(k == format_arch(smallest[cls]) for k, cls in zip(ours, theirs))


def test_against_the_benchmarks_rule():
    from test_spaces_canonical import _expression  # NB201's own expression rule, written out

    archs = list(SPACE.enumerate())
    ours = [SPACE.canonical_key(a) for a in archs]
    for flags, classes, split in (((True, False), 6466, 628), ((True, True), 5390, 0)):
        theirs = [_expression(a, *flags) for a in archs]
        parts = collections.defaultdict(set)
        for k, t in zip(ours, theirs):
            parts[k].add(t)
        assert len(set(theirs)) == classes
        # classes of ours that the rule splits; none once every all-zero node is zero,
        # so each of ours is then inside one of its classes (they merge more: no sharing)
        assert sum(len(v) > 1 for v in parts.values()) == split


def _wiring(arch):
    """The cell's modules and sums, hash-consed: a module is (op, the value it reads),
    a node's value the sorted tuple of its summands (one summand: that summand), a
    skip passes its source's value on; with how many modules of each kind there are."""
    value, modules = {0: "x"}, collections.Counter()
    live = _live(arch)
    for node in (1, 2, 3):
        summands = []
        for (to, src), op in live.items():
            if to != node:
                continue
            if op == SKIP:
                summands.append(value[src])
            else:
                modules[(op, value[src])] += 1
                summands.append((op, value[src]))
        summands.sort(key=repr)
        value[node] = None if not summands else summands[0] if len(summands) == 1 else ("+", tuple(summands))
    return value[3], tuple(sorted(modules.items(), key=repr))


def test_a_class_holds_one_module_wiring():
    archs = list(SPACE.enumerate())
    wiring = collections.defaultdict(set)
    for arch in archs:
        wiring[SPACE.canonical_key(arch)].add(_wiring(arch))
    assert all(len(w) == 1 for w in wiring.values())
    # The rule keeps some cells apart whose wiring is the same: a node computed by one
    # module and read once, through a skip, is a sum's summand either way.
    a = "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"
    b = "|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"
    assert _wiring(parse_arch(a)) == _wiring(parse_arch(b)) and key(a) != key(b)


# -- hand-picked cells --------------------------------------------------------------------
def test_identity_edges_are_seen_through():
    same = [
        # a skip chain into a conv is the conv on the input
        ("|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|",
         "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"),
        # an output that is a skip of node 2 is node 2
        ("|nor_conv_1x1~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|skip_connect~2|",
         "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|"),
        # one conv read by two convs, directly or through an alias
        ("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|",
         "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"),
    ]
    assert key(same[0][0]) == key(same[0][1]) == same[0][1]
    assert key(same[1][0]) == key(same[1][1])
    assert key(same[2][0]) != key(same[2][1])  # two readers are not one
    # the input passed through to the output, however many skips long
    assert key("|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|") == \
        key("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|") != format_arch(["none"] * 6)


def test_one_conv_read_twice_is_not_two_convs():
    shared = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|"
    twice = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_1x1~1|nor_conv_1x1~2|"
    assert key(shared) != key(twice)


def test_keys_are_fixed_points_and_fast_after_the_first():
    import time
    rng = np.random.default_rng(3)
    archs = [SPACE.sample(rng) for _ in range(300)]
    for arch in archs:
        k = SPACE.canonical_key(arch)
        assert format_arch(parse_arch(k)) == k and SPACE.canonical_key(parse_arch(k)) == k
    start = time.perf_counter()
    for arch in SPACE.enumerate():
        SPACE.canonical_key(arch)
    assert time.perf_counter() - start < 2.0  # a table look-up each


# -- the networks ------------------------------------------------------------------------
def _members_without_dead_edges():
    """canonical key -> its members with no dead edge, for the classes with several."""
    classes = collections.defaultdict(list)
    for arch in SPACE.enumerate():
        if _no_dead_edge(arch):
            classes[SPACE.canonical_key(arch)].append(arch)
    return {k: v for k, v in classes.items() if len(v) > 1}


def test_params_and_macs_are_equal_within_a_class():
    torch = pytest.importorskip("torch")
    from nnmass.models.nb201 import build_nb201
    from nnmass.proxies import macs
    from nnmass.proxies.batch import gaussian_batch

    classes = _members_without_dead_edges()
    rng = np.random.default_rng(5)
    batch = gaussian_batch((3, 8, 8), batch_size=2, num_classes=5, seed=0)
    for k in rng.choice(sorted(classes), size=20, replace=False):
        members = classes[k]
        picked = [members[int(i)] for i in rng.choice(len(members), size=min(3, len(members)), replace=False)]
        counts = set()
        for arch in picked:
            torch.manual_seed(0)
            net = build_nb201(format_arch(arch), num_classes=5, C=4, N=2)
            counts.add((sum(p.numel() for p in net.parameters()), macs(net, batch)))
        assert len(counts) == 1, (k, [format_arch(a) for a in picked], counts)


def _module_map(arch, canon):
    """Edge of ``arch`` -> edge of ``canon`` holding the same module: the rewritten
    graphs matched node to node, parallel equal edges paired in order."""
    a, c = _rewritten(arch), _rewritten(canon)
    m = _matching(a, c)
    assert m is not None
    free = collections.defaultdict(list)
    for to, src, op, edge in c[0]:
        if op != SKIP:
            free[(to, src, op)].append(edge)
    return {edge: free[(m[to], m[src], op)].pop() for to, src, op, edge in a[0] if op != SKIP}


def test_members_compute_the_canonical_networks_function():
    torch = pytest.importorskip("torch")
    from nnmass.models.nb201 import build_nb201

    classes = _members_without_dead_edges()
    # the classes that seeing through an alias made: more than one graph-only class
    merged = sorted(k for k, v in classes.items() if len({canonical_ops(4, EDGES, a) for a in v}) > 1)
    rng = np.random.default_rng(6)
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(7))
    checked = 0
    for k in rng.choice(merged, size=12, replace=False):
        torch.manual_seed(1)
        canon_net = build_nb201(k, num_classes=5, C=4, N=1)  # train mode: batch statistics
        source = canon_net.state_dict()
        for arch in classes[k]:
            mapping = _module_map(arch, parse_arch(k))
            net = build_nb201(format_arch(arch), num_classes=5, C=4, N=1)
            state = {}
            for name in net.state_dict():
                parts = name.split(".")
                if len(parts) > 3 and parts[2] == "edges":
                    to, src = mapping[tuple(int(v) for v in parts[3].split("<-"))]
                    parts[3] = f"{to}<-{src}"
                state[name] = source[".".join(parts)]
            net.load_state_dict(state)
            with torch.no_grad():
                assert torch.allclose(canon_net(x), net(x), rtol=1e-5, atol=1e-6), (format_arch(arch), k)
            checked += canonical_ops(4, EDGES, arch) != parse_arch(k)
    assert checked >= 12  # members that only an alias makes equal


def test_nn_mass_is_equal_within_a_class():
    """NN-Mass of members from different graph-only classes of one class, on the traced
    network (fx, not the written-out graph ``rank`` reads) and on the written-out one."""
    torch = pytest.importorskip("torch")
    from nnmass.mass import measure
    from nnmass.mass.nb201 import nb201_report
    from nnmass.models.nb201 import build_nb201

    classes = _members_without_dead_edges()
    merged = {}
    for k, members in classes.items():
        by_graph = {canonical_ops(4, EDGES, a): a for a in members}
        if len(by_graph) > 1:
            merged[k] = sorted(by_graph.values())
    rng = np.random.default_rng(8)
    x = torch.zeros(1, 3, 16, 16)
    for k in rng.choice(sorted(merged), size=8, replace=False):
        picked = merged[k][:3]
        traced = {measure(build_nb201(format_arch(a), C=8, N=2), x, method="fx").nn_mass for a in picked}
        assert len(traced) == 1, (k, [format_arch(a) for a in picked], traced)
    for k in rng.choice(sorted(merged), size=150, replace=False):
        assert len({nb201_report(format_arch(a)).nn_mass for a in merged[k]}) == 1, k
