"""Faults at the storage and file-system boundaries: damaged, foreign, read-only and
full stores, altered rows, output paths that would destroy data. Each case checks
the exit code, one short line, no traceback, and that no byte of data changed.

Read-only folders cannot be made as root (chmod does not stop root), so the code
path SQLite takes there is forced by patching the folder check; the real thing
runs too when the tests are not root.
"""
import json
import os
import shutil
import sqlite3

import pytest

from hostile_helpers import noted, refused, snapshot
from nnmass.cli import main
from nnmass.errors import UsageError
from nnmass.store import ResultStore

ROOT = os.geteuid() == 0
GRID = "name: h\nmodel: dense-mlp\ndataset: digits\nepochs: 1\nfixed: {width: 4, depth: 3}\ngrid: {tc: [0, 2]}\n"


def _row(i):
    return {"key": f"k{i}", "sweep": "s", "status": "done", "family": "dense-mlp", "dataset": "digits", "seed": i,
            "spec_json": json.dumps({"width": 8, "depth": 4 + i}), "point_json": "{}", "train_json": "{}",
            "nn_mass": 5.0 + i, "params": 1000 + 10 * i, "macs": 900 + 10 * i, "ldi_mean": 0.5 + 0.01 * i,
            "test_acc": 0.5 + 0.02 * i + 0.01 * (i % 2), "train_acc": 0.6,
            "history_json": json.dumps([{"epoch": 1, "test_acc": 0.5, "train_loss": 1.0}]), "depth": 4 + i,
            "width": 8, "seconds": 1.0, "finished_at": "2026-01-01T00:00:00"}


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "s.sqlite"
    with ResultStore(path) as s:
        for i in range(6):
            s.put(_row(i))
    return path


def _files(store):
    """The store's bytes and its log's; a read-only SQLite connection may leave an empty
    log and index beside a store, which hold no data, so a missing log reads as empty."""
    files = snapshot(store, f"{store}-wal", f"{store}-journal")
    return {k: b"" if v is None and k != str(store) else v for k, v in files.items()}


def _grid(tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(GRID)
    return path


def _damage(store, where):
    """Overwrite 100 bytes: of the schema (page 1, after the header) or of the trials table (page 2)."""
    data = bytearray(store.read_bytes())
    offset = 100 if where == "schema" else 4096
    data[offset:offset + 100] = b"\xff" * 100
    store.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["schema", "rows"])
@pytest.mark.parametrize("command", ["sweep", "fit", "export", "report"])
def test_damaged_store_is_one_line_and_left_alone(capsys, tmp_path, store, command, where):
    _damage(store, where)
    before = _files(store)
    argv = {"sweep": ["sweep", _grid(tmp_path), "--store", store, "--no-progress"],
            "fit": ["fit", store], "export": ["export", store, "--csv", tmp_path / "o.csv"],
            "report": ["report", store, "--out", tmp_path / "r"]}[command]
    refused(capsys, argv, "is damaged (database disk image is malformed")
    assert _files(store) == before
    assert not (tmp_path / "o.csv").exists()


def _foreign(tmp_path, kind):
    path = tmp_path / "other.sqlite"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("precious notes\n" * 50)
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE people (name TEXT)")
            db.execute("INSERT INTO people VALUES ('ada')")
        db.close()
    return path


FOREIGN = [
    ("empty", ["fit"], "is not an nnmass results store (an empty file)"),
    ("empty", ["export", "--csv", "{tmp}/o.csv"], "is not an nnmass results store (an empty file)"),
    ("text", ["fit"], "not a SQLite database"),
    ("text", ["report", "--out", "{tmp}/r"], "not a SQLite database"),
    ("text", ["sweep"], "not a SQLite database"),
    ("sqlite", ["fit"], "no trials table"),
    ("sqlite", ["export", "--parquet", "{tmp}/o.parquet"], "no trials table"),
    ("sqlite", ["sweep"], "is a SQLite database of something else (tables: people)"),
]


