"""``nnmass rank`` and its library: the table, the score store (resumable, even after
kill -9), the rank statistics against scipy, and the command line."""
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as sp

from table_files import write_csv
from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.proxies.proxy_names import PROXY_NAMES, parse_proxy_names
from nnmass.rank.scoring import ScoreSetting
from nnmass.rank.statistics import rank_row
from nnmass.rank.store import ScoreStore
from nnmass.rank.table import read_table, subsample

ROOT = Path(__file__).resolve().parents[1]
A = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|"
B = "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_3x3~2|"
C = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|"
D = "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|skip_connect~1|nor_conv_1x1~2|"


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


# ---- store and resuming ---------------------------------------------------------------------

def test_store_keeps_scores_writes_nan_as_null_and_retries_errors(tmp_path):
    setting = ScoreSetting.nb201("cifar10", batch=2).key()
    with ScoreStore(tmp_path / "s.sqlite") as store:
        assert store.put(A, setting, {"params": 5.0, "nwot": math.nan}, {"params": 0.1, "nwot": 0.2}) == 2
        assert store.put(A, setting, {"params": 7.0}, {}) == 0  # a stored score is never rewritten
        assert store.put(B, setting, {"params": math.nan}, {}, error="RuntimeError: boom") == 1
        assert store.done(setting) == {A: {"params", "nwot"}}
        assert store.put(B, setting, {"params": 3.0}, {"params": 0.1}) == 1  # an error row is retried
        got = store.scores(setting)
        assert got[A]["params"]["value"] == 5.0 and math.isnan(got[A]["nwot"]["value"])
        assert got[B]["params"] == {"value": 3.0, "seconds": 0.1, "error": None}
        assert store.scores(ScoreSetting.nb201("cifar100", batch=2).key()) == {}
    raw = sqlite3.connect(tmp_path / "s.sqlite")
    assert raw.execute("SELECT value FROM scores WHERE proxy = 'nwot'").fetchone() == (None,)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_stored_arrays_spread_each_networks_scores_to_its_rows(tmp_path):
    """Values and seconds by table row (nan where missing, a stored NULL, or zero seconds),
    each network's first error by storing order, whatever proxy it was stored for; rows
    of other settings and rows altered by hand do not count."""
    from nnmass.rank.ranking import stored_arrays
    setting = ScoreSetting.nb201("cifar10", batch=2)
    key = setting.key()
    with ScoreStore(tmp_path / "s.sqlite") as store:
        store.put(A, key, {"params": 5.0, "nwot": math.nan}, {"params": 0.5, "nwot": 0.0})
        store.put(B, key, {"nwot": 2.0}, {"nwot": 0.25})
        store.put(C, key, {"zen": math.nan}, {}, error="RuntimeError: first")
        store.put(C, key, {"params": math.nan}, {}, error="RuntimeError: second")
        other = ScoreSetting.nb201("cifar100", batch=2).key()
        store.put(D, other, {"params": 9.0}, {"params": 1.0})
        store.put(A, other, {"params": 8.0}, {"params": 1.0})
        store.put(D, key, {"nwot": 4.0}, {"nwot": 1.0})
    raw = sqlite3.connect(tmp_path / "s.sqlite")
    with raw:
        raw.execute("UPDATE scores SET value = 'x' WHERE network = ? AND proxy = 'nwot' AND setting = ?", (D, key))
    raw.close()
    with ScoreStore(tmp_path / "s.sqlite") as store:
        scores, seconds, errors = stored_arrays(store, setting, [A, B, A, C, D], ["params", "nwot"])
        assert store.done(key) == {A: {"params", "nwot"}, B: {"nwot"}}
        assert store.done(key, {B}) == {B: {"nwot"}}
        elsewhere = store.done(other)
        assert elsewhere == {D: {"params"}, A: {"params"}} and elsewhere[A] is elsewhere[D]  # one set, shared
    nan = math.nan
    assert np.array_equal(scores["params"], [5.0, nan, 5.0, nan, nan], equal_nan=True)
    assert np.array_equal(scores["nwot"], [nan, 2.0, nan, nan, nan], equal_nan=True)
    assert np.array_equal(seconds["params"], [0.5, nan, 0.5, nan, nan], equal_nan=True)
    assert np.array_equal(seconds["nwot"], [nan, 0.25, nan, nan, nan], equal_nan=True)
    assert errors == {C: "RuntimeError: first"}


