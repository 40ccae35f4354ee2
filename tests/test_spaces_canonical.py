"""Canonical forms of NB201 cells (nnmass.spaces.cell_dag, NB201Space.canonical_key),
checked against references written out here: path enumeration, every relabelling,
NB201's own expression-string rule, and the networks' outputs. The graph-only rule
(``canonical_ops``, TransNAS-Bench-101 micro's) is checked on NB201's cells here; what
NB201's key adds, seeing through identity edges, in test_spaces_nb201_alias.py."""
import collections
import itertools
import time

import numpy as np
import pytest

from nnmass.spaces import get_space
from nnmass.spaces.cell_dag import canonical_ops, live_edges
from nnmass.spec.nb201 import EDGES, OPS, format_arch, parse_arch

SPACE = get_space("nb201")


def key(text):
    return SPACE.canonical_key(SPACE.parse(text))


def graph_key(arch):
    """The graph-only rule on an NB201 cell (no alias is seen through)."""
    return format_arch(canonical_ops(4, EDGES, arch))


# -- hand-picked cells ---------------------------------------------------------------
def test_relabelled_intermediate_nodes_share_a_key():
    # 1 = conv3(0), 2 = pool(0), 3 = conv1(1) + skip(2); swapping nodes 1 and 2 moves each op.
    a = "|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|nor_conv_1x1~1|skip_connect~2|"
    b = "|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|skip_connect~1|nor_conv_1x1~2|"
    assert key(a) == key(b)
    assert key(a) == min(a, b)  # the smaller op tuple; here also the smaller string
    # With an edge 2 <- 1 the nodes cannot swap: the mirror image is not in the space.
    c = "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|skip_connect~2|"
    assert graph_key(parse_arch(c)) == c
    # Its output is still conv3(x) + pool(x) + conv1(conv3(x)), wired with pool at node 2
    # next to conv1, the smaller string
    assert key(c) == "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|skip_connect~1|skip_connect~2|"


def test_ops_on_dead_branches_do_not_change_the_key():
    # Node 1 reaches no output (edges 2<-1 and 3<-1 are none): its op is dead.
    base = "|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
    for op in OPS:
        assert key(f"|{op}~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|") == key(base)
    # Node 2 reads nothing (both inputs none): edge 3<-2 reads zeros whatever its op.
    # Its key is the cell with that edge none, nodes 1 and 2 then swapped (the smaller tuple).
    for op in OPS:
        assert key(f"|nor_conv_1x1~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|{op}~2|") == \
            "|none~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"


def test_a_cell_whose_output_is_cut_off_computes_zero():
    dead = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|none~1|none~2|"
    assert key(dead) == format_arch(["none"] * 6)


def test_different_cells_get_different_keys():
    pairs = [
        # the same live graph with another op on a live edge
        ("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
         "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"),
        # one conv feeding two paths is not two convs
        ("|nor_conv_1x1~0|+|none~0|skip_connect~1|+|none~0|skip_connect~1|skip_connect~2|",
         "|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|nor_conv_1x1~2|"),
    ]
    for a, b in pairs:
        assert key(a) != key(b), (a, b)


def test_the_key_is_a_canonical_arch_string_and_a_fixed_point():
    rng = np.random.default_rng(0)
    for _ in range(200):
        arch = SPACE.sample(rng)
        k = SPACE.canonical_key(arch)
        assert format_arch(parse_arch(k)) == k
        assert SPACE.canonical_key(parse_arch(k)) == k


# -- the whole space against independent references ------------------------------------
def _paths(n_nodes, active):
    """Every path 0 -> n_nodes - 1 over the active edges, as lists of edges."""
    def walk(node):
        if node == n_nodes - 1:
            yield []
            return
        for (to, src) in active:
            if src == node:
                for rest in walk(to):
                    yield [(to, src)] + rest
    return list(walk(0))


def _brute_class(n_nodes, edges, ops, zero="none"):
    """The labelled live edge set, minimised over every permutation of the
    intermediate nodes (forward or not): equal exactly for isomorphic live graphs."""
    active = {e for e, op in zip(edges, ops) if op != zero}
    label = dict(zip(edges, ops))
    live = {e for path in _paths(n_nodes, active) for e in path}
    forms = []
    for order in itertools.permutations(range(1, n_nodes - 1)):
        new = (0,) + order + (n_nodes - 1,)
        forms.append(tuple(sorted((new[t], new[s], label[(t, s)]) for t, s in live)))
    return min(forms)


def _same_partition(keys_a, keys_b):
    """Whether two labellings of the same items group them alike."""
    pairs = set(zip(keys_a, keys_b))
    return len(pairs) == len(set(keys_a)) == len(set(keys_b))


def test_graph_keys_group_exactly_the_isomorphic_live_graphs():
    archs = list(SPACE.enumerate())
    ours = [graph_key(a) for a in archs]
    brute = [_brute_class(4, EDGES, a) for a in archs]
    assert _same_partition(ours, brute)
    assert len(set(ours)) == len(set(brute))


