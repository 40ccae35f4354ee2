"""Hostile input to ``nnmass rank`` and to grids with proxies: output paths that would
destroy the score store, altered stores, tables that would give a silently wrong
ranking, limits, dying workers, Ctrl-C and two runs on one store.

Each refusal checks the exit code, one line with no traceback, and that no byte of
the store, the table or an earlier output changed; each wrong-score case checks the
value against one computed here.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scipy import stats as sp

from hostile_helpers import noted, refused, snapshot
from table_files import write_csv
from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.proxies.proxy_names import MIN_BATCH
from nnmass.rank.store import ScoreStore, run_id
from nnmass.sweep.grid import grid_from_dict

ROOT = Path(__file__).resolve().parents[1]
A = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|"
B = "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_3x3~2|"
C = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|"
D = "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|skip_connect~1|nor_conv_1x1~2|"
EIGHT = [A, B, C, D, A.replace("none~2", "skip_connect~2"), B.replace("none~0", "nor_conv_3x3~0"),
         C.replace("none~1", "nor_conv_3x3~1"), D.replace("none~0", "avg_pool_3x3~0")]

# A factory file: an MLP of hidden width W has 8W + W + 3W + 3 = 12W + 3 parameters.
MODELS = """import os
import torch.nn as nn
INPUT_SHAPE = (1, 8)
def net():
    return nn.Sequential(nn.Linear(8, {w}), nn.ReLU(), nn.Linear({w}, 3))
def small():
    return nn.Sequential(nn.Linear(8, 2), nn.ReLU(), nn.Linear(2, 3))
def wide():
    return nn.Sequential(nn.Linear(8, 20), nn.ReLU(), nn.Linear(20, 3))
def boom():
    os._exit(1)
