"""Closed-form topology (Eq. 1-3, Prop. 1-2) against independent brute-force counts."""
import itertools
import math

import numpy as np
import pytest

from nnmass.topology import (CellTopology, average_degree, basic_cell_mass, bottleneck_cell_mass,
                             dense_density, dense_mass, dense_skip_count, possible_skips, prop2_bounds,
                             total_mass)


def brute_skips(d, w, tc):
    return sum(min(w * (i - 1), tc) for i in range(2, d))


def brute_density(d, w, tc):
    """Eq. 1 straight from its definition (0 for d <= 2: no layer can take skips)."""
    if d <= 2:
        return 0.0
    return 2 * brute_skips(d, w, tc) / (w * (d - 1) * (d - 2))


# Depth 1-3 and width 1 are edge cases; tc 0 gives no skips; tc 10**6 exceeds every
# candidate count (full DenseNet); the rest cross the min(w(i-1), tc) kink.
DEPTHS = (1, 2, 3, 4, 7, 16, 33)
WIDTHS = (1, 2, 3, 8, 17)
TCS = (0, 1, 5, 10, 16, 40, 10 ** 6)
GRID = list(itertools.product(DEPTHS, WIDTHS, TCS))


@pytest.mark.parametrize("d,w,tc", GRID)
def test_eq1_eq2_match_brute_force(d, w, tc):
    assert dense_skip_count(d, w, tc) == brute_skips(d, w, tc)
    assert dense_density(d, w, tc) == pytest.approx(brute_density(d, w, tc), rel=1e-12, abs=0)
    assert dense_mass(d, w, tc) == pytest.approx(w * d * brute_density(d, w, tc), rel=1e-12, abs=0)


def test_paper_fact_width8_depth16_tc10():
    # t_2 = min(8, 10) = 8, t_3..t_15 = 10 (13 layers): 138 links out of 8*15*14/2 = 840.
    assert dense_skip_count(16, 8, 10) == 8 + 13 * 10
    assert round(dense_mass(16, 8, 10), 4) == 21.0286
    assert dense_mass(16, 8, 10) == pytest.approx(8 * 16 * 138 / 840, rel=1e-15)


def test_edge_cases_by_hand():
    assert dense_density(1, 8, 10) == 0.0 and dense_density(2, 8, 10) == 0.0
    assert dense_skip_count(2, 8, 10) == 0
    # depth 3: only layer 2 takes skips, from layer 0: min(w, tc) of w candidates.
    assert dense_density(3, 8, 5) == pytest.approx(5 / 8)
    assert dense_density(5, 4, 0) == 0.0 and dense_mass(5, 4, 0) == 0.0
    # tc beyond all candidates: every layer reads everything, density 1, m = w d.
    assert dense_density(10, 3, 10 ** 9) == pytest.approx(1.0)
    assert dense_mass(10, 3, 10 ** 9) == pytest.approx(30.0)


def test_vectorised_equals_scalar_calls():
    d, w, tc = (np.array(v) for v in zip(*GRID))
    skips, rho, mass = dense_skip_count(d, w, tc), dense_density(d, w, tc), dense_mass(d, w, tc)
    assert skips.shape == rho.shape == mass.shape == (len(GRID),)
    for k, (di, wi, ti) in enumerate(GRID):
        assert skips[k] == dense_skip_count(di, wi, ti)
        assert rho[k] == dense_density(di, wi, ti)
        assert mass[k] == dense_mass(di, wi, ti)
    # Broadcasting: a column of depths against a row of tc values.
    grid = dense_mass(np.array(DEPTHS)[:, None], 8, np.array(TCS)[None, :])
    assert grid.shape == (len(DEPTHS), len(TCS))
    assert grid[5, 3] == pytest.approx(21.0286, abs=5e-5)
    assert isinstance(dense_mass(16, 8, 10), float)


