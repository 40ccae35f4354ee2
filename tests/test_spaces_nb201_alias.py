"""NB201's canonical key is the cell's module wiring: identity edges seen through (a
node whose only live input is a ``skip_connect`` is its source) and sums flattened
(a node read only through skips is a set of summands of its readers). Checked against
second implementations written out here (rewriting aliases away one at a time, then
pairwise isomorphism; a hash-consed expression of the modules), and the built
networks' params, MACs, NN-Mass and outputs."""
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


def _wiring(arch):
    """The cell's modules and sums, hash-consed: a module is (op, the tensor it reads), a
    node's tensor the sorted tuple of the summands it adds up (a skip adds its source's
    summands: sums are flat); with how many modules of each kind there are."""
    value, modules = {0: ("x",)}, collections.Counter()
    live = _live(arch)
    for node in (1, 2, 3):
        summands = []
        for (to, src), op in live.items():
            if to != node:
                continue
            if op == SKIP:
                summands.extend(value[src])
            else:
                modules[(op, value[src])] += 1
                summands.append((op, value[src]))
        value[node] = tuple(sorted(summands, key=repr))
    return value[3], tuple(sorted(modules.items(), key=repr))


def test_the_classes_are_the_module_wirings():
    archs = list(SPACE.enumerate())
    ours = [SPACE.canonical_key(a) for a in archs]
    wirings = [_wiring(a) for a in archs]
    assert _same_partition(ours, wirings)
    assert len(set(ours)) == 5425
    # the key is the smallest op tuple of its class among the members with no dead edge
    smallest = {}
    for arch, w in zip(archs, wirings):
        if _no_dead_edge(arch):
            smallest[w] = min(smallest.get(w, arch), arch)
    assert all(k == format_arch(smallest[w]) for k, w in zip(ours, wirings))


def test_each_alias_class_is_inside_one_class():
    """Resolving aliases alone (the rewriting rule) gives 6,985 classes; a wiring class is
    a union of them."""
    archs = list(SPACE.enumerate())
    ours = [SPACE.canonical_key(a) for a in archs]
    inside = collections.defaultdict(set)
    for k, r in zip(ours, _classes_by_rewriting(archs)):
        inside[r].add(k)
    assert len(inside) == 6985 and all(len(v) == 1 for v in inside.values())


def test_against_the_benchmarks_rule():
    from test_spaces_canonical import _expression  # NB201's own expression rule, written out

    archs = list(SPACE.enumerate())
    ours = [SPACE.canonical_key(a) for a in archs]
    # Classes of ours that the rule splits. With every all-zero node zero it still
    # splits 346: its terms are strings, sorted without flattening a skipped sum, so
    # x + (a + b) and a + (x + b) differ there; both are a + b + x.
    for flags, classes, split in (((True, False), 6466, 721), ((True, True), 5390, 346)):
        theirs = [_expression(a, *flags) for a in archs]
        parts = collections.defaultdict(set)
        for k, t in zip(ours, theirs):
            parts[k].add(t)
        assert len(set(theirs)) == classes
        assert sum(len(v) > 1 for v in parts.values()) == split
    split_pair = ("|skip_connect~0|+|none~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|",
                  "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|nor_conv_3x3~1|skip_connect~2|")
    assert key(split_pair[0]) == key(split_pair[1])
    assert len({_expression(parse_arch(a), True, True) for a in split_pair}) == 2


def test_wirings_that_only_flat_sums_make_equal():
    # a node computed by one module and read once, through a skip, is a summand
    a = "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"
    b = "|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|"
    assert key(a) == key(b)
    # x + x + x, at one node or as x + (x + x)
    assert key("|skip_connect~0|+|none~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|") == \
        key("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|skip_connect~1|skip_connect~2|")
    # two convs on the input, summed at the output directly or through node 2
    assert key("|none~0|+|nor_conv_1x1~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|") == \
        key("|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|nor_conv_1x1~2|")
    # but a sum that a module reads is that module's input: conv(a + b) is not conv(a) + b
    assert key(a) != key("|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|")


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


def _merged(classes, rule):
    """The classes whose members fall into several classes of ``rule``, with one member
    of each of those: the graph-only rule (merged by aliases or flat sums) or the
    rewriting rule (merged by flat sums alone)."""
    out = {}
    for k, members in classes.items():
        if rule == "graph":
            parts = {canonical_ops(4, EDGES, a): a for a in members}
        else:
            parts = dict(zip(_classes_by_rewriting(members), members))
        if len(parts) > 1:
            out[k] = sorted(parts.values())
    return out


