"""The SQLite results store: schema, no duplicates, upsert rules, exports."""
import csv
import json
import sqlite3
import subprocess
import sys

import pytest

from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass import store as store_module
from nnmass.store import COLUMN_NAMES, ResultStore


def _row(key, status="done", **kw):
    row = {"key": key, "sweep": "s", "status": status, "family": "dense-mlp", "dataset": "digits",
           "seed": 3, "spec_json": json.dumps({"width": 8}), "nn_mass": 21.0286, "params": 1234,
           "macs": 1100, "ldi_mean": 0.75, "ldi_std": 0.125, "test_acc": 0.5 + len(key) / 100,
           "train_acc": 0.625, "history_json": "[]", "depth": 16, "width": 8, "seconds": 1.5,
           "finished_at": f"2026-01-01T00:00:0{len(key) % 10}"}
    row.update(kw)
    return row


def test_schema_columns_and_version(tmp_path):
    path = tmp_path / "r.sqlite"
    ResultStore(path).close()
    db = sqlite3.connect(path)
    cols = {r[1]: r[2] for r in db.execute("PRAGMA table_info(trials)")}
    pk = [r[1] for r in db.execute("PRAGMA table_info(trials)") if r[5]]
    required = {"key": "TEXT", "sweep": "TEXT", "status": "TEXT", "family": "TEXT", "dataset": "TEXT",
                "seed": "INTEGER", "spec_json": "TEXT", "train_json": "TEXT", "nn_mass": "REAL",
                "params": "INTEGER", "macs": "INTEGER", "ldi_mean": "REAL", "ldi_std": "REAL",
                "test_acc": "REAL", "train_acc": "REAL", "history_json": "TEXT", "depth": "INTEGER",
                "width": "INTEGER", "seconds": "REAL", "error": "TEXT", "finished_at": "TEXT",
                "proxies_json": "TEXT"}
    for name, kind in required.items():
        assert cols[name] == kind, name
    assert pk == ["key"]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()[0] == "2"


def _version_1_store(path):
    """A store written before proxies_json existed: the version-1 schema, made by hand."""
    db = sqlite3.connect(path)
    old = [(n, t) for n, t in store_module.COLUMNS if n != "proxies_json"]
    db.execute("CREATE TABLE trials (" + ", ".join(f"{n} {t}" for n, t in old) + ", PRIMARY KEY (key))")
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute("INSERT INTO trials (key, status, test_acc) VALUES ('a', 'done', 0.5)")
    db.commit()
    db.close()


def test_a_version_1_store_is_read_as_it_is(tmp_path):
    # fit, report and export open stores read-only: an old store is read, never rewritten.
    path = tmp_path / "old.sqlite"
    _version_1_store(path)
    before = path.read_bytes()
    with ResultStore(path, readonly=True) as store:
        (row,) = store.trials()
        assert row["key"] == "a" and row["test_acc"] == 0.5 and row["proxies_json"] is None
    assert path.read_bytes() == before


def test_a_version_1_store_is_upgraded_in_place_and_keeps_its_trials(tmp_path):
    path = tmp_path / "old.sqlite"
    _version_1_store(path)
    with ResultStore(path, create=False) as store:
        assert store.schema_version == 2
        (row,) = store.trials()
        assert row["key"] == "a" and row["test_acc"] == 0.5 and row["proxies_json"] is None
        assert store.put(_row("b", proxies_json='{"scores":{"synflow":1.0}}'))
    with ResultStore(path, create=False) as store:  # reopening an upgraded store changes nothing
        assert [r["key"] for r in store.trials()] == ["a", "b"]


def test_a_store_of_a_later_version_is_refused_in_one_line(tmp_path):
    path = tmp_path / "new.sqlite"
    ResultStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '3' WHERE name = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(UsageError, match="schema version .3.; this nnmass reads versions 1 to 2"):
        ResultStore(path)