def test_concat_cell_general_rule_reproduces_eq2():
    for d, w, tc in GRID[::7]:
        cell = CellTopology("concat", (w,) * d, brute_skips(d, w, tc))
        assert cell.possible == max(d - 1, 0) * max(d - 2, 0) * w // 2
        assert cell.mass == pytest.approx(dense_mass(d, w, tc), rel=1e-12, abs=0)
        assert cell.depth == d and cell.width == w


def test_prop1_average_degree():
    m = dense_mass(16, 8, 10)
    assert average_degree(8, m) == pytest.approx(8 + (8 * 16 * 138 / 840) / 2, rel=1e-15)
    ks = average_degree(np.array([8, 16]), np.array([0.0, 100.0]))
    np.testing.assert_allclose(ks, [8.0, 66.0])
    cell = CellTopology("concat", (8,) * 16, 138)
    assert cell.average_degree == pytest.approx(8 + cell.mass / 2)


def test_prop2_bounds_by_hand():
    lo, hi = prop2_bounds(8, 21.0286, q=2.0)
    centre, half = math.sqrt(2.0 * (8 + 21.0286 / 2)), math.sqrt(2.0 * 8)
    assert lo == pytest.approx(centre - half, rel=1e-14) and hi == pytest.approx(centre + half, rel=1e-14)
    # m = 0: the bounds are 0 and 2 sqrt(q w).
    assert prop2_bounds(9, 0.0) == pytest.approx((0.0, 6.0))
    lo, hi = prop2_bounds(np.array([8, 8]), np.array([0.0, 40.0]))
    np.testing.assert_allclose(lo, [0.0, math.sqrt(28) - math.sqrt(8)])
    np.testing.assert_allclose(hi, [2 * math.sqrt(8), math.sqrt(28) + math.sqrt(8)])


def brute_possible(widths):
    """A skip may go from node j to node i >= j + 2 and carries node j's channels."""
    n = len(widths)
    return sum(widths[j] for i in range(n) for j in range(n) if i >= j + 2)


@pytest.mark.parametrize("widths", [(), (5,), (5, 7), (5, 7, 9), (3, 3, 3, 3), (64, 384, 384, 64),
                                    (1, 2, 3, 4, 5, 6), (24, 144, 144, 24)])
def test_possible_skips_brute_force(widths):
    assert possible_skips(widths) == brute_possible(widths)


@pytest.mark.parametrize("w1,w2", [(64, 64), (16, 96), (24, 144), (256, 64), (1, 1), (320, 1920)])
def test_residual_cells_follow_general_rule(w1, w2):
    bottleneck = CellTopology("add", (w1, w2, w2, w1), w1)
    assert bottleneck.possible == 2 * w1 + w2
    assert bottleneck.volume == w1 + 2 * w2
    assert bottleneck_cell_mass(w1, w2) == pytest.approx(bottleneck.mass, rel=1e-14)
    assert bottleneck.mass == pytest.approx((w1 + 2 * w2) * w1 / (2 * w1 + w2), rel=1e-14)
    basic = CellTopology("add", (w1, w2, w1), w1)
    assert basic.density == 1.0
    assert basic_cell_mass(w1, w2) == pytest.approx(basic.mass, rel=1e-14)
    np.testing.assert_allclose(bottleneck_cell_mass(np.array([w1, w2]), np.array([w2, w1])),
                               [bottleneck_cell_mass(w1, w2), bottleneck_cell_mass(w2, w1)])


def test_total_mass_and_cell_record():
    cells = [CellTopology("concat", (8,) * 16, 138, "cell0"), CellTopology("add", (24, 144, 144, 24), 24)]
    assert total_mass(cells) == pytest.approx(cells[0].mass + 24 * 312 / 192)
    rec = cells[0].to_dict()
    assert rec["actual_skips"] == 138 and rec["possible_skips"] == 840 and rec["volume"] == 128
    assert rec["density"] == pytest.approx(138 / 840)
    with pytest.raises(ValueError, match="concat"):
        CellTopology("mul", (1, 2, 3), 0)
