"""Opening a results store file safely. Standard library only.

- Nothing is written to a file until it is known to be an nnmass store, a new file
  or an empty one: a text file, another program's SQLite database or a 0-byte file
  that is only read stay byte for byte as they were.
- Readers (``fit``, ``export``, ``report``) open with SQLite's ``mode=ro``. SQLite
  reads a WAL-mode file through an index it creates beside it; in a folder this
  process cannot write, a store with no pending WAL is opened ``immutable``, and
  one whose ``-wal`` holds writes SQLite cannot read there is refused with that cause.
- A sweep proves it can commit (file, folder and disk) before the first trial trains.
- Every SQLite error becomes one line naming the file and the real cause.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import urllib.parse
from pathlib import Path

from ..errors import UsageError

SQLITE_MAGIC = b"SQLite format 3\x00"
MIN_FREE_BYTES = 1 << 20  # a sweep refuses to start with less free disk: rows need a few KiB each
RESULTS_TABLES = frozenset({"trials", "meta"})


def where(path) -> str:
    return repr(str(path))


def side_files(path) -> list[Path]:
    """The store and the files SQLite keeps beside it (WAL, its index, a rollback journal)."""
    return [Path(path)] + [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal")]


def check_store_file(path, *, reading: bool, what: str = "results store") -> bool:
    """Whether ``path`` exists, after refusing what must not be opened as a store:
    a folder, a special file, a missing file (when reading) or a file that is not
    SQLite (an empty one too, when reading). Reads at most the 100-byte header.
    ``what`` names the kind of store in messages."""
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"store {where(path)} is a folder; give the store's file")
    if not p.exists():
        if reading:
            writer = "rank, search or a study" if what == "score store" else "a sweep"
            raise UsageError(f"store {where(path)} does not exist; give a {what} file that {writer} wrote")
        if not p.parent.is_dir():
            raise UsageError(f"cannot create store {where(path)}: folder {str(p.parent)!r} does not exist")
        return False
    if not p.is_file():
        raise UsageError(f"store {where(path)} is not a regular file (a device, pipe or socket)")
    try:
        with open(p, "rb") as f:
            head = f.read(100)
    except OSError as e:
        raise UsageError(f"cannot read store {where(path)}: {e.strerror}") from None
    if not head and reading:
        raise UsageError(f"{where(path)} is not an nnmass {what} (an empty file)")
    if head and not head.startswith(SQLITE_MAGIC):
        raise UsageError(f"{where(path)} is not an nnmass {what} (not a SQLite database); "
                         "it was left as it is")
    return True


def connect_readonly(path) -> sqlite3.Connection:
    """A read-only connection to an existing SQLite file (see the module docstring)."""
    p = Path(path)
    mode = "ro"
    if _is_wal(p) and not folder_writable(p.parent):
        wal, shm = side_files(p)[1:3]
        pending = wal.exists() and wal.stat().st_size > 0
        if pending and not shm.exists():
            raise UsageError(f"cannot read store {where(path)}: its folder is read-only and {str(wal)!r} holds "
                             "writes SQLite can only read by creating an index beside it; copy the store and "
                             "its -wal file to a writable folder")
        if not pending:
            mode = "ro&immutable=1"  # nothing beside the file to read, and nobody can write here
    return _connect(p, mode)


def connect_for_writing(path, exists: bool, tables: frozenset = RESULTS_TABLES,
                        what: str = "results store") -> sqlite3.Connection:
    """A read-write connection in WAL mode with full syncs, after refusing a full disk, a
    SQLite database with other ``tables`` than this kind of store has (another program's,
    or the other kind of nnmass store) and a damaged store, all before anything is
    written. Every SQLite error is a one-line :class:`UsageError` naming the file."""
    folder = Path(path).resolve().parent
    if not folder_writable(folder):
        raise UsageError(f"cannot write store {where(path)}: its folder {str(folder)!r} is read-only "
                         "(SQLite keeps a log file beside the store)")
    if exists and not os.access(path, os.W_OK):
        raise UsageError(f"cannot write store {where(path)}: the file is read-only")
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        raise UsageError(f"cannot write store {where(path)}: the disk is full ({free:,} bytes free); "
                         "free some space, then run again")
    try:
        db = _connect(Path(path), "rw" if exists else "rwc")
    except sqlite3.Error as e:
        raise UsageError(describe(path, e)) from None
    try:
        found = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if found and (not found <= tables or "meta" not in found or not db.execute(
                "SELECT 1 FROM meta WHERE name = 'schema_version'").fetchone()):
            shown_tables = ", ".join(sorted(found)[:8]) + (", ..." if len(found) > 8 else "")
            raise UsageError(f"{where(path)} is a SQLite database of something else (tables: {shown_tables}), "
                             f"not an nnmass {what}; nnmass writes only into its own stores")
        problem = db.execute("PRAGMA quick_check(1)").fetchone()[0]  # reads every page once
        if problem != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed: {str(problem)[:120]}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
    except BaseException as e:
        db.close()
        if isinstance(e, sqlite3.Error):
            raise UsageError(describe(path, e)) from None
        raise
    return db


def check_writable(db: sqlite3.Connection) -> None:
    """Commit one write (then undo it) so that a read-only file or folder, or a disk
    too full to grow the log, stops a sweep before its first trial rather than after."""
    with Transaction(db):
        db.execute("INSERT OR REPLACE INTO meta VALUES ('write_check', 'ok')")
        db.execute("DELETE FROM meta WHERE name = 'write_check'")


class Transaction:
    """``with Transaction(db):`` BEGIN IMMEDIATE ... COMMIT on an autocommit connection;
    ROLLBACK on error, unless SQLite has rolled back already (a full disk)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *_) -> None:
        if not exc_type:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:
            self.db.execute("ROLLBACK")


def describe(path, error: sqlite3.Error) -> str:
    """One line: the file and the real cause of a SQLite error."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = " ".join(str(error).split())[:160]  # one line, however SQLite words it
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in text or "not a database" in text:
        return (f"store {where(path)} is damaged ({text}); nnmass cannot use it. Restore it from a copy, "
                "or save its rows with the sqlite3 shell's .recover")
    if name == "SQLITE_FULL" or "disk is full" in text:
        return (f"cannot write store {where(path)}: the disk is full ({text}); every trial stored before is "
                "kept: free some space and rerun the same command to resume")
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        return f"cannot write store {where(path)}: {text} (the file or its folder is read-only)"
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return f"cannot open store {where(path)}: {text} (check that its folder can be read, and written for a sweep)"
    if name.startswith("SQLITE_BUSY") or "locked" in text:
        return f"store {where(path)} stayed locked by another process for 60 s ({text}); try again later"
    return f"store {where(path)}: {text}"


def folder_writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


def _is_wal(path: Path) -> bool:
    """Whether the header says WAL mode (file format versions 2 at offsets 18-19)."""
    with open(path, "rb") as f:
        head = f.read(20)
    return len(head) == 20 and head[18:20] == b"\x02\x02"


def _connect(path: Path, mode: str) -> sqlite3.Connection:
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode={mode}"
    # isolation_level=None: transactions are opened and committed explicitly.
    return sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None)


class ClosesOnExit:
    """``with Store(...) as s:`` closes the store's connection on leaving the block."""

    _db: sqlite3.Connection

    def close(self) -> None:
        self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