def test_put_never_duplicates_or_overwrites_finished(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        assert store.put(_row("a", test_acc=0.9))
        assert not store.put(_row("a", test_acc=0.1))  # done is final
        assert store.put(_row("b", status="diverged", test_acc=None, error="loss became non-finite"))
        assert not store.put(_row("b", status="done"))
        assert len(store) == 2
        rows = {r["key"]: r for r in store.trials()}
        assert rows["a"]["test_acc"] == 0.9 and rows["b"]["status"] == "diverged"
        assert store.done_keys() == {"a", "b"}
        assert store.has("a") and not store.has("zz")


def test_failed_then_done_upsert(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        assert store.put(_row("k", status="failed", error="RuntimeError: boom", test_acc=None))
        assert store.done_keys() == set()
        assert [r["status"] for r in store.trials(status="failed")] == ["failed"]
        assert store.put(_row("k", status="done", test_acc=0.75))
        (row,) = store.trials()
        assert row["status"] == "done" and row["test_acc"] == 0.75 and row["error"] is None
        assert store.done_keys() == {"k"}


def test_rows_survive_reopen_and_filter_by_sweep(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultStore(path) as store:
        store.put(_row("x", sweep="one"))
        store.put(_row("y", sweep="two"))
    with ResultStore(path, create=False) as store:
        assert [r["key"] for r in store.trials(sweep="two")] == ["y"]
        assert [r["key"] for r in store.trials()] == ["x", "y"]


def test_bad_rows_are_refused(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ValueError, match="status"):
            store.put(_row("a", status="weird"))
        with pytest.raises(ValueError, match="unknown trial column"):
            store.put(_row("a", colour="red"))
        assert len(store) == 0


def test_missing_or_foreign_store_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        ResultStore(tmp_path / "none.sqlite", create=False)
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database at all" * 20)
    with pytest.raises(UsageError, match="not an nnmass results store"):
        ResultStore(junk, create=False)


def _three_rows(store):
    store.put(_row("a", test_acc=0.8125, seed=1))
    store.put(_row("bb", status="diverged", test_acc=None, train_acc=None, error="loss became non-finite"))
    store.put(_row("ccc", status="failed", nn_mass=None, params=None, error="ValueError: x, \"quoted\"\nline"))


def test_export_csv_round_trip(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        _three_rows(store)
        expected = store.trials()
        assert store.export_csv(tmp_path / "t.csv") == 3
    with open(tmp_path / "t.csv", newline="") as f:
        got = list(csv.DictReader(f))
    assert tuple(got[0]) == COLUMN_NAMES
    for want, row in zip(expected, got):
        for col, value in want.items():
            if value is None:
                assert row[col] == ""
            elif isinstance(value, float):
                assert float(row[col]) == value
            else:
                assert row[col] == str(value), col


def test_export_parquet_round_trip(tmp_path):
    import pyarrow.parquet as pq

    with ResultStore(tmp_path / "r.sqlite") as store:
        _three_rows(store)
        expected = store.trials()
        assert store.export_parquet(tmp_path / "t.parquet") == 3
    table = pq.read_table(tmp_path / "t.parquet")
    assert str(table.schema.field("params").type) == "int64"
    assert str(table.schema.field("nn_mass").type) == "double"
    assert table.to_pylist() == expected


def test_export_cli(tmp_path, capsys):
    path = tmp_path / "r.sqlite"
    with ResultStore(path) as store:
        _three_rows(store)
    out = tmp_path / "t.parquet"
    assert main(["export", str(path), "--parquet", str(out)]) == 0
    assert "exported 3 trials" in capsys.readouterr().out
    import pyarrow.parquet as pq
    assert pq.read_table(out).num_rows == 3
    for argv, needle in ((["export", str(tmp_path / "nope.sqlite"), "--csv", str(out)], "does not exist"),
                         (["export", str(path)], "one of the arguments --csv --parquet is required"),
                         (["export", str(path), "--csv", str(tmp_path / "no" / "t.csv")], "does not exist")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("nnmass: error: ") and needle in err and err.count("\n") == 1, err


def test_store_does_not_import_torch():
    code = "import sys, nnmass.store, nnmass.sweep.grid; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