def test_a_file_that_is_not_a_score_store_is_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE trials (key TEXT)")
    before = other.read_bytes()
    with pytest.raises(UsageError, match="is a SQLite database of something else .*not an nnmass score store"):
        ScoreStore(other)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="is not an nnmass score store .not a SQLite database"):
        ScoreStore(junk)
    assert other.read_bytes() == before and junk.read_bytes() == b"not a database at all" * 100


def test_score_and_results_stores_refuse_each_other(tmp_path):
    from nnmass.store import ResultStore
    scores, results = tmp_path / "scores.sqlite", tmp_path / "results.sqlite"
    ScoreStore(scores).close()
    ResultStore(results).close()
    with pytest.raises(UsageError, match="tables: meta, trials.*not an nnmass score store"):
        ScoreStore(results)
    with pytest.raises(UsageError, match="tables: claims, meta, scores.*not an nnmass results store"):
        ResultStore(scores)
    with pytest.raises(UsageError, match="folder"):
        ScoreStore(tmp_path)


@pytest.mark.parametrize("offset", [100, 4096])  # the schema (page 1), then the scores table (page 2)
def test_a_damaged_score_store_is_one_line_and_left_alone(tmp_path, offset):
    store = tmp_path / "scores.sqlite"
    with ScoreStore(store) as s:
        s.put("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "{}", {"params": 1.0}, {})
    data = bytearray(store.read_bytes())
    data[offset:offset + 100] = b"\xff" * 100
    store.write_bytes(bytes(data))
    with pytest.raises(UsageError, match=r"store '.*scores.sqlite' is damaged \(.*\); nnmass cannot use it"):
        ScoreStore(store)
    assert store.read_bytes() == bytes(data)


def _rank_command(table, store, *extra):
    return [sys.executable, "-m", "nnmass", "rank", str(table), "--arch-column", "arch", "--target", "acc",
            "--space", "nb201", "--store", str(store), "--no-progress", *extra]


def test_a_killed_run_resumes_and_computes_no_score_twice(tmp_path):
    archs = [A, B, C, D, A.replace("none~2", "skip_connect~2"), B.replace("none~0", "nor_conv_3x3~0"),
             C.replace("none~1", "nor_conv_3x3~1"), D.replace("none~0", "avg_pool_3x3~0")]
    rows = [[a, str(80 + i)] for i, a in enumerate(archs)]
    table = write_csv(tmp_path / "t.csv", rows + rows[:2])  # repeated rows are counted once
    store = tmp_path / "s.sqlite"
    args = _rank_command(table, store, "--proxies", "params,synflow,zen", "--batch", "2", "--bootstrap", "0")
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if store.exists():
            try:
                with sqlite3.connect(store) as db:
                    if db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]:
                        break
            except sqlite3.OperationalError:  # the tables are not created yet
                pass
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # right after the first network was committed
    proc.wait()
    with sqlite3.connect(store) as db:
        first = db.execute("SELECT network, proxy, finished_at FROM scores").fetchall()
    killed_at = len({n for n, _, _ in first})
    assert 1 <= killed_at < 8 and len(first) == 3 * killed_at  # whole networks only
    out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert f"8 rows, 8 networks: {8 - killed_at} scored now, {killed_at} already in" in out.stdout
    with sqlite3.connect(store) as db:
        after = db.execute("SELECT network, proxy, finished_at FROM scores").fetchall()
    assert len(after) == 8 * 3 == len({(n, p) for n, p, _ in after})  # every score once
    assert set(first) <= set(after)  # the killed run's rows are untouched: nothing was scored twice


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
