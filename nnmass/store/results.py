"""The results store: one SQLite file, one row per trial. Standard library only.

Schema (version 2)::

    trials(
      key          TEXT PRIMARY KEY,  -- sha256 of canonical JSON {spec, seed, train, ldi, dataset}
      sweep        TEXT,     -- the grid's name
      status       TEXT,     -- 'done' | 'diverged' (loss became NaN/inf) | 'failed' (an exception)
      family       TEXT,     -- model family as named in the grid (dense-mlp, resnet18, ...)
      dataset      TEXT,
      seed         INTEGER,  -- skip links, weight init and data shuffle all use it
      spec_json    TEXT,     -- the spec actually built (fitted to the data), spec.to_dict()
      point_json   TEXT,     -- the grid point (swept keys only) that produced it
      train_json   TEXT,     -- the full training configuration used
      nn_mass      REAL,     -- Eq. 2 / Eq. 3
      params       INTEGER,
      macs         INTEGER,
      ldi_mean     REAL,     -- mean singular value of layerwise Jacobians at init (Def. 2)
      ldi_std      REAL,
      ldi_prop2_mean REAL,   -- the same, same topology and inputs, He fan_out init (Prop. 2's q)
      ldi_prop2_std  REAL,
      test_acc     REAL,     -- final test accuracy in [0, 1]; NULL unless status is done
      train_acc    REAL,
      history_json TEXT,     -- per epoch: epoch, train_loss, train_acc, test_loss, test_acc
      depth        INTEGER,  -- layers summed over the model's cells
      width        INTEGER,  -- width of the first cell
      seconds      REAL,     -- wall time of the trial
      error        TEXT,     -- what went wrong, for 'failed' (and 'diverged') rows
      finished_at  TEXT,     -- UTC ISO-8601 time the trial finished
      proxies_json TEXT      -- training-free proxies at init, when the grid lists them:
                             -- {"batch": N, "scores": {name: value or null}, "seconds": {...}}
    )
    meta(name TEXT PRIMARY KEY, value TEXT)   -- holds schema_version

Durability: the file is in WAL mode with ``synchronous=FULL`` and every
:meth:`ResultStore.put` is its own committed transaction, so a killed sweep
(even ``kill -9``) keeps every trial it finished. A finished trial is never
rewritten: a second ``put`` for its key only replaces a row whose status is
``'failed'``, which is how a resumed sweep retries failures.

Version 1 stores (without ``proxies_json``) are upgraded in place when opened: the
column is added, empty, and the version set to 2.
"""
from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from ..errors import UsageError
from ..files.writing import write_atomically
from .opening import (ClosesOnExit, Transaction, check_store_file, check_writable, connect_for_writing, connect_readonly,
                      describe, side_files)
from .columns import ADDED_IN, COLUMN_NAMES, COLUMNS, FINISHED, SCHEMA_VERSION, STATUSES
from .rows import split_rows
from ..validate import shown

_REQUIRED = ("key", "status")

_CREATE = (
    "CREATE TABLE IF NOT EXISTS trials ("
    + ", ".join(f"{n} {t} PRIMARY KEY" if n == "key" else f"{n} {t}" for n, t in COLUMNS)
    + f", CHECK (status IN {STATUSES!r}))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)",
    "CREATE INDEX IF NOT EXISTS trials_sweep ON trials (sweep)",
)
_UPSERT = (
    f"INSERT INTO trials ({', '.join(COLUMN_NAMES)}) VALUES ({', '.join('?' * len(COLUMN_NAMES))}) "
    "ON CONFLICT(key) DO UPDATE SET "
    + ", ".join(f"{n} = excluded.{n}" for n in COLUMN_NAMES if n != "key")
    + " WHERE trials.status = 'failed'"
)