@pytest.mark.parametrize("kind,argv,needle", FOREIGN, ids=[f"{k}-{a[0]}" for k, a, _ in FOREIGN])
def test_files_that_are_not_stores_are_never_converted(capsys, tmp_path, kind, argv, needle):
    path = _foreign(tmp_path, kind)
    before = snapshot(path, f"{path}-wal", f"{path}-shm", f"{path}-journal")
    if argv[0] == "sweep":
        argv = ["sweep", _grid(tmp_path), "--store", path, "--no-progress"]
    else:
        argv = [argv[0], path, *[a.replace("{tmp}", str(tmp_path)) for a in argv[1:]]]
    refused(capsys, argv, needle)
    assert snapshot(path, f"{path}-wal", f"{path}-shm", f"{path}-journal") == before


@pytest.mark.parametrize("target", ["store", "-wal", "-shm", "-journal", "symlink", "hardlink"])
@pytest.mark.parametrize("fmt", ["--csv", "--parquet"])
def test_export_never_writes_over_the_store(capsys, tmp_path, store, fmt, target):
    out = {"store": store, "symlink": tmp_path / "link", "hardlink": tmp_path / "hard"}.get(
        target, tmp_path / f"s.sqlite{target}")
    if target == "symlink":
        out.symlink_to(store)
    elif target == "hardlink":
        os.link(store, out)
    before = _files(store)
    refused(capsys, ["export", store, fmt, out], "is the results store")
    assert _files(store) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_export_output_path_problems(capsys, tmp_path, store, monkeypatch):
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    cases = [(tmp_path / "dir", "it is a folder"), (tmp_path / "no" / "o.csv", "does not exist"),
             (tmp_path / "fifo", "not a regular file")]
    for out, needle in cases:
        refused(capsys, ["export", store, "--csv", out], needle)
    assert (tmp_path / "fifo").is_fifo() and list((tmp_path / "dir").iterdir()) == []
    # An unwritable folder (as root nothing is, so the check's answer is forced).
    real = os.access
    monkeypatch.setattr("nnmass.files.writing.os.access",
                        lambda p, mode: False if str(p) == str(tmp_path) else real(p, mode))
    refused(capsys, ["export", store, "--csv", tmp_path / "o.csv"], "is not writable")


def test_failed_parquet_write_leaves_the_target_as_it_was(capsys, tmp_path, store, monkeypatch):
    import pyarrow.parquet as pq

    target = tmp_path / "runs.parquet"
    target.write_bytes(b"yesterday's export")

    def disk_full(table, where, **kw):
        with open(where, "wb") as f:
            f.write(b"half a file")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(pq, "write_table", disk_full)
    refused(capsys, ["export", store, "--parquet", target], "No space left on device")
    assert target.read_bytes() == b"yesterday's export"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("s.sqlite")) == ["runs.parquet"]


OUTPUTS = [
    (["design", "dense-mlp", "--range", "depth=4", "--range", "width=4", "--range", "tc=0:2", "--max-params", "20k",
      "--out", "{tmp}"], "it is a folder"),
    (["design", "dense-mlp", "--range", "depth=4", "--range", "width=4", "--max-params", "20k",
      "--out", "{tmp}/no/spec.json"], "does not exist"),
    (["design", "dense-mlp", "--max-params", "20k", "--plot", "{tmp}/no/p.png"], "does not exist"),
    (["design", "dense-mlp", "--max-params", "20k", "--plot", "{tmp}/p.txt"], "use a .png, .pdf, .svg"),
    (["bounds", "--plot", "{tmp}"], "it is a folder"),
    (["bounds", "--plot", "{tmp}/no/b.png"], "does not exist"),
    (["report", "{store}", "--out", "{store}"], "is a file; give a folder path"),
    (["report", "{store}", "--out", ""], "--out needs a folder name"),
    (["export", "{store}", "--csv", ""], "--csv needs a file name"),
    (["export", "{store}", "--parquet", " "], "--parquet needs a file name"),
    (["design", "dense-mlp", "--max-params", "20k", "--out", ""], "--out needs a file name"),
    (["bounds", "--plot", ""], "--plot needs a file name"),
]


