"""The cell rules of nnmass.mass.cells on layer graphs written by hand (no torch, no
tracer): each graph is the smallest one that shows a rule, and each expected mass is
worked out in the comment above it from the paper's equations."""
import pytest

from nnmass.mass.cells import find_cells
from nnmass.mass.graph import LayerGraph, Node


def chain(*nodes) -> LayerGraph:
    """A graph from (name, op, inputs, channels[, spatial or extra fields]) tuples."""
    out = []
    for name, op, inputs, channels, *rest in nodes:
        extra = rest[0] if rest else {}
        spatial = extra.pop("spatial", (8, 8)) if op != "output" else None
        out.append(Node(name, op, inputs=list(inputs), channels=channels, spatial=spatial, **extra))
    return LayerGraph(out)


def conv_act(name, src, channels, **extra):
    return [(name, "conv", [src], channels, dict(extra)), (f"{name}.act", "act", [name], channels,
                                                          {"spatial": extra.get("spatial", (8, 8))})]


def test_plain_chain_has_no_cell():
    g = chain(("x", "input", [], 3), *conv_act("c0", "x", 4), *conv_act("c1", "c0.act", 4),
              *conv_act("c2", "c1.act", 4), ("out", "output", ["c2.act"], None))
    found = find_cells(g)
    assert found.cells == [] and found.unclassified == {}


def test_concatenation_cell_is_eq_1_and_2():
    # Layers c0, c1, c2 of width 4; c2 reads c1 and channels {0, 3} of c0 (t_2 = 2).
    # Eq. 1 with d = 3, w = 4: rho = 2 * t_2 / (w (d-1)(d-2)) = 4 / 8 = 0.5; Eq. 2: m = w d rho = 6.
    g = chain(("x", "input", [], 3), *conv_act("c0", "x", 4), *conv_act("c1", "c0.act", 4),
              ("k", "index", ["c0.act"], 2, {"keep": [0, 3]}),
              ("cat", "concat", ["c1.act", "k"], 6),
              *conv_act("c2", "cat", 4), ("out", "output", ["c2.act"], None))
    (cell,) = find_cells(g).cells
    assert (cell.kind, cell.widths, cell.actual, cell.possible) == ("concat", (4, 4, 4), 2, 4)
    assert cell.density == 0.5 and cell.mass == 6.0


def test_identity_residual_is_a_basic_cell():
    # c0 -> c1 -> c2 (width 8 each), c0's output added to c2's: a skip of 8 channels over one layer.
    # Remark 2 / Eq. 3: ic = 8 + 8 (inputs of c1 and c2), actual 8, possible w_0 = 8 -> m = 16 = W1 + W2.
    g = chain(("x", "input", [], 3), *conv_act("c0", "x", 8), *conv_act("c1", "c0.act", 8),
              ("c2", "conv", ["c1.act"], 8), ("sum", "add", ["c2", "c0.act"], 8),
              ("sum.act", "act", ["sum"], 8), ("out", "output", ["sum.act"], None))
    (cell,) = find_cells(g).cells
    assert (cell.kind, cell.widths, cell.actual, cell.volume) == ("add", (8, 8, 8), 8, 16)
    assert cell.mass == 16.0


def test_projection_shortcut_counts_only_with_all_shortcuts():
    # c1 halves the resolution and doubles the width; a 1x1 projection p of c0 joins c2.
    # identity: no cell. all: the projection delivers min(8, 16) = 8 channels of c0;
    # nodes (8, 16, 16): ic = 8 + 16 = 24, possible 8 -> m = 24.
    small = {"spatial": (4, 4)}
    g = chain(("x", "input", [], 3), *conv_act("c0", "x", 8), *conv_act("c1", "c0.act", 16, spatial=(4, 4)),
              ("c2", "conv", ["c1.act"], 16, dict(small)), ("p", "conv", ["c0.act"], 16, dict(small)),
              ("sum", "add", ["c2", "p"], 16, dict(small)), ("out", "output", ["sum"], None))
    assert find_cells(g, "identity").cells == []
    (cell,) = find_cells(g, "all").cells
    assert (cell.widths, cell.actual, cell.volume, cell.mass) == ((8, 16, 16), 8, 24, 24.0)


def test_cells_split_where_no_skip_crosses():
    # Two identity residual cells in a row share no chain edge: two cells, masses add.
    g = chain(("x", "input", [], 3), *conv_act("c0", "x", 4), *conv_act("c1", "c0.act", 4),
              ("c2", "conv", ["c1.act"], 4), ("s1", "add", ["c2", "c0.act"], 4), ("s1.act", "act", ["s1"], 4),
              *conv_act("c3", "s1.act", 4), ("c4", "conv", ["c3.act"], 4), ("s2", "add", ["c4", "s1.act"], 4),
              ("out", "output", ["s2"], None))
    cells = find_cells(g).cells
    assert [c.widths for c in cells] == [(4, 4, 4), (4, 4, 4)]
    assert sum(c.mass for c in cells) == 16.0


def test_concatenation_read_at_another_resolution_ends_the_cell():
    # A pooled layer reading the concatenation of c1 and c0 is the cell's exit, not a skip.
    small = {"spatial": (4, 4)}
    g = chain(("x", "input", [], 3), *conv_act("c0", "x", 4), *conv_act("c1", "c0.act", 4),
              ("cat", "concat", ["c1.act", "c0.act"], 8), ("pool", "pool", ["cat"], 8, dict(small)),
              ("t", "conv", ["pool"], 4, dict(small)), ("out", "output", ["t"], None))
    found = find_cells(g)
    assert found.cells == [] and len(found.exits) == 1 and found.unclassified == {}


@pytest.mark.parametrize("build,node,why", [
    # A merge that is neither an add nor a concat (an elementwise product of two tensors).
    (lambda: chain(("x", "input", [], 3), *conv_act("a", "x", 4), *conv_act("b", "a.act", 4),
                   ("m", "other", ["b.act", "a.act"], 4), ("out", "output", ["m"], None)),
     "m", "merges 2 feature tensors"),
    # Two branches of equal depth added together.
    (lambda: chain(("x", "input", [], 3), ("a", "conv", ["x"], 4), ("b", "conv", ["x"], 4),
                   ("s", "add", ["a", "b"], 4), ("out", "output", ["s"], None)),
     "s", "parallel branches of equal depth"),
    # A residual around a single layer skips no layer: no long-range link.
    (lambda: chain(("x", "input", [], 3), *conv_act("c0", "x", 4), ("c1", "conv", ["c0.act"], 4),
                   ("s", "add", ["c1", "c0.act"], 4), ("out", "output", ["s"], None)),
     "s", "skips no layer"),
])
def test_merges_that_fit_no_rule_are_named(build, node, why):
    found = find_cells(build())
    assert node in found.unclassified and why in found.unclassified[node]


def test_graph_refuses_a_read_before_its_definition():
    with pytest.raises(ValueError, match="reads 'later' before it is defined"):
        LayerGraph([Node("x", "input", channels=3), Node("y", "conv", inputs=["later"], channels=4)])
