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


def test_merges_that_fit_no_rule_are_named():
    # A merge that is neither an add nor a concat (an op reading two feature tensors).
    g = chain(("x", "input", [], 3), *conv_act("a", "x", 4), *conv_act("b", "a.act", 4),
              ("m", "other", ["b.act", "a.act"], 4), ("out", "output", ["m"], None))
    assert "merges 2 feature tensors" in find_cells(g).unclassified["m"]
    # A product of two feature maps (a gate would be one value per channel).
    g = chain(("x", "input", [], 3), *conv_act("a", "x", 4), *conv_act("b", "x", 4),
              ("m", "mul", ["a.act", "b.act"], 4), ("out", "output", ["m"], None))
    assert find_cells(g).unclassified == {"m": "product of two feature maps"}


@pytest.mark.parametrize("build", [
    # Two branches of equal depth added together: one level of two layers, no long-range link.
    lambda: chain(("x", "input", [], 3), ("a", "conv", ["x"], 4), ("b", "conv", ["x"], 4),
                  ("s", "add", ["a", "b"], 4), ("out", "output", ["s"], None)),
    # A residual around a single layer skips no layer: a short link, not a long-range one.
    lambda: chain(("x", "input", [], 3), *conv_act("c0", "x", 4), ("c1", "conv", ["c0.act"], 4),
                  ("s", "add", ["c1", "c0.act"], 4), ("out", "output", ["s"], None)),
])
def test_merges_with_no_long_range_link_have_no_cell(build):
    found = find_cells(build())
    assert found.cells == [] and found.unclassified == {}


def test_graph_refuses_a_read_before_its_definition():
    with pytest.raises(ValueError, match="reads 'later' before it is defined"):
        LayerGraph([Node("x", "input", channels=3), Node("y", "conv", inputs=["later"], channels=4)])


# ---- cells whose nodes add several branches (NAS-Bench-201) -------------------------------

def nb201_cell(edge_1_0, edge_2_0, edge_2_1, edge_3_0, edge_3_1, edge_3_2, c=16):
    """One NB201 cell as its trace reads it: node k = the sum of op(node j) over j < k, a conv
    edge being ReLU -> conv -> BN, `none` a product with zero, `skip` the identity, `pool`
    a 3x3 average pooling at stride 1. Sums come in pairs, as Python's sum() makes them."""
    nodes = [("x", "input", [], c)]
    value = {0: "x"}

    def edge(name, op, src):
        if op == "conv":
            nodes.extend([(f"{name}.relu", "act", [src], c), (f"{name}.conv", "conv", [f"{name}.relu"], c),
                          (f"{name}.bn", "bn", [f"{name}.conv"], c)])
            return f"{name}.bn"
        if op == "none":
            nodes.append((f"{name}.zero", "zero", [src], c))
            return f"{name}.zero"
        if op == "pool":
            nodes.append((f"{name}.pool", "pool", [src], c))
            return f"{name}.pool"
        return src  # skip

    for k, ops in ((1, {0: edge_1_0}), (2, {0: edge_2_0, 1: edge_2_1}), (3, {0: edge_3_0, 1: edge_3_1, 2: edge_3_2})):
        terms = [edge(f"e{k}{j}", op, value[j]) for j, op in ops.items()]
        total = terms[0]
        for i, t in enumerate(terms[1:]):
            nodes.append((f"n{k}.add{i}", "add", [total, t], c))
            total = f"n{k}.add{i}"
        value[k] = total
    nodes.append(("out", "output", [value[3]], None))
    return chain(*nodes)


def test_worked_example_of_an_nb201_cell():
    # |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|
    # Layers (convs): c10 (depth 1), c21 (2), c32 (3), one per level, widths 16: nodes
    # (16, 16, 16, 16). possible = W0 (into level 2) + W0 + W1 (into level 3) = 48.
    # Node 3 = x + pool(node 1) + c32: the sum lands x on c32 (levels 0 -> 3) and the pooled
    # node 1 on c32 (1 -> 3): two long-range links of 16 channels; the none edge carries
    # nothing. actual = 32, density 2/3; additions, so the volume is the layers' input
    # channels, W0 + W1 + W2 = 48: m = 48 * 32 / 48 = 32.
    g = nb201_cell("conv", "none", "conv", "skip", "pool", "conv")
    (cell,) = find_cells(g).cells
    assert (cell.kind, cell.widths, cell.actual, cell.possible, cell.volume) == ("add", (16, 16, 16, 16), 32, 48, 48)
    assert cell.mass == 32.0
    # Option: a link through pooling alone is no link. Then only x -> c32: 48 * 16 / 48.
    (cell,) = find_cells(g, pool_links=False).cells
    assert (cell.actual, cell.mass) == (16, 16.0)


def test_nb201_none_edges_carry_nothing():
    # A chain of three convs with `none` on every other edge has no skip: no cell (the
    # product with zero is not an identity).
    found = find_cells(nb201_cell("conv", "none", "conv", "none", "none", "conv"))
    assert found.cells == [] and found.unclassified == {}
    # A node whose every input is none carries nothing, nor does a layer reading it.
    found = find_cells(nb201_cell("none", "none", "conv", "skip", "none", "conv"))
    assert found.cells == [] and found.unclassified == {}


def test_a_weighted_edge_that_skips_layers_is_a_branch_link():
    # The densest cell, every edge a 3x3 conv: main path c10 -> c21 -> c32; c20, c30 and c31
    # are branches that skip layers: links x -> level 2, x -> level 3 and c10 -> level 3, of
    # 16 channels each (min of source and branch widths). actual 48 = possible 48: density 1,
    # m = 48 * 1. With shortcuts="identity" links through layers do not count: no cell.
    g = nb201_cell("conv", "conv", "conv", "conv", "conv", "conv")
    (cell,) = find_cells(g).cells
    assert (cell.widths, cell.actual, cell.possible, cell.mass) == ((16, 16, 16, 16), 48, 48, 48.0)
    assert find_cells(g, shortcuts="identity").cells == []


def test_parallel_layers_of_equal_depth_form_one_node():
    # 0 -> 1 -> 3 and 0 -> 2 -> 3, all convs, plus a skip 0 -> 3: levels x (16), {c10, c20}
    # (32), {c31, c32} (32). The skip lands on level 2: actual 16, possible W0 = 16; volume
    # W0 + W1 = 48, m = 48. Counted per layer (parallel="layer"), each of the two layers of
    # level 2 may take all 16 channels of x (possible 32) and the sum lands the skip on both
    # (actual 32): density 1 again, m = 48.
    g = nb201_cell("conv", "conv", "none", "skip", "conv", "conv")
    (cell,) = find_cells(g).cells
    assert (cell.widths, cell.actual, cell.possible, cell.volume, cell.mass) == ((16, 32, 32), 16, 16, 48, 48.0)
    (per_layer,) = find_cells(g, parallel="layer").cells
    assert (per_layer.actual, per_layer.possible, per_layer.mass) == (32, 32, 48.0)