def test_params_and_macs_are_equal_within_a_class():
    torch = pytest.importorskip("torch")
    from nnmass.models.nb201 import build_nb201
    from nnmass.proxies import macs
    from nnmass.proxies.batch import gaussian_batch

    classes = _members_without_dead_edges()
    flat = _merged(classes, "rewriting")
    rng = np.random.default_rng(5)
    batch = gaussian_batch((3, 8, 8), batch_size=2, num_classes=5, seed=0)
    picks = [classes[k] for k in rng.choice(sorted(classes), size=15, replace=False)]
    picks += [flat[k] for k in rng.choice(sorted(flat), size=15, replace=False)]
    for members in picks:
        picked = [members[int(i)] for i in rng.choice(len(members), size=min(3, len(members)), replace=False)]
        counts = set()
        for arch in picked:
            torch.manual_seed(0)
            net = build_nb201(format_arch(arch), num_classes=5, C=4, N=2)
            counts.add((sum(p.numel() for p in net.parameters()), macs(net, batch)))
        assert len(counts) == 1, ([format_arch(a) for a in picked], counts)


def _flat(arch):
    """``({module edge: (op, tensor it reads)}, output tensor)``, a tensor being the
    Counter of the module edges (and ``"x"``) it adds up, skips expanded."""
    live = _live(arch)
    tensor = {0: collections.Counter({"x": 1})}
    for node in (1, 2, 3):
        tensor[node] = collections.Counter()
        for (to, src), op in live.items():
            if to == node:
                tensor[node] += tensor[src] if op == SKIP else collections.Counter({(to, src): 1})
    return {e: (op, tensor[e[1]]) for e, op in live.items() if op != SKIP}, tensor[3]


def _module_map(arch, canon):
    """Edge of ``arch`` -> edge of ``canon`` holding the same module, found by trying
    every bijection of their modules."""
    (ma, oa), (mc, oc) = _flat(arch), _flat(canon)
    edges = sorted(ma)
    for image in itertools.permutations(sorted(mc)):
        m = dict(zip(edges, image))

        def moved(counter):
            return collections.Counter({m.get(item, item): n for item, n in counter.items()})
        if len(mc) == len(ma) and moved(oa) == oc and all(
                ma[e][0] == mc[m[e]][0] and moved(ma[e][1]) == mc[m[e]][1] for e in edges):
            return m
    raise AssertionError(f"no module bijection from {format_arch(arch)} onto {format_arch(canon)}")


def test_members_compute_the_canonical_networks_function():
    torch = pytest.importorskip("torch")
    from nnmass.models.nb201 import build_nb201

    classes = _members_without_dead_edges()
    rng = np.random.default_rng(6)
    graph, flat = _merged(classes, "graph"), _merged(classes, "rewriting")
    keys = list(rng.choice(sorted(graph), size=8, replace=False)) + list(rng.choice(sorted(flat), size=8, replace=False))
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(7))
    checked = collections.Counter()
    for k in keys:
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
            checked["graph"] += canonical_ops(4, EDGES, arch) != parse_arch(k)
            checked["flat"] += _matching(_rewritten(arch), _rewritten(parse_arch(k))) is None
    assert checked["graph"] >= 12 and checked["flat"] >= 8  # members only an alias, or a flat sum, makes equal


def test_nn_mass_is_equal_within_a_class():
    """NN-Mass of members from different graph-only (or alias) classes of one class, on
    the traced network (fx, not the written-out graph ``rank`` reads) and on the
    written-out one."""
    torch = pytest.importorskip("torch")
    from nnmass.mass import measure
    from nnmass.mass.nb201 import nb201_report
    from nnmass.models.nb201 import build_nb201

    classes = _members_without_dead_edges()
    graph, flat = _merged(classes, "graph"), _merged(classes, "rewriting")
    rng = np.random.default_rng(8)
    x = torch.zeros(1, 3, 16, 16)
    for merged in (graph, flat):
        for k in rng.choice(sorted(merged), size=6, replace=False):
            picked = merged[k][:3]
            traced = {measure(build_nb201(format_arch(a), C=8, N=2), x, method="fx").nn_mass for a in picked}
            assert len(traced) == 1, (k, [format_arch(a) for a in picked], traced)
        for k in rng.choice(sorted(merged), size=100, replace=False):
            assert len({nb201_report(format_arch(a)).nn_mass for a in merged[k]}) == 1, k


def test_the_shipped_table_is_the_definition():
    """``canonical`` reads ``data/nb201_canonical.csv``; it must be what the definition gives."""
    from nnmass.spaces.nb201 import _canonical_cells, computed_canonical_cells
    assert _canonical_cells() == computed_canonical_cells()
