"""The score store: one SQLite file, one row per (network, setting, proxy). Standard library only.

Schema (version 1)::

    scores(
      network     TEXT,  -- the network: an NB201 arch string (canonical form) or a MODEL string
      setting     TEXT,  -- canonical JSON of everything else the score depends on (space,
                         -- classes, input shape, inputs, batch size, seed); see ScoreSetting
      proxy       TEXT,  -- a name of nnmass.proxies
      value       REAL,  -- NULL where the proxy is undefined (nan) or failed
      seconds     REAL,  -- this proxy's share of the network's scoring time
      error       TEXT,  -- what went wrong when scoring raised; NULL otherwise
      finished_at TEXT,  -- UTC ISO-8601
      PRIMARY KEY (network, setting, proxy))
    meta(name TEXT PRIMARY KEY, value TEXT)   -- holds schema_version

The conventions of :mod:`nnmass.store`: WAL mode with ``synchronous=FULL``, and
every :meth:`ScoreStore.put` (the scores of one network) is its own committed
transaction, so a killed run (even ``kill -9``) keeps every network it finished and
a rerun computes only what is missing. A stored score is never rewritten; a row
with an ``error`` is replaced when the network is scored again.
"""
from __future__ import annotations

import math
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from ..errors import UsageError
from ..store.opening import ClosesOnExit, Transaction, check_store_file, check_writable, connect_for_writing, describe

SCHEMA_VERSION = 1
COLUMNS = ("network", "setting", "proxy", "value", "seconds", "error", "finished_at")

_CREATE = (
    "CREATE TABLE IF NOT EXISTS scores (network TEXT NOT NULL, setting TEXT NOT NULL, proxy TEXT NOT NULL, "
    "value REAL, seconds REAL, error TEXT, finished_at TEXT, PRIMARY KEY (network, setting, proxy))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)",
)
_UPSERT = (f"INSERT INTO scores ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           "ON CONFLICT(network, setting, proxy) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[3:]) + " WHERE scores.error IS NOT NULL")


class ScoreStore(ClosesOnExit):
    """A SQLite score store (schema in the module docstring).

    Args:
        path: the database file; created with its tables if missing.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        # The results store's checks: no folder, special or non-SQLite file, other program's
        # database, damaged file, read-only place or full disk is written into.
        exists = check_store_file(self.path, reading=False, what="score store")
        self._db = connect_for_writing(self.path, exists, frozenset({"scores", "meta"}), "score store")
        try:
            self._init_schema()
            check_writable(self._db)
        except sqlite3.Error as e:
            self._db.close()
            raise UsageError(describe(self.path, e)) from None
        except BaseException:
            self._db.close()
            raise

    def _init_schema(self) -> None:
        with Transaction(self._db) as db:
            for stmt in _CREATE:
                db.execute(stmt)
            row = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif row[0] != str(SCHEMA_VERSION):
                raise UsageError(f"score store {str(self.path)!r} has schema version {row[0]}; "
                                 f"this nnmass reads version {SCHEMA_VERSION}")
        cols = tuple(r[1] for r in self._db.execute("PRAGMA table_info(scores)"))
        if cols != COLUMNS:
            raise UsageError(f"score store {str(self.path)!r} has a scores table with other columns than "
                             "nnmass writes")

    def done(self, setting: str) -> dict[str, set[str]]:
        """network -> the proxies it has a stored score for (errors excluded), under ``setting``."""
        out: dict[str, set[str]] = {}
        for network, proxy in self._db.execute(
                "SELECT network, proxy FROM scores WHERE setting = ? AND error IS NULL", (setting,)):
            out.setdefault(network, set()).add(proxy)
        return out

    def put(self, network: str, setting: str, scores: dict[str, float], seconds: dict[str, float],
            error: str | None = None) -> int:
        """Store the scores of one network in one committed transaction; nan is stored as
        NULL. With ``error``, every named proxy gets a NULL value and the error text.
        Returns the number of rows written (a stored score is kept, not rewritten)."""
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        rows = [(network, setting, name, _real(value) if error is None else None,
                 float(seconds.get(name, 0.0)), error, now) for name, value in scores.items()]
        with Transaction(self._db) as db:
            return sum(db.execute(_UPSERT, row).rowcount for row in rows)

    def insert_rows(self, rows: list[tuple]) -> None:
        """Write whole rows (``COLUMNS`` order) in one transaction, replacing a stored row of
        the same key: for merges, which decide beforehand which row wins."""
        with Transaction(self._db) as db:
            db.executemany(f"INSERT OR REPLACE INTO scores ({', '.join(COLUMNS)}) "
                           f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)

    def scores(self, setting: str, networks: Iterable[str] | None = None) -> dict[str, dict[str, dict]]:
        """network -> proxy -> ``{"value", "seconds", "error"}`` (value nan where NULL)."""
        wanted = None if networks is None else set(networks)
        out: dict[str, dict[str, dict]] = {}
        for network, proxy, value, seconds, error in self._db.execute(
                "SELECT network, proxy, value, seconds, error FROM scores WHERE setting = ? ORDER BY rowid",
                (setting,)):
            if wanted is None or network in wanted:
                out.setdefault(network, {})[proxy] = {
                    "value": math.nan if value is None else float(value), "seconds": seconds, "error": error}
        return out



def _real(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