def _expression(arch, skip_is_identity, zero_when_all_inputs_zero):
    """The output node as a sorted sum-of-terms string, ``#`` for zero: NB201's own
    rule for its 6,466 (``to_unique_str(True)``) with both flags as it has them."""
    nodes = {0: "0"}
    for k in (1, 2, 3):
        terms = []
        for (to, src), op in zip(EDGES, arch):
            if to != k:
                continue
            if op == "none" or nodes[src] == "#":
                terms.append("#")
            elif op == "skip_connect" and skip_is_identity:
                terms.append(nodes[src])
            else:
                terms.append(f"({nodes[src]})@{op}")
        if zero_when_all_inputs_zero:
            terms = [t for t in terms if t != "#"] or ["#"]
        nodes[k] = "+".join(sorted(terms))
    return nodes[3]


def test_graph_count_against_the_benchmarks_rule():
    archs = list(SPACE.enumerate())
    ours = [graph_key(a) for a in archs]
    # NB201's rule as the benchmark runs it gives the paper's 6,466.
    assert len({_expression(a, True, False) for a in archs}) == 6466
    # Without its identity for skip_connect and with every all-zero node zero, the
    # expression rule groups exactly as the graph-only rule does.
    assert _same_partition(ours, [_expression(a, False, True) for a in archs])
    # The README's account of the difference: the classes of ours that NB201's rule
    # splits (a node 2 whose inputs are both none is not zero there), and NB201's
    # classes that mix cells with different numbers of live convs.
    theirs = [_expression(a, True, False) for a in archs]
    split = collections.defaultdict(set)
    convs = collections.defaultdict(set)
    for arch, k, t in zip(archs, ours, theirs):
        split[k].add(t)
        convs[t].add(sum("conv" in op for op in live_edges(4, EDGES, arch).values()))
    assert sum(len(v) > 1 for v in split.values()) == 685
    assert sum(len(v) > 1 for v in convs.values()) == 430


def test_all_nb201_keys_are_fast():
    archs = list(SPACE.enumerate())
    start = time.perf_counter()
    for a in archs:
        SPACE.canonical_key(a)
    assert time.perf_counter() - start < 5.0  # about 0.4 s unloaded


def test_generic_cell_of_five_nodes_against_brute_force():
    edges = [(to, src) for to in range(1, 5) for src in range(to)]
    cells = list(itertools.product(("none", "conv"), repeat=len(edges)))
    ours = [canonical_ops(5, edges, ops) for ops in cells]
    brute = [_brute_class(5, edges, ops) for ops in cells]
    assert _same_partition(ours, brute)
    # every canonical cell keeps exactly the live edges' ops, none elsewhere
    for ops, canon in zip(cells, ours):
        assert sorted(live_edges(5, edges, ops).values()) == sorted(op for op in canon if op != "none")


# -- the networks ------------------------------------------------------------------------
def _state_for(canon_net, net, mapping):
    """``net``'s weights under ``canon_net``'s names: cell edge ``t<-s`` of ``net``
    becomes ``mapping[(t, s)]``; modules of dead edges are left out."""
    source = net.state_dict()
    out = {}
    for name in canon_net.state_dict():
        parts = name.split(".")
        if len(parts) > 3 and parts[2] == "edges":
            to, src = (int(v) for v in parts[3].split("<-"))
            old = mapping[(to, src)]
            parts[3] = f"{old[0]}<-{old[1]}"
        out[name] = source[".".join(parts)]
    return out


def _relabelling(arch, canon):
    """Canonical edge -> the edge of ``arch`` it came from, found by trying both numberings."""
    live = live_edges(4, EDGES, arch)
    for order in ((1, 2), (2, 1)):
        new = (0,) + order + (3,)
        moved = {(new[t], new[s]): (t, s) for (t, s) in live}
        if all(canon[EDGES.index(e)] == arch[EDGES.index(old)] for e, old in moved.items()) and \
                len(moved) == sum(op != "none" for op in canon):
            return moved
    raise AssertionError("no numbering maps the cell onto its canonical form")


def test_architectures_sharing_a_graph_key_compute_the_same_function():
    torch = pytest.importorskip("torch")
    from nnmass.models.nb201 import build_nb201

    classes = collections.defaultdict(list)
    for arch in SPACE.enumerate():
        classes[graph_key(arch)].append(arch)
    shared = sorted(k for k, members in classes.items() if len(members) > 1)
    rng = np.random.default_rng(1)
    x = torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    for k in rng.choice(shared, size=12, replace=False):
        canon = parse_arch(k)
        canon_net = build_nb201(k, num_classes=5, C=4, N=1)  # train mode: batch statistics
        members = classes[k]
        for i in rng.choice(len(members), size=min(3, len(members)), replace=False):
            arch = members[int(i)]
            torch.manual_seed(int(i))
            net = build_nb201(format_arch(arch), num_classes=5, C=4, N=1)
            # every module of the canonical net has its counterpart; dead edges' modules go
            mapping = _relabelling(arch, canon)
            canon_net.load_state_dict(_state_for(canon_net, net, mapping))
            with torch.no_grad():
                assert torch.allclose(canon_net(x), net(x), rtol=1e-5, atol=1e-6), (format_arch(arch), k)
