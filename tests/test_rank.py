"""``nnmass rank`` and its library: the table, the rank statistics against scipy, and the
command line. The score store and resuming are in ``test_rank_store.py``."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sp

from table_files import A, B, C, D, write_csv
from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.proxies.proxy_names import PROXY_NAMES, parse_proxy_names
from nnmass.rank.scoring import ScoreSetting
from nnmass.rank.statistics import rank_row
from nnmass.rank.store import ScoreStore
from nnmass.rank.table import read_table, subsample

ROOT = Path(__file__).resolve().parents[1]


# ---- names, table ---------------------------------------------------------------------

def test_torch_free_names_equal_the_registry():
    from nnmass import proxies
    assert list(PROXY_NAMES) == proxies.names()
    assert parse_proxy_names("snip, all") == ("snip",) + tuple(n for n in PROXY_NAMES if n != "snip")
    for bad, match in (("snip,nope", "unknown proxy 'nope'"), ("snip,,", "empty proxy name"), ([3], "unknown")):
        with pytest.raises(UsageError, match=match):
            parse_proxy_names(bad)


def test_rank_modules_and_grid_proxies_load_without_torch():
    code = ("import sys\n"
            "import nnmass.rank, nnmass.proxies.proxy_names, nnmass.rank.statistics, nnmass.rank.store\n"
            "from nnmass.sweep.grid import grid_from_dict\n"
            "grid_from_dict({'model': 'dense-mlp', 'dataset': 'digits', 'epochs': 1, 'proxies': ['snip']}).trials()\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_table_reads_canonical_archs_filters_a_dataset_and_checks_every_value(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["cifar10", f" {A} ", "91.5"], ["cifar100", B, "70"], ["cifar10", B, "80"]],
                     ("dataset", "arch", "acc"))
    table = read_table(path, "arch", "acc", space="nb201", dataset="cifar10", canonical=False)
    assert table.networks == [A, B] and table.target.tolist() == [91.5, 80.0] and table.dataset == "cifar10"
    # By default each architecture is stored under its canonical network (dead edges dropped).
    from nnmass.spaces import get_space
    nb201 = get_space("nb201")
    canonical = read_table(path, "arch", "acc", space="nb201", dataset="cifar10").networks
    assert canonical == [nb201.canonical_key(nb201.parse(a)) for a in (A, B)]
    problems = {
        "mixes datasets cifar10, cifar100: choose one with --dataset": dict(),
        "no rows of dataset 'svhn'": dict(dataset="svhn"),
    }
    for match, kw in problems.items():
        with pytest.raises(UsageError, match=match):
            read_table(path, "arch", "acc", space="nb201", **kw)
    with pytest.raises(UsageError, match="no column 'accuracy' \\(--target\\); its columns: dataset, arch, acc"):
        read_table(path, "arch", "accuracy", dataset="cifar10")
    bad = write_csv(tmp_path / "b.csv", [[A, "91"], [B, "n/a"]])
    with pytest.raises(UsageError, match="line 3, column 'acc' must be a number, got 'n/a'"):
        read_table(bad, "arch", "acc", space="nb201")
    arch = write_csv(tmp_path / "c.csv", [[A, "91"], ["|conv~0|", "80"]])
    with pytest.raises(UsageError, match="line 3, column 'arch': bad NB201 arch"):
        read_table(arch, "arch", "acc", space="nb201")
    short = tmp_path / "d.csv"
    short.write_text(f"arch,acc\n{A},1,extra\n")
    with pytest.raises(UsageError, match="line 2: 2 columns expected"):
        read_table(short, "arch", "acc", space="nb201")
    with pytest.raises(UsageError, match="cannot read table"):
        read_table(tmp_path / "missing.csv", "arch", "acc")


def test_transnas_tables_name_the_dataset_in_a_task_column(tmp_path):
    """The shipped TransNAS-Bench-101 tables hold every task in a ``task`` column:
    --dataset keeps that task's rows, and without it the mixed table is refused (its
    repeats across tasks must never be averaged)."""
    from nnmass.spaces.samples import load_naslib_sample
    path = Path(__file__).resolve().parents[1] / "nnmass" / "spaces" / "data" / "tnb_micro_naslib.csv"
    jigsaw = read_table(path, "arch", "val_accuracy", space="tnb-micro", dataset="jigsaw", canonical=False)
    expected = load_naslib_sample("tnb-micro", "jigsaw")
    assert len(jigsaw.networks) == len(expected) == 711 and jigsaw.dataset == "jigsaw"
    assert jigsaw.target.tolist() == [r["val_accuracy"] for r in expected]
    with pytest.raises(UsageError, match="mixes datasets class_scene, class_object"):
        read_table(path, "arch", "val_accuracy", space="tnb-micro")
    # Outside TransNAS-Bench-101 a 'task' column is just a column.
    nb201 = write_csv(tmp_path / "t.csv", [["a", A, "91.5"], ["b", B, "80"]], ("task", "arch", "acc"))
    assert read_table(nb201, "arch", "acc", space="nb201", canonical=False).networks == [A, B]


def test_limit_keeps_a_seeded_superset_in_table_order():
    small, large = subsample(50, 10, seed=3), subsample(50, 20, seed=3)
    assert small == sorted(small) and set(small) <= set(large) and len(large) == 20
    assert subsample(5, 10) == [0, 1, 2, 3, 4] and subsample(50, 10, seed=4) != small


# ---- statistics ---------------------------------------------------------------------------

def test_rank_statistics_equal_scipy_and_hand_counts():
    rng = np.random.default_rng(0)
    target = rng.normal(size=60)
    params = np.exp(rng.normal(size=60))
    score = target + 0.8 * np.log(params) + rng.normal(size=60)
    score[[3, 7]] = np.nan  # undefined scores leave the statistics
    row = rank_row("p", score, target, params, seconds=np.full(60, 0.5), n_boot=200, seed=1)
    keep = np.isfinite(score)
    assert row["n"] == 58 and row["undefined"] == 2 and row["distinct"] == 58 and row["seconds_per_arch"] == 0.5
    assert row["spearman"] == pytest.approx(sp.spearmanr(score[keep], target[keep]).statistic, abs=1e-12)
    assert row["kendall"] == pytest.approx(sp.kendalltau(score[keep], target[keep]).statistic, abs=1e-12)
    # Partial Spearman: Pearson of the rank residuals after regressing out the ranks of log params.
    r = [sp.rankdata(v) for v in (score[keep], target[keep], np.log(params[keep]))]
    res = [v - np.polyval(np.polyfit(r[2], v, 1), r[2]) for v in r[:2]]
    assert row["partial_spearman"] == pytest.approx(np.corrcoef(*res)[0, 1], abs=1e-10)
    k = math.ceil(0.1 * 58)
    top = len(set(np.argsort(-score[keep])[:k]) & set(np.argsort(-target[keep])[:k])) / k
    assert row["top10"] == top
    for stat in ("spearman", "kendall", "partial_spearman"):
        assert row[f"{stat}_lo"] < row[stat] < row[f"{stat}_hi"]


def test_a_constant_or_undefined_proxy_has_nan_statistics():
    target = np.arange(10.0)
    const = rank_row("c", np.ones(10), target, np.ones(10) * 5)
    assert math.isnan(const["spearman"]) and const["distinct"] == 1 and math.isnan(const["spearman_lo"])
    empty = rank_row("e", np.full(10, np.nan), target, np.ones(10))
    assert empty["n"] == 0 and empty["undefined"] == 10 and math.isnan(empty["top10"])


# ---- the command line ---------------------------------------------------------------------

def test_rank_cli_json_rows_figure_and_workers(tmp_path, capsys):
    table = write_csv(tmp_path / "t.csv", [[a, str(acc)] for a, acc in zip((A, B, C, D), (91, 60, 75, 88))])
    store, plot = tmp_path / "s.sqlite", tmp_path / "fig.png"
    assert main(["rank", str(table), "--arch-column", "arch", "--target", "acc", "--space", "nb201",
                 "--proxies", "synflow,params,nwot", "--batch", "2", "--store", str(store), "--json",
                 "--no-progress", "--bootstrap", "50", "--plot", str(plot), "--workers", "2",
                 "--dataset", "ImageNet16-120"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["proxy"] for r in rows] == ["synflow", "params", "nwot"]
    for r in rows:
        assert {"proxy", "n", "spearman", "kendall", "top10", "partial_spearman", "spearman_lo", "spearman_hi",
                "distinct", "seconds_per_arch", "undefined"} <= set(r)
        assert r["n"] + r["undefined"] == 4
    assert plot.stat().st_size > 10_000
    # The same command in one process reads every score back from the store.
    assert main(["rank", str(table), "--arch-column", "arch", "--target", "acc", "--space", "nb201",
                 "--proxies", "synflow,params,nwot", "--batch", "2", "--store", str(store), "--no-progress",
                 "--bootstrap", "50", "--dataset", "ImageNet16-120"]) == 0
    text = capsys.readouterr().out
    assert "0 scored now, 4 already in" in text and '"input_shape":[3,16,16]' in text


def test_rank_cli_scores_model_strings(tmp_path, capsys):
    rows = [["dense-mlp", "0.5"], ["dense-cnn", "0.7"], ["resnet18", "0.9"]]
    table = write_csv(tmp_path / "m.csv", rows, ("model", "top1"))
    assert main(["rank", str(table), "--arch-column", "model", "--target", "top1", "--proxies", "params,macs",
                 "--store", str(tmp_path / "s.sqlite"), "--json", "--no-progress", "--bootstrap", "0"]) == 0
    (params, macs) = json.loads(capsys.readouterr().out)
    assert params["n"] == 3 and params["spearman"] == pytest.approx(1.0)


@pytest.mark.parametrize("argv, match", [
    (["--proxies", "snip,bogus"], "unknown proxy 'bogus'"),
    (["--target", "nope"], "no column 'nope'"),
    (["--batch", "1"], "--batch 1 is too small for jacob_cov, nwot, zico"),
    (["--inputs", "imagenet16"], "--inputs must be gaussian or a dataset"),
    (["--dataset", "svhn"], "nb201 dataset 'svhn' is not one of cifar10, cifar100, ImageNet16-120"),
    (["--plot", "/nonexistent/dir/f.png"], "folder '/nonexistent/dir' does not exist"),
])
def test_rank_cli_refuses_bad_input_in_one_line(tmp_path, argv, match):
    table = write_csv(tmp_path / "t.csv", [[A, "1"], [B, "2"], [C, "3"]])
    args = ["rank", str(table), "--arch-column", "arch", "--target", "acc", "--space", "nb201", "--store",
            str(tmp_path / "s.sqlite"), "--no-progress"]
    if "--target" in argv:
        args = [a for a in args if a not in ("--target", "acc")]
    out = subprocess.run([sys.executable, "-m", "nnmass", *args, *argv], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and match in out.stderr, out.stderr


def test_a_table_whose_every_network_fails_is_one_line(tmp_path):
    # Module sources are checked when built: both fail there.
    table = write_csv(tmp_path / "t.csv", [["torchvision:no_such_net", "1"], ["torchvision:nor_this", "2"]])
    out = subprocess.run([sys.executable, "-m", "nnmass", "rank", str(table), "--arch-column", "arch", "--target",
                          "acc", "--store", str(tmp_path / "s.sqlite"), "--no-progress", "--proxies", "params"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "every network failed to score" in out.stderr and "Traceback" not in out.stderr


def test_an_unknown_family_in_a_model_table_is_refused_before_scoring(tmp_path, capsys):
    table = write_csv(tmp_path / "t.csv", [["dense-mlp", "1"], ["no_such_family", "2"]])
    code = main(["rank", str(table), "--arch-column", "arch", "--target", "acc", "--store", str(tmp_path / "s.sqlite"),
                 "--no-progress", "--proxies", "params"])
    err = capsys.readouterr().err
    assert code == 2 and "line 3, column 'arch': unknown model 'no_such_family'" in err and err.count("\n") == 1
    assert not (tmp_path / "s.sqlite").exists()
    # --dataset has nothing to keep in a model table without a dataset column: refused, not ignored.
    with pytest.raises(UsageError, match="--dataset keeps the rows of a 'dataset' column, and table .* has none"):
        read_table(table, "arch", "acc", space="model", dataset="cifar10")


def test_rank_on_dataset_inputs_fits_families_to_the_data_as_nnmass_proxies_does(tmp_path, capsys):
    from nnmass.rank.ranking import stored_arrays
    table = write_csv(tmp_path / "m.csv", [["dense-mlp", "0.5"], ["dense-cnn", "0.7"], ["resnet18", "0.6"]],
                      ("model", "top1"))
    store = tmp_path / "s.sqlite"
    assert main(["rank", str(table), "--arch-column", "model", "--target", "top1", "--proxies", "snip,nwot",
                 "--inputs", "digits", "--batch", "4", "--seed", "1", "--store", str(store), "--no-progress",
                 "--bootstrap", "0", "--json"]) == 0
    capsys.readouterr()
    setting = ScoreSetting(space="model", num_classes=None, input_shape=None, inputs="digits", batch=4, seed=1)
    with ScoreStore(store) as s:
        scores, _, errors = stored_arrays(s, setting, ["dense-mlp", "dense-cnn", "resnet18"], ["snip", "nwot"])
    assert "resnet18" in errors and "3-channel" in errors["resnet18"]  # torchvision families take RGB
    for i, model in enumerate(("dense-mlp", "dense-cnn")):
        assert main(["proxies", model, "--inputs", "digits", "--batch", "4", "--seed", "1", "--proxies",
                     "snip,nwot", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)["scores"]
        assert scores["snip"][i] == out["snip"]
        assert (out["nwot"] is None and math.isnan(scores["nwot"][i])) or scores["nwot"][i] == out["nwot"]


def test_conflicting_repeats_are_refused_or_averaged_on_request(tmp_path):
    path = write_csv(tmp_path / "t.csv", [[A, "80"], [B, "70"], [f" {A}", "90"], [A, "91"]])
    with pytest.raises(UsageError, match="twice with different targets: 80 \\(line 2\\) and 90 \\(line 4\\)"):
        read_table(path, "arch", "acc", space="nb201")
    table = read_table(path, "arch", "acc", space="nb201", conflicts="mean", canonical=False)
    assert table.networks == [A, B] and table.duplicates == 2
    assert table.target.tolist() == [pytest.approx((80 + 90 + 91) / 3), 70.0]


def test_rows_computed_in_a_pool_of_processes_are_the_rows_of_one_process():
    from nnmass.parallel.statistics_pool import statistics_pool
    from nnmass.rank.statistics import rank_table
    rng = np.random.Generator(np.random.PCG64(11))
    target, params = rng.normal(size=40), rng.integers(1_000, 90_000, 40).astype(float)
    scores = {"a": rng.normal(size=40), "b": np.round(rng.normal(size=40)), "c": np.full(40, 2.0)}
    scores["b"][3] = np.nan
    seconds = {"a": np.full(40, 0.5)}
    alone = rank_table(scores, target, params, seconds, n_boot=200, seed=4)
    with statistics_pool(2) as pool:
        pooled = rank_table(scores, target, params, seconds, n_boot=200, seed=4, pool=pool)
    assert [r["proxy"] for r in pooled] == ["a", "b", "c"]
    assert json.dumps(pooled) == json.dumps(alone)  # every number, nan included, to the last digit
    # Over many points a multi-threaded BLAS would split lstsq's and dot's sums by its thread count.
    target, params = rng.normal(size=20_000), rng.integers(1_000, 90_000, 20_000).astype(float)
    scores = {"a": rng.normal(size=20_000) + target, "b": rng.normal(size=20_000)}
    alone = rank_table(scores, target, params, n_boot=3, seed=4)
    with statistics_pool(2) as pool:
        pooled = rank_table(scores, target, params, n_boot=3, seed=4, pool=pool)
    assert json.dumps(pooled) == json.dumps(alone)


def test_an_error_in_the_statistics_pools_block_ends_its_processes_and_drops_queued_rows():
    from nnmass.parallel.statistics_pool import statistics_pool
    from nnmass.rank.statistics import rank_row
    rng = np.random.Generator(np.random.PCG64(12))
    x, y, p = rng.normal(size=3000), rng.normal(size=3000), rng.integers(1, 100, 3000).astype(float)
    with pytest.raises(RuntimeError, match="stop"):
        with statistics_pool(2) as pool:
            futures = [pool.submit(rank_row, str(i), x, y, p, n_boot=2000) for i in range(8)]
            processes = list(pool._processes.values())
            raise RuntimeError("stop")
    assert all(not process.is_alive() for process in processes)
    assert futures[-1].cancelled()  # queued behind the running rows: never run
