"""The score store of ``nnmass rank``: scores kept once, errors retried, stored arrays
spread to their rows, damaged or foreign files refused, and a run killed with kill -9
resumed without computing any score twice."""
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

from table_files import A, B, C, D, write_csv
from nnmass.errors import UsageError
from nnmass.rank.scoring import ScoreSetting
from nnmass.rank.store import ScoreStore

ROOT = Path(__file__).resolve().parents[1]

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
