"""Prop. 2 simulation (Fig. 1(b)) and the `nnmass bounds` command."""
import json
import math
import subprocess
import sys

import pytest

from nnmass.bounds import jacobian_rows, simulate_bounds
from nnmass.cli import main


def test_simulated_means_lie_within_prop2_bounds():
    masses = [0, 3, 16, 64, 200]
    rows = simulate_bounds(16, masses, trials=40, seed=1)
    assert [r["mass"] for r in rows] == masses
    for r in rows:
        m = r["mass"]
        assert r["lower"] == pytest.approx(math.sqrt(16 + m / 2) - 4)  # sqrt(q(w+m/2)) - sqrt(qw), q=1
        assert r["upper"] == pytest.approx(math.sqrt(16 + m / 2) + 4)
        assert r["lower"] < r["mean"] < r["upper"]
    means = [r["mean"] for r in rows]
    assert means == sorted(means)  # more mass, larger Jacobians, larger singular values (Fig. 1b)


def test_rows_are_w_plus_half_mass_rounded_half_up():
    assert jacobian_rows(16, 0) == 16
    assert jacobian_rows(16, 3) == 18  # 17.5 -> 18
    assert jacobian_rows(16, 2.9) == 17  # 17.45 -> 17
    assert [r["rows"] for r in simulate_bounds(4, [1, 5], trials=1)] == [5, 7]  # 4.5 -> 5, 6.5 -> 7


def test_square_gaussian_mean_follows_the_quarter_circle_law():
    # Singular values of an n x n N(0,1) matrix, divided by sqrt(n), follow the quarter-circle
    # density sqrt(4 - x^2)/pi on [0, 2]; its mean is (1/pi) * 8/3.
    (row,) = simulate_bounds(64, [0], trials=30, seed=2)
    assert row["mean"] / 8 == pytest.approx(8 / (3 * math.pi), abs=0.01)


def test_tall_gaussian_singular_values_concentrate_at_sqrt_rows():
    # For n >> w every singular value of an n x w N(0,q) matrix is close to sqrt(q n).
    (row,) = simulate_bounds(4, [2000], trials=20, q=2.0, seed=3)
    assert row["rows"] == 1004
    assert row["mean"] == pytest.approx(math.sqrt(2.0 * 1004), rel=0.02)


def test_q_scales_everything_by_sqrt_q_and_the_seed_fixes_the_draws():
    one = simulate_bounds(8, [10, 40], trials=10, q=1.0, seed=5)
    four = simulate_bounds(8, [10, 40], trials=10, q=4.0, seed=5)
    for a, b in zip(one, four):
        for key in ("mean", "std", "lower", "upper"):
            assert b[key] == pytest.approx(2 * a[key], rel=1e-12)
    assert simulate_bounds(8, [10], trials=10, seed=5)[0]["mean"] == one[0]["mean"]
    assert simulate_bounds(8, [10], trials=10, seed=6)[0]["mean"] != one[0]["mean"]


def test_bounds_module_does_not_import_torch():
    code = "import sys, nnmass.bounds; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_cli_bounds_json_and_plot(tmp_path, capsys):
    fig = tmp_path / "fig1b.png"
    assert main(["bounds", "--width", "16", "--mass", "0,32,128", "--trials", "20", "--json",
                 "--plot", str(fig)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["mass"] for r in rows] == [0, 32, 128]
    for r in rows:
        assert {"mass", "mean", "lower", "upper"} <= set(r)
        assert r["lower"] == pytest.approx(math.sqrt(16 + r["mass"] / 2) - 4)
        assert r["lower"] < r["mean"] < r["upper"]
    assert fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bounds_table(capsys):
    assert main(["bounds", "--width", "4", "--mass", "2,8", "--trials", "5"]) == 0
    out = capsys.readouterr().out
    assert out.split("\n")[0].split() == ["mass", "rows", "lower", "mean", "upper", "std"]
    assert [line.split()[:2] for line in out.split("\n")[2:4]] == [["2", "5"], ["8", "8"]]


@pytest.mark.parametrize("argv, needle", [
    (["--width", "0"], "width"),
    (["--mass", "1,-3"], "mass"),
    (["--mass", "x"], "mass"),
    (["--trials", "0"], "trials"),
    (["--q", "0"], "q"),
    (["--q", "nan"], "q"),
])
def test_cli_bounds_bad_input_exits_2_with_one_line(capsys, argv, needle):
    code = main(["bounds", *argv])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("nnmass: error:") and err.count("\n") == 1 and needle in err