@pytest.mark.parametrize("argv,needle", OUTPUTS, ids=[" ".join(a)[:50] for a, _ in OUTPUTS])
def test_output_paths_are_checked_before_any_work(capsys, tmp_path, store, argv, needle):
    def made():  # what there is besides the store's own files
        return sorted(p for p in tmp_path.iterdir() if not p.name.startswith("s.sqlite"))
    before, files = made(), _files(store)
    refused(capsys, [a.replace("{tmp}", str(tmp_path)).replace("{store}", str(store)) for a in argv], needle)
    assert made() == before and _files(store) == files


@pytest.mark.parametrize("alter,needle", [
    ("test_acc = 'abc'", "test_acc holds 'abc', not a number"),
    ("spec_json = '{broken'", "spec_json is not valid JSON"),
    ("history_json = '[1, 2]'", "history_json is not a JSON list of objects"),
    ("params = 'many'", "params holds 'many', not an integer"),
])
def test_altered_rows_are_skipped_and_counted(capsys, store, alter, needle):
    with sqlite3.connect(store) as db:
        db.execute(f"UPDATE trials SET {alter} WHERE key = 'k2'")
    db.close()
    before = _files(store)
    out = noted(capsys, ["fit", store, "--json", "--bootstrap", "0"], "skipped 1 altered row(s) of store")
    assert max(r["n"] for r in json.loads(out)) == 5
    assert _files(store) == before


def test_altered_rows_in_export_and_report(capsys, tmp_path, store):
    import pyarrow.parquet as pq

    with sqlite3.connect(store) as db:
        db.execute("UPDATE trials SET nn_mass = 'heavy' WHERE key = 'k1'")
    db.close()
    noted(capsys, ["export", store, "--parquet", tmp_path / "o.parquet"], "nn_mass holds 'heavy'")
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 5
    assert main(["export", str(store), "--csv", str(tmp_path / "o.csv")]) == 0  # CSV copies rows as stored
    assert "heavy" in (tmp_path / "o.csv").read_text() and capsys.readouterr().err == ""
    noted(capsys, ["report", store, "--out", tmp_path / "r", "--format", "md", "--bootstrap", "0"], "skipped 1")
    with sqlite3.connect(store) as db:
        db.execute("UPDATE trials SET spec_json = 'x'")
    db.close()
    refused(capsys, ["fit", store], "holds no usable trials: all 6 were altered")


def _readonly_folder(monkeypatch):
    monkeypatch.setattr("nnmass.store.opening.folder_writable", lambda folder: False)


def test_store_in_a_read_only_folder_is_read_without_side_files(capsys, tmp_path, store, monkeypatch):
    _readonly_folder(monkeypatch)
    before = sorted(tmp_path.iterdir())
    assert main(["fit", str(store), "--bootstrap", "0"]) == 0
    assert main(["export", str(store), "--csv", str(tmp_path / "o.csv")]) == 0
    capsys.readouterr()
    assert sorted(tmp_path.iterdir()) == sorted(before + [tmp_path / "o.csv"])  # no -wal, no -shm


def test_unreadable_pending_log_in_a_read_only_folder_names_the_cause(capsys, tmp_path, store, monkeypatch):
    copy = tmp_path / "copy"
    copy.mkdir()
    with ResultStore(store) as s:  # an open writer keeps its rows in the -wal file
        s.put(_row(9))
        shutil.copy(store, copy / "s.sqlite")
        shutil.copy(f"{store}-wal", copy / "s.sqlite-wal")
    _readonly_folder(monkeypatch)
    before = _files(copy / "s.sqlite")
    refused(capsys, ["fit", copy / "s.sqlite"], "its folder is read-only and")
    assert _files(copy / "s.sqlite") == before and not (copy / "s.sqlite-shm").exists()


