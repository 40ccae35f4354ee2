"""NN-Mass of NAS-Bench-301 networks: every merge classified, and one network's mass
computed by hand."""
import numpy as np
import pytest
import torch

from nnmass.mass import measure
from nnmass.spaces.darts import SPACE
from nnmass.spaces.samples import load_naslib_sample
from nnmass.models.space_networks import build_in_space

# Normal cell: node 2 = skip(s0) + dil_conv_3x3(s1); nodes 3-5 = skip(s0) + skip(node 2).
# Reduction cell: node 2 = max_pool(s0) + dil_conv_3x3(s1); nodes 3-5 = skip(node 2) + max_pool(s1).
WORKED = ("Genotype(normal=[('skip_connect', 0), ('dil_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 2), "
          "('skip_connect', 0), ('skip_connect', 2), ('skip_connect', 0), ('skip_connect', 2)], "
          "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('dil_conv_3x3', 1), ('skip_connect', 2), "
          "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2), "
          "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")


def test_sample_networks_have_every_merge_classified():
    rows = load_naslib_sample("nb301")
    picks = np.random.default_rng(301).choice(len(rows), 3, replace=False)
    x = torch.zeros(1, 3, 32, 32)
    for i in picks:
        model = build_in_space(SPACE, SPACE.parse(rows[int(i)]["arch"])).eval()
        report = measure(model, x, allow_unclassified=False)
        assert report.unclassified == [] and report.nn_mass > 0
        assert report.params == round(rows[int(i)]["naslib_params"] * 1e6)


def test_worked_example_by_hand():
    # --set C=2 --set layers=3: stem conv (3 -> 6), a normal cell at C=2, reduction cells
    # at C=4 and C=8 (layers // 3 = 1, 2 * layers // 3 = 2), classifier on 4 * 8 = 32.
    #
    # Depth (layers on the longest path from the input; a sum and an identity add none,
    # a conv and a resampling pool one each) and the main path, level by level:
    #   1 stem conv                                              W = 6
    #   2 cell 0 preprocess1 (1x1, 6 -> 2)                       W = 2
    #   3 cell 0 dil_conv of node 2 (depthwise+pointwise: one layer)  W = 2
    #   4 cell 1 preprocess1 (1x1 on cell 0's 4 * 2 = 8 channels -> 4)  W = 4
    #   5 cell 1 dil_conv of node 2 and the three max_pools of s1 (stride 2): 4 * 4 = 16
    #   6 cell 2 preprocess1 (1x1 on 16 channels -> 8)           W = 8
    #   7 cell 2 dil_conv and three max_pools                    W = 4 * 8 = 32
    #   8 the classifier: no link reaches it two levels up, so it is no part of the cell.
    # The preprocess0 projections are off the main path (their paths are shorter): each is
    # a link from where it starts of at most its own width.
    W = [6, 2, 2, 4, 16, 8, 32]
    #
    # Long-range links (two or more levels), in channels:
    #   cell 0, node 2 adds preprocess0(stem) to the dil_conv (level 1 -> 3):        2
    #   cell 0, nodes 3-5 hold that same projection (added to node 2) and the concatenation
    #     delivers it to cell 1's preprocess1 (level 1 -> 4); once per source channel:  2
    #   cell 1, node 2 adds max_pool(preprocess0(stem)), 4 channels, to its dil_conv (1 -> 5): 4
    #   cell 2, node 2 adds max_pool(FactorizedReduce(cell 0's output)) to its dil_conv
    #     (level 7): cell 0's output holds its dil_conv (level 3, 2 channels) and the stem's
    #     projection (level 1, 2 channels), both within the reduction's 4-channel halves:  2 + 2
    actual = 2 + 2 + 4 + (2 + 2)
    # Possible links into node i from nodes j <= i - 2 (Eq. 1):
    possible = sum(sum(W[:i - 1]) for i in range(2, len(W)))
    assert possible == 6 + (6 + 2) + (6 + 2 + 2) + (6 + 2 + 2 + 4) + (6 + 2 + 2 + 4 + 16) == 68
    # Links by addition and by concatenation in one cell: the volume is all its neurons
    # (Eq. 2's w * d), m = volume * density.
    volume = sum(W)
    assert volume == 70
    mass = volume * actual / possible  # 70 * 12 / 68 = 12.3529...

    model = build_in_space(SPACE, SPACE.parse(WORKED), "cifar10", {"C": "2", "layers": "3"}).eval()
    x = torch.zeros(1, 3, 32, 32)
    report = measure(model, x)
    assert [(c.kind, c.widths, c.actual) for c in report.cells] == [("mixed", tuple(W), actual)]
    assert report.nn_mass == pytest.approx(mass) == pytest.approx(210 / 17)
    traced = measure(model, x, method="record")
    assert [(c.kind, c.widths, c.actual) for c in traced.cells] == [("mixed", tuple(W), actual)]