class ResultStore(ClosesOnExit):
    """A SQLite results store (schema in the module docstring).

    Args:
        path: the database file.
        create: make the file if it does not exist; when False a missing file is a
            :class:`UsageError`.
        readonly: open for reading only (``fit``, ``export``, ``report``): the file is
            never written, and a missing, empty or foreign file is refused.

    Opening never writes into a file that is not an nnmass store, and a writable
    store proves it can commit before it is returned (:mod:`nnmass.store.opening`).
    Every SQLite error, a damaged file included, is a one-line :class:`UsageError`.
    """

    def __init__(self, path: str | Path, create: bool = True, readonly: bool = False):
        self.path = Path(path)
        self._db = None
        exists = check_store_file(self.path, reading=readonly or not create)
        try:
            with self._errors():
                if readonly:
                    self._db = connect_readonly(self.path)
                    self._check_schema()
                else:
                    self._db = connect_for_writing(self.path, exists)
                    self._init_schema()
                    check_writable(self._db)
        except BaseException:
            if self._db is not None:
                self._db.close()
            raise

    @contextmanager
    def _errors(self):
        """SQLite errors (a damaged file, a full disk, a lock) as one line naming the file."""
        try:
            yield
        except sqlite3.Error as e:
            raise UsageError(describe(self.path, e)) from None

    def _check_schema(self) -> None:
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "trials" not in tables:
            raise UsageError(f"{str(self.path)!r} is not an nnmass results store (no trials table)")
        row = self._db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone() \
            if "meta" in tables else None
        if row is None:
            raise UsageError(f"{str(self.path)!r} is not an nnmass results store (no schema version)")
        # A writer has upgraded older stores in place; a reader reads them as they are.
        if not (row[0].isdigit() and 1 <= int(row[0]) <= SCHEMA_VERSION):
            raise UsageError(f"store {str(self.path)!r} has schema version {shown(row[0])}; "
                             f"this nnmass reads versions 1 to {SCHEMA_VERSION}")
        added_later = {ADDED_IN[v][0] for v in range(int(row[0]) + 1, SCHEMA_VERSION + 1)}
        cols = [r[1] for r in self._db.execute("PRAGMA table_info(trials)")]
        self._columns = tuple(c for c in COLUMN_NAMES if c not in added_later)
        if tuple(cols) != self._columns:
            raise UsageError(f"store {str(self.path)!r} has a trials table with other columns "
                             "than nnmass writes")

    def _init_schema(self) -> None:
        with self._transaction():
            for stmt in _CREATE:
                self._db.execute(stmt)
            row = self._db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif row[0].isdigit() and 1 <= int(row[0]) < SCHEMA_VERSION:
                self._upgrade(int(row[0]))
        self._check_schema()

    def _upgrade(self, version: int) -> None:
        """Append the columns later versions added (inside the open transaction)."""
        have = [r[1] for r in self._db.execute("PRAGMA table_info(trials)")]
        for later in range(version + 1, SCHEMA_VERSION + 1):
            name, kind = ADDED_IN[later]
            if name not in have:
                self._db.execute(f"ALTER TABLE trials ADD COLUMN {name} {kind}")
        self._db.execute("UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION),))

    def _transaction(self):
        return Transaction(self._db)

    @property
    def schema_version(self) -> int:
        with self._errors():
            return int(self._db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0])

    def has(self, key: str) -> bool:
        """Whether a row exists for ``key`` (any status)."""
        with self._errors():
            return self._db.execute("SELECT 1 FROM trials WHERE key = ?", (key,)).fetchone() is not None

    def done_keys(self) -> set[str]:
        """Keys of finished trials (status done or diverged): a resumed sweep skips them."""
        q = f"SELECT key FROM trials WHERE status IN ({', '.join('?' * len(FINISHED))})"
        with self._errors():
            return {r[0] for r in self._db.execute(q, FINISHED)}

    def put(self, row: dict) -> bool:
        """Store one trial in its own committed transaction.

        Returns True if the row was written, False if a finished row already holds
        the key (it is left untouched).
        """
        unknown = sorted(set(row) - set(COLUMN_NAMES))
        if unknown:
            raise ValueError(f"unknown trial column(s) {', '.join(unknown)}")
        missing = [c for c in _REQUIRED if row.get(c) is None]
        if missing:
            raise ValueError(f"trial row lacks {', '.join(missing)}")
        if row["status"] not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {row['status']!r}")
        values = tuple(row.get(c) for c in COLUMN_NAMES)
        with self._errors(), self._transaction():
            cur = self._db.execute(_UPSERT, values)
        return cur.rowcount > 0

    def trials(self, status: str | None = None, sweep: str | None = None) -> list[dict]:
        """Rows as dicts in the order they were first stored, optionally filtered."""
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if sweep is not None:
            where.append("sweep = ?")
            args.append(sweep)
        q = f"SELECT {', '.join(self._columns)} FROM trials"
        if where:
            q += " WHERE " + " AND ".join(where)
        q += " ORDER BY rowid"
        with self._errors():  # columns an older store lacks read as None
            return [{**dict.fromkeys(COLUMN_NAMES), **dict(zip(self._columns, r))}
                    for r in self._db.execute(q, args)]

    def __len__(self) -> int:
        with self._errors():
            return self._db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]

    def export_csv(self, path: str | Path, flag: str = "--csv") -> int:
        """Write every row as stored to a CSV file (empty cell for NULL); returns the row count.

        The file is replaced in one step (a failed write leaves it as it was), and may
        not be the store or one of its side files."""
        count = 0

        def write(tmp):
            nonlocal count
            rows = self.trials()
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=COLUMN_NAMES)
                writer.writeheader()
                writer.writerows(rows)
            count = len(rows)
        write_atomically(path, flag, write, protect=side_files(self.path))
        return count

    def export_parquet(self, path: str | Path, flag: str = "--parquet", altered: list | None = None) -> int:
        """Write the rows to a Parquet file with typed columns; returns the rows written.

        Rows altered by hand so that they no longer fit their columns (text in a
        number column, malformed JSON) are left out (:mod:`nnmass.store.rows`), and
        their ``(key, problem)`` pairs appended to ``altered`` when given; the file is
        replaced in one step, as by :meth:`export_csv`."""
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise UsageError("Parquet export needs pyarrow: pip install 'nnmass[parquet]'") from None
        types = {"TEXT": pa.string(), "INTEGER": pa.int64(), "REAL": pa.float64()}
        schema = pa.schema([(n, types[t]) for n, t in COLUMNS])
        count = 0

        def write(tmp):
            nonlocal count
            rows, skipped = split_rows(self.trials())
            if altered is not None:
                altered.extend(skipped)
            pq.write_table(pa.table({n: [r[n] for r in rows] for n in COLUMN_NAMES}, schema=schema), tmp)
            count = len(rows)
        write_atomically(path, flag, write, protect=side_files(self.path))
        return count



def row_json(obj) -> str:
    """Canonical JSON for the *_json columns (sorted keys, no spaces)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))