@pytest.mark.skipif(ROOT, reason="root writes into read-only folders")
def test_real_read_only_folder_and_file(capsys, tmp_path, store):
    grid = _grid(tmp_path)
    before = _files(store)
    os.chmod(tmp_path, 0o555)
    try:
        assert main(["fit", str(store), "--bootstrap", "0"]) == 0
        capsys.readouterr()
        refused(capsys, ["sweep", grid, "--store", store, "--no-progress"], "is read-only")
    finally:
        os.chmod(tmp_path, 0o755)
    assert not os.path.exists(f"{store}-shm") and _files(store) == before
    os.chmod(store, 0o444)
    refused(capsys, ["sweep", grid, "--store", store, "--no-progress"], "the file is read-only")
    assert _files(store) == before


def test_read_only_store_stops_a_sweep_before_training(capsys, tmp_path, store, monkeypatch):
    import nnmass.store.opening as so

    real = so._connect
    monkeypatch.setattr(so, "_connect", lambda path, mode: real(path, "ro"))  # what SQLite does on a 0444 file
    monkeypatch.setattr("nnmass.train.train", lambda *a, **k: pytest.fail("trained before the store check"))
    before = _files(store)
    refused(capsys, ["sweep", _grid(tmp_path), "--store", store, "--no-progress"], "read-only")
    assert _files(store) == before


def test_full_disk_stops_a_sweep_before_training(capsys, tmp_path, store, monkeypatch):
    monkeypatch.setattr("nnmass.store.opening.shutil.disk_usage", lambda p: shutil._ntuple_diskusage(1, 1, 0))
    before = _files(store)
    refused(capsys, ["sweep", _grid(tmp_path), "--store", store, "--no-progress"], "the disk is full")
    assert _files(store) == before


def test_full_disk_mid_sweep_keeps_what_was_stored(capsys, tmp_path, store):
    with ResultStore(store) as s:
        pages = s._db.execute("PRAGMA page_count").fetchone()[0]
        s._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite answers SQLITE_FULL, as on a full disk
        with pytest.raises(UsageError) as info:
            s.put({**_row(7), "error": "x" * 100_000})
        assert "the disk is full" in str(info.value) and "rerun the same command" in str(info.value)
        assert len(s) == 6


def test_store_that_fails_mid_sweep_is_one_line_and_resumable(capsys, tmp_path, monkeypatch):
    import sqlite3 as sq

    from nnmass.store import ResultStore as RS

    grid, path = _grid(tmp_path), tmp_path / "new.sqlite"
    real_put = RS.put

    def put_once(self, row):
        if len(self) >= 1:
            raise sq.OperationalError("database or disk is full") from None
        return real_put(self, row)
    monkeypatch.setattr(RS, "put", lambda self, row: _as_store_error(self, put_once, row))
    refused(capsys, ["sweep", grid, "--store", path, "--no-progress"], "the disk is full")
    monkeypatch.undo()
    with RS(path, readonly=True) as s:
        kept = [r["key"] for r in s.trials()]
    assert len(kept) == 1
    assert main(["sweep", str(grid), "--store", str(path), "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["total"], summary["skipped"], summary["done"]) == (2, 1, 1)  # resumed, nothing lost


def _as_store_error(store, put, row):
    with store._errors():
        return put(store, row)


def test_unwritable_report_folder(capsys, tmp_path, store, monkeypatch):
    out = tmp_path / "r"
    out.mkdir()
    monkeypatch.setattr("nnmass.render.os.access", lambda path, mode: False)  # root can write anywhere
    refused(capsys, ["report", store, "--out", out, "--bootstrap", "0"], "it is not writable")
    assert list(out.iterdir()) == []
