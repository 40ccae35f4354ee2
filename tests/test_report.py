"""Report, figures and the `nnmass fit` / `nnmass report` commands on a small synthetic store."""
import json

import numpy as np
import pytest

from nnmass.cli import main
from nnmass.plots.fig4 import match_groups
from nnmass.report import write_report
from nnmass.store import ResultStore, row_json

DEPTHS, TCS, SEEDS = (4, 6, 8), (1, 3, 6, 12), (0, 1)


def _mass(depth, tc, width=4):
    # Eq. 1-2 worked by hand: t_i = min(w (i-1), tc) for i = 2..d-1, m = w d rho.
    t = sum(min(width * (i - 1), tc) for i in range(2, depth))
    return width * depth * 2 * t / (width * (depth - 1) * (depth - 2))


@pytest.fixture()
def store_path(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "trials.sqlite"
    with ResultStore(path) as store:
        for depth in DEPTHS:
            for tc in TCS:
                for seed in SEEDS:
                    m = _mass(depth, tc)
                    acc = 0.6 + 0.05 * np.log(m) + rng.normal(0, 0.01)
                    history = [{"epoch": e, "train_loss": 1.0 / e, "train_acc": acc * e / 3,
                                "test_loss": 1.0 / e, "test_acc": acc * e / 3} for e in (1, 2, 3)]
                    store.put({"key": f"{depth}-{tc}-{seed}", "sweep": "s", "status": "done", "family": "dense-mlp",
                               "dataset": "mnist-5k", "seed": seed,
                               "spec_json": row_json({"family": "dense-mlp", "width": 4, "depth": depth, "tc": tc,
                                                      "seed": seed, "skips": [[seed]]}),
                               "nn_mass": m, "params": 3000 + 20 * depth * 4 + 4 * tc, "macs": 3000 + 80 * depth,
                               "ldi_mean": 1 + 0.1 * np.log(m) + rng.normal(0, 0.01), "ldi_std": 0.1,
                               "test_acc": acc, "train_acc": acc, "history_json": row_json(history),
                               "depth": depth, "width": 4})
        store.put({"key": "broken", "sweep": "s", "status": "failed", "family": "dense-mlp",
                   "dataset": "mnist-5k", "seed": 0, "error": "RuntimeError: out of memory"})
    return path


def _independent_r2(path, target, predictor):
    """Mean over seeds per (depth, tc), then 1 - SS_res/SS_tot of the line on log(predictor)."""
    with ResultStore(path) as s:
        rows = s.trials(status="done")
    groups = {}
    for r in rows:
        groups.setdefault((r["depth"], json.loads(r["spec_json"])["tc"]), []).append(r)
    x = np.log([g[0][predictor] for g in groups.values()])
    y = np.array([np.mean([r[target] for r in g]) for g in groups.values()])
    slope, intercept = np.polyfit(x, y, 1)
    return 1 - np.sum((y - slope * x - intercept) ** 2) / np.sum((y - y.mean()) ** 2)


def test_write_report_files_and_table(store_path, tmp_path):
    out = tmp_path / "rep"
    path = write_report(str(store_path), out, "test report", n_boot=50, seed=0, command="nnmass report X")
    assert path == out / "report.md"
    for name in ("report.md", "report.html", "fig3.png", "fig4.png", "fits.json"):
        assert (out / name).stat().st_size > 0, name
    md, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    for target in ("test_acc", "ldi_mean"):
        for predictor in ("nn_mass", "params"):
            r2 = f"{_independent_r2(store_path, target, predictor):.3f}"
            assert r2 in md and r2 in page, (target, predictor, r2)
    assert "0.85" in md and "0.19" in md  # the paper's MNIST numbers beside ours
    assert "24 done, 0 diverged, 1 failed" in md and "out of memory" in md
    assert "fig3.png" in page and "nnmass report X" in page



def test_a_report_of_too_few_architectures_says_so_instead_of_a_table_of_nan(store_path, tmp_path):
    with ResultStore(store_path) as store:
        rows = [r for r in store.trials() if r["status"] == "done" and r["depth"] == 4 and r["seed"] == 0][:2]
    path = write_report(rows, tmp_path / "rep", "two", n_boot=10, command="x")
    md = path.read_text()
    assert "No fit: a line needs at least 3 architectures" in md and "this store has 2." in md
    assert "| test_acc |" not in md and "2 trials: 2 done" in md

def test_fit_cli_json(store_path, capsys):
    assert main(["fit", str(store_path), "--json", "--bootstrap", "30"]) == 0
    rows = json.loads(capsys.readouterr().out)
    keys = {"target", "predictor", "n", "slope", "intercept", "r2", "r2_lo", "r2_hi", "pearson", "spearman",
            "kendall", "pearson_lo", "pearson_hi", "spearman_lo", "spearman_hi", "kendall_lo", "kendall_hi"}
    assert len(rows) == 6 and all(keys <= set(r) for r in rows)
    row = next(r for r in rows if r["target"] == "test_acc" and r["predictor"] == "nn_mass")
    assert row["r2"] == pytest.approx(_independent_r2(store_path, "test_acc", "nn_mass"))
    assert row["n"] == len(DEPTHS) * len(TCS)


def test_report_cli(store_path, tmp_path, capsys):
    assert main(["report", str(store_path), "--out", str(tmp_path / "o"), "--format", "html",
                 "--bootstrap", "10"]) == 0
    assert (tmp_path / "o" / "report.html").is_file() and not (tmp_path / "o" / "report.md").exists()
    assert "report.html" in capsys.readouterr().out


@pytest.mark.parametrize("make", ["missing", "empty"])
def test_fit_and_report_reject_bad_store(tmp_path, capsys, make):
    path = tmp_path / "s.sqlite"
    if make == "empty":
        ResultStore(path).close()
    for argv in (["fit", str(path)], ["report", str(path), "--out", str(tmp_path / "o")]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("nnmass: error:") and str(path) in err[0]


def test_fig4_matches_equal_mass_different_depth(store_path):
    with ResultStore(store_path) as s:
        rows = s.trials()
    groups = match_groups(rows, tol=0.05)
    masses = {(d, tc): _mass(d, tc) for d in DEPTHS for tc in TCS}
    assert groups
    for group in groups:
        assert len({a["depth"] for a in group}) == len(group) >= 2
        ms = [a["nn_mass"] for a in group]
        assert max(ms) - min(ms) <= 0.05 * max(ms)
    # Every architecture pair the rule should join (same width, masses within 5%) exists here:
    close = [(a, b) for a in masses for b in masses
             if a[0] < b[0] and abs(masses[a] - masses[b]) <= 0.05 * masses[a]]
    assert bool(close) == bool(groups)


def test_cnn_report_draws_fig5_with_paper_numbers(store_path, tmp_path):
    with ResultStore(store_path) as s:
        rows = [dict(r, family="dense-cnn", dataset="cifar10") for r in s.trials()]
    out = tmp_path / "cnn"
    write_report(rows, out, "cnn", n_boot=10, command="x")
    assert (out / "fig5.png").stat().st_size > 0 and not (out / "fig3.png").exists()
    md = (out / "report.md").read_text()
    assert "| 0.84 |" in md and "| 0.76 |" in md