"""


def mlp_params(width: int) -> int:
    return 12 * width + 3


def nb201_params(arch: str) -> int:
    from nnmass.models.nb201 import build_nb201
    return sum(p.numel() for p in build_nb201(arch).parameters())


def rank_args(table, store, *extra, space="nb201"):
    return ["rank", str(table), "--arch-column", "arch", "--target", "acc", "--space", space, "--store",
            str(store), "--no-progress", "--bootstrap", "0", *extra]


def stored_values(store, proxy="params") -> dict:
    with sqlite3.connect(store) as db:
        return dict(db.execute("SELECT network, value FROM scores WHERE proxy = ?", (proxy,)).fetchall())


@pytest.fixture
def scored(tmp_path, capsys):
    """A table of A, B, C and a store holding their params scores (and their bytes)."""
    table = write_csv(tmp_path / "t.csv", [[A, "91"], [B, "60"], [C, "75"]])
    store = tmp_path / "s.sqlite"
    assert main(rank_args(table, store, "--proxies", "params", "--json")) == 0
    capsys.readouterr()
    return table, store


# ---- outputs that would destroy inputs -------------------------------------------------------

@pytest.mark.parametrize("plot, needle", [
    ("{store}", "it is the score store or the table"),
    ("{store}-wal", "it is the score store or the table"),
    ("{table}", "it is the score store or the table"),
    ("{dir}/f.txt", "use a .png, .pdf, .svg, .jpg, .jpeg file name"),
    ("{dir}/f.sqlite", "use a .png"),
    ("{dir}/f.csv", "use a .png"),
])
def test_a_figure_over_the_store_table_or_of_an_unknown_type_is_refused(scored, tmp_path, capsys, plot, needle):
    table, store = scored
    plot = plot.format(store=store, table=table, dir=tmp_path)
    before = snapshot(table, store, f"{store}-wal", plot)
    refused(capsys, rank_args(table, store, "--proxies", "params", "--plot", plot), needle)
    assert snapshot(table, store, f"{store}-wal", plot) == before


def test_a_figure_named_png_that_is_the_store_is_refused_before_any_work(tmp_path, capsys):
    table = write_csv(tmp_path / "t.csv", [[A, "91"], [B, "60"]])
    same = tmp_path / "same.png"
    refused(capsys, rank_args(table, same, "--proxies", "params", "--plot", same), "it is the score store")
    assert not same.exists()  # no store was made, no figure written
    link = tmp_path / "link.png"
    link.symlink_to(table)
    before = snapshot(table)
    refused(capsys, rank_args(table, tmp_path / "s.sqlite", "--proxies", "params", "--plot", link), "the table")
    refused(capsys, rank_args(table, table, "--proxies", "params"), "is the table")
    assert snapshot(table) == before


# ---- altered stores, tables that would rank wrongly ------------------------------------------

@pytest.mark.parametrize("column", ["value", "seconds"])
def test_text_in_a_stored_score_is_noted_and_the_score_computed_again(scored, capsys, column):
    table, store = scored
    from nnmass.rank.scoring import canonical_network
    network_b = canonical_network(B, "nb201")  # B's node 1 is a skip of the input: stored as its class's key
    with sqlite3.connect(store) as db:
        altered = db.execute(f"UPDATE scores SET {column} = 'abc' WHERE network = ? AND proxy = 'params'",
                             (network_b,)).rowcount
    assert altered == 1
    out = noted(capsys, rank_args(table, store, "--proxies", "params", "--json"), "1 row(s) altered by hand")
    row = json.loads(out)[0]
    expected = sp.spearmanr([nb201_params(a) for a in (A, B, C)], [91, 60, 75]).statistic
    assert row["n"] == 3 and row["spearman"] == pytest.approx(expected)
    assert stored_values(store)[network_b] == nb201_params(B)  # the altered row holds the real score again


def test_a_column_named_twice_is_refused(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text(f"arch,acc,acc\n{A},90,10\n{B},80,20\n")
    before = snapshot(table)
    refused(capsys, rank_args(table, tmp_path / "s.sqlite", "--proxies", "params"), "names column 'acc' twice")
    assert snapshot(table) == before and not (tmp_path / "s.sqlite").exists()


def test_one_architecture_with_two_targets_is_refused_and_identical_rows_count_once(tmp_path, capsys):
    spaced = " " + A + " "  # the same architecture after canonicalisation
    conflicting = write_csv(tmp_path / "c.csv", [[A, "90"], [B, "80"], [spaced, "70"]])
    line = refused(capsys, rank_args(conflicting, tmp_path / "s.sqlite", "--proxies", "params"), "twice with different")
    assert A in line and "line 2" in line and "line 4" in line
    same = write_csv(tmp_path / "d.csv", [[A, "90"], [B, "80"], [spaced, "90"], [C, "85"]])
    out = noted(capsys, rank_args(same, tmp_path / "s.sqlite", "--proxies", "params", "--json"), "repeats 1 row(s)")
    row = json.loads(out)[0]
    archs, accs = (A, B, C), (90, 80, 85)
    assert row["n"] == 3  # not 4: the repeat is one observation
    assert row["spearman"] == pytest.approx(sp.spearmanr([nb201_params(a) for a in archs], accs).statistic)


@pytest.mark.parametrize("target", ["9_0", "\u0669\u0660", "nan", "1e999"])
def test_targets_are_ascii_finite_numbers(tmp_path, capsys, target):
    table = write_csv(tmp_path / "t.csv", [[A, "91"], [B, target]])
    refused(capsys, rank_args(table, tmp_path / "s.sqlite", "--proxies", "params"), "line 3, column 'acc' must be")


def test_the_same_file_name_in_another_folder_or_changed_is_another_network(tmp_path, capsys, monkeypatch):
    store = tmp_path / "s.sqlite"
    for name, width in (("a", 5), ("b", 7)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "models.py").write_text(MODELS.format(w=width))
        write_csv(tmp_path / name / "t.csv", [["models.py:net", "1"], ["models.py:small", "2"]])
    for name in ("a", "b"):
        monkeypatch.chdir(tmp_path / name)
        assert main(rank_args("t.csv", store, "--proxies", "params", "--json", space="model")) == 0
    (tmp_path / "a" / "models.py").write_text(MODELS.format(w=11))  # a changed file is a new network
    monkeypatch.chdir(tmp_path / "a")
    assert main(rank_args("t.csv", store, "--proxies", "params", "--json", space="model")) == 0
    capsys.readouterr()
    nets = {k: v for k, v in stored_values(store).items() if k.startswith("models.py:net ")}
    assert sorted(nets.values()) == [mlp_params(5), mlp_params(7), mlp_params(11)]
    assert all(str(tmp_path) in k and "sha256:" in k for k in nets)


# ---- batches and limits --------------------------------------------------------------------

@pytest.mark.parametrize("proxy", sorted(MIN_BATCH))
def test_a_batch_of_one_is_refused_for_proxies_that_compare_samples(tmp_path, capsys, proxy):
    table = write_csv(tmp_path / "t.csv", [[A, "91"], [B, "60"]])
    refused(capsys, rank_args(table, tmp_path / "s.sqlite", "--proxies", f"params,{proxy}", "--batch", "1"),
            f"--batch 1 is too small for {proxy}")
    base = {"model": "dense-mlp", "dataset": "digits", "epochs": 1, "fixed": {"width": 4}}
    with pytest.raises(UsageError, match=f"proxy_batch 1 is too small for {proxy}"):
        grid_from_dict({**base, "proxies": [proxy], "proxy_batch": 1}, source="g.yaml")
    grid_from_dict({**base, "proxies": ["snip"], "proxy_batch": 1}, source="g.yaml")  # snip needs one sample


@pytest.mark.parametrize("extra, needle", [
    (["--bootstrap", "100000000"], "--bootstrap: must be an integer in 0..100000"),
    (["--batch", "65536"], "over the 67,108,864 one input batch may hold"),
    (["--workers", "100000"], "per CPU core"),
])
def test_rank_keeps_the_limits_of_validate(scored, capsys, extra, needle):
    table, store = scored
    before = snapshot(table, store)
    refused(capsys, [*rank_args(table, store, "--proxies", "params"), *extra], needle)
    assert snapshot(table, store) == before


def test_a_model_batch_over_the_input_bound_fails_before_it_is_allocated(tmp_path, capsys, monkeypatch):
    (tmp_path / "big.py").write_text("import torch.nn as nn\nINPUT_SHAPE = (1, 3, 64, 64)\n"
                                     "def net():\n    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 64 * 64, 2))\n")
    table = write_csv(tmp_path / "t.csv", [["big.py:net", "1"]])
    monkeypatch.chdir(tmp_path)
    refused(capsys, rank_args(table, "s.sqlite", "--proxies", "params", "--batch", "65536", space="model"),
            "65536x3x64x64 is 805,306,368 numbers, over the 67,108,864")


@pytest.mark.parametrize("batch, needle", [
    (100_000_000, "proxy_batch must be an integer in 1..65536"),
    (5000, "proxy_batch 5000 is more than the 1,438 training examples of digits"),
])
def test_a_grid_proxy_batch_beyond_the_data_is_refused_before_any_trial(tmp_path, capsys, batch, needle):
    grid = tmp_path / "g.yaml"
    grid.write_text("name: g\nmodel: dense-mlp\ndataset: digits\nepochs: 1\nfixed: {width: 4}\n"
                    f"proxies: [snip]\nproxy_batch: {batch}\n")
    refused(capsys, ["sweep", grid, "--store", tmp_path / "r.sqlite", "--no-progress"], needle)
    assert not (tmp_path / "r.sqlite").exists()


# ---- processes ----------------------------------------------------------------------------

def test_a_factory_that_kills_its_worker_fails_alone(tmp_path, capsys, monkeypatch):
    (tmp_path / "models.py").write_text(MODELS.format(w=5))
    rows = [["models.py:small", "1"], ["models.py:boom", "2"], ["models.py:wide", "3"], ["models.py:net", "4"]]
    table = write_csv(tmp_path / "t.csv", rows)
    monkeypatch.chdir(tmp_path)
    assert main(rank_args(table, "s.sqlite", "--proxies", "params", "--workers", "2", space="model")) == 0
    out = capsys.readouterr().out
    assert "4 networks: 4 scored now" in out and "1 failed, e.g. models.py:boom: WorkerDied" in out
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        got = {n.split(" ")[0]: (v, e) for n, v, e in db.execute("SELECT network, value, error FROM scores")}
    assert got["models.py:small"] == (mlp_params(2), None) and got["models.py:wide"] == (mlp_params(20), None)
    assert got["models.py:net"] == (mlp_params(5), None)
    assert got["models.py:boom"][0] is None and "worker process died" in got["models.py:boom"][1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").is_file() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def _wait_for_rows(store: Path, proc, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(store) as db:
                if db.execute("SELECT COUNT(*) FROM scores").fetchone()[0]:
                    return
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.02)


def test_ctrl_c_ends_rank_and_its_workers_promptly_keeping_the_rows(tmp_path):
    table = write_csv(tmp_path / "t.csv", [[a, str(80 + i)] for i, a in enumerate(EIGHT)])
    store = tmp_path / "s.sqlite"
    args = [sys.executable, "-m", "nnmass", *rank_args(table, store, "--proxies", "params,synflow,zen",
                                                       "--batch", "2", "--workers", "2")]
    # SIGINT as at a terminal, even where this test runs in a background job, which ignores it
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for_rows(store, proc)
    workers = _children(proc.pid)
    start = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    took = time.time() - start
    assert proc.returncode == 130 and "Traceback" not in err and err.strip().splitlines()[-1] == "nnmass: interrupted"
    assert took < 2.0, took
    deadline = time.time() + 2
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.05)
    assert not any(_alive(p) for p in workers)
    kept = stored_values(store)
    assert kept and all(kept[a] == nb201_params(a) for a in kept)  # every row kept is whole and right


def test_two_runs_on_one_store_share_the_work(tmp_path):
    table = write_csv(tmp_path / "t.csv", [[a, str(80 + i)] for i, a in enumerate(EIGHT)])
    store = tmp_path / "s.sqlite"
    ScoreStore(store).close()  # both runs open an existing store
    args = [sys.executable, "-m", "nnmass", *rank_args(table, store, "--proxies", "params,synflow,zen",
                                                       "--batch", "2")]
    runs = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], [e for _, e in outs]
    now = [int(o.split("networks: ")[1].split(" scored now")[0]) for o, _ in outs]
    assert sum(now) == 8, now  # each network scored by exactly one of the two runs
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM scores").fetchone()[0] == 8 * 3
        assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0  # every claim released


def test_claims_of_live_runs_hold_and_of_dead_or_old_ones_lapse(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with ScoreStore(tmp_path / "s.sqlite") as store:
        mine, other = run_id(), "elsewhere:1:1"
        want = ["params", "snip"]
        assert store.claim(A, "k", mine, want) == want == store.claim(A, "k", mine, want)  # renewed
        store._db.execute("UPDATE claims SET run = ?", (other,))  # another run of this live process
        assert store.claim(A, "k", mine, want) is None and store.claimed_elsewhere(A, "k", mine)
        store._db.execute("UPDATE claims SET pid = ?", (dead.pid,))  # its process is gone
        assert store.claim(A, "k", mine, want) == want
        store._db.execute("UPDATE claims SET run = ?, host = 'other-host', claimed_at = 0", (other,))  # too old
        assert store.claim(A, "k", mine, want) == want
        store.put(A, "k", {"params": 1.0}, {"params": 0.1}, run=mine)
        assert store._db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
        assert store.claim(A, "k", mine, ["params"]) == []  # nothing left to claim
        assert store._db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0


def test_a_version_1_score_store_is_read_and_upgraded(tmp_path, capsys):
    store = tmp_path / "old.sqlite"
    setting = ('{"batch":16,"input_shape":[3,32,32],"inputs":"gaussian","num_classes":10,"seed":0,'
               '"space":"nb201"}')
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE scores (network TEXT NOT NULL, setting TEXT NOT NULL, proxy TEXT NOT NULL, "
                   "value REAL, seconds REAL, error TEXT, finished_at TEXT, PRIMARY KEY (network, setting, proxy))")
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        for arch in (A, B):
            db.execute("INSERT INTO scores VALUES (?, ?, 'params', ?, 0.1, NULL, 'then')",
                       (arch, setting, nb201_params(arch)))
    table = write_csv(tmp_path / "t.csv", [[A, "91"], [B, "60"]])
    assert main(rank_args(table, store, "--proxies", "params", "--as-written")) == 0
    assert "0 scored now, 2 already in" in capsys.readouterr().out
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0] == "2"
