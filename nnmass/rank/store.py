"""The score store: one SQLite file, one row per (network, setting, proxy). Standard library only.

Schema (version 2)::

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
    claims(network, setting, run, host, pid, claimed_at,  -- networks a run is scoring now
      PRIMARY KEY (network, setting))

Version 1 stores (without ``claims``) are upgraded in place when opened.

Two runs on one store share the work: before scoring a network a run claims it, and
a network claimed by another live run is left to that run and looked at again at the
end. A claim lapses when its process is gone (same host) or after
:data:`CLAIM_SECONDS`; it is removed in the transaction that stores the scores.

A row altered by hand (text in ``value`` or ``seconds``) is read as missing: the
network is scored again and the row replaced, and :attr:`ScoreStore.altered` names it.

The conventions of :mod:`nnmass.store`: WAL mode with ``synchronous=FULL``, and
every :meth:`ScoreStore.put` (the scores of one network) is its own committed
transaction, so a killed run (even ``kill -9``) keeps every network it finished and
a rerun computes only what is missing. A stored score is never rewritten; a row
with an ``error`` is replaced when the network is scored again.
"""
from __future__ import annotations

import math
import os
import socket
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Collection, Iterable

from ..errors import UsageError
from ..store.opening import ClosesOnExit, Transaction, check_store_file, check_writable, connect_for_writing, describe

SCHEMA_VERSION = 2
CLAIM_SECONDS = 3600.0  # a claim older than this is taken to belong to a run that hangs or died elsewhere
TABLES = frozenset({"scores", "meta", "claims"})
COLUMNS = ("network", "setting", "proxy", "value", "seconds", "error", "finished_at")

_CREATE = (
    "CREATE TABLE IF NOT EXISTS scores (network TEXT NOT NULL, setting TEXT NOT NULL, proxy TEXT NOT NULL, "
    "value REAL, seconds REAL, error TEXT, finished_at TEXT, PRIMARY KEY (network, setting, proxy))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)",
    "CREATE TABLE IF NOT EXISTS claims (network TEXT NOT NULL, setting TEXT NOT NULL, run TEXT NOT NULL, "
    "host TEXT, pid INTEGER, claimed_at REAL, PRIMARY KEY (network, setting))",
)
# A value or seconds that is neither a number nor NULL was altered by hand.
_ALTERED = ("(typeof(value) NOT IN ('real', 'integer', 'null') "
            "OR typeof(seconds) NOT IN ('real', 'integer', 'null'))")
_UPSERT = (f"INSERT INTO scores ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           "ON CONFLICT(network, setting, proxy) DO UPDATE SET "
           + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[3:])
           + " WHERE scores.error IS NOT NULL OR " + _ALTERED.replace("value", "scores.value")
           .replace("seconds", "scores.seconds"))


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
        self.altered: list[tuple[str, str]] = []  # (network, proxy) of rows altered by hand, as read
        self._db = connect_for_writing(self.path, exists, TABLES, "score store")
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
            if row is not None and row[0] not in ("1", str(SCHEMA_VERSION)):
                raise UsageError(f"score store {str(self.path)!r} has schema version {row[0]}; "
                                 f"this nnmass reads versions 1 to {SCHEMA_VERSION}")
            # Version 1 lacked only the claims table, created above.
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        cols = tuple(r[1] for r in self._db.execute("PRAGMA table_info(scores)"))
        if cols != COLUMNS:
            raise UsageError(f"score store {str(self.path)!r} has a scores table with other columns than "
                             "nnmass writes")

    def done(self, setting: str, networks: set[str] | None = None) -> dict[str, frozenset[str]]:
        """network -> the proxies it has a stored score for (errors excluded), under
        ``setting``; with ``networks``, of those networks only (a store may hold far more).

        Networks with the same proxies share one set (a whole space's networks mostly
        have all or none), so the answer costs little more than a dict entry a network."""
        bit: dict[str, int] = {}  # proxy -> its bit in a network's mask
        masks: dict[str, int] = {}
        for network, proxy in self._db.execute(
                f"SELECT network, proxy FROM scores WHERE setting = ? AND error IS NULL AND NOT {_ALTERED}",
                (setting,)):
            if networks is None or network in networks:
                masks[network] = masks.get(network, 0) | bit.setdefault(proxy, 1 << len(bit))
        shared: dict[int, frozenset[str]] = {}
        for mask in set(masks.values()):
            shared[mask] = frozenset(proxy for proxy, b in bit.items() if mask & b)
        return {network: shared[mask] for network, mask in masks.items()}

    def put(self, network: str, setting: str, scores: dict[str, float], seconds: dict[str, float],
            error: str | None = None, run: str | None = None) -> int:
        """Store the scores of one network in one committed transaction; nan is stored as
        NULL. With ``error``, every named proxy gets a NULL value and the error text.
        With ``run``, that run's claim on the network goes in the same transaction.
        Returns the number of rows written (a stored score is kept, not rewritten)."""
        now = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        rows = [(network, setting, name, _real(value) if error is None else None,
                 float(seconds.get(name, 0.0)), error, now) for name, value in scores.items()]
        with Transaction(self._db) as db:
            written = sum(db.execute(_UPSERT, row).rowcount for row in rows)
            if run is not None:
                db.execute("DELETE FROM claims WHERE network = ? AND setting = ? AND run = ?", (network, setting, run))
            return written

    def claim(self, network: str, setting: str, run: str, names: Iterable[str]) -> list[str] | None:
        """Claim ``network`` for ``run`` unless another live run holds it. Returns the
        named proxies it still lacks (claimed only if there are any), or None while
        another run holds it."""
        with Transaction(self._db) as db:
            held = db.execute("SELECT run, host, pid, claimed_at FROM claims WHERE network = ? AND setting = ?",
                              (network, setting)).fetchone()
            if held is not None and held[0] != run and claim_is_live(*held[1:]):
                return None
            have = {r[0] for r in db.execute(
                f"SELECT proxy FROM scores WHERE network = ? AND setting = ? AND error IS NULL AND NOT {_ALTERED}",
                (network, setting))}
            missing = [n for n in names if n not in have]  # another run may have just stored them
            if missing:
                db.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?)",
                           (network, setting, run, socket.gethostname(), os.getpid(), time.time()))
            return missing

    def claimed_elsewhere(self, network: str, setting: str, run: str) -> bool:
        """Whether another live run holds a claim on ``network``."""
        held = self._db.execute("SELECT run, host, pid, claimed_at FROM claims WHERE network = ? AND setting = ?",
                                (network, setting)).fetchone()
        return held is not None and held[0] != run and claim_is_live(*held[1:])

    def release(self, run: str) -> None:
        """Drop every claim ``run`` still holds (a run that stops early)."""
        with Transaction(self._db) as db:
            db.execute("DELETE FROM claims WHERE run = ?", (run,))

    def altered_rows(self, setting: str) -> list[tuple[str, str]]:
        """(network, proxy) of the rows under ``setting`` altered by hand; they read as missing."""
        return self._db.execute(f"SELECT network, proxy FROM scores WHERE setting = ? AND {_ALTERED}",
                                (setting,)).fetchall()

    def settled(self, setting: str, networks: set[str] | None = None) -> dict[str, set[str]]:
        """network -> the proxies with a stored row, a score or an error, under ``setting``;
        with ``networks``, of those networks only."""
        out: dict[str, set[str]] = {}
        for network, proxy in self._db.execute(
                f"SELECT network, proxy FROM scores WHERE setting = ? AND NOT {_ALTERED}", (setting,)):
            if networks is None or network in networks:
                out.setdefault(network, set()).add(proxy)
        return out

    def insert_rows(self, rows: list[tuple]) -> None:
        """Write whole rows (``COLUMNS`` order) in one transaction, replacing a stored row of
        the same key: for merges, which decide beforehand which row wins."""
        with Transaction(self._db) as db:
            db.executemany(f"INSERT OR REPLACE INTO scores ({', '.join(COLUMNS)}) "
                           f"VALUES ({', '.join('?' * len(COLUMNS))})", rows)

    def scores(self, setting: str, networks: Iterable[str] | None = None) -> dict[str, dict[str, dict]]:
        """network -> proxy -> ``{"value", "seconds", "error"}`` (value nan where NULL)."""
        out: dict[str, dict[str, dict]] = {}
        for network, proxy, value, seconds, error in self.score_rows(setting, networks):
            out.setdefault(network, {})[proxy] = {"value": value, "seconds": seconds, "error": error}
        return out

    def score_rows(self, setting: str, networks: Collection[str] | None = None):
        """Each stored score of ``setting`` (of ``networks`` only, if given), one at a time,
        in the order stored: ``(network, proxy, value, seconds, error)``, value nan where
        NULL. Rows altered by hand (text where a number belongs) are left out and listed in
        ``self.altered`` once the rows are read. Nothing is held but the current row, so
        reading a whole space's scores costs no memory of its own."""
        wanted = networks if networks is None or isinstance(networks, (set, frozenset, dict)) else set(networks)
        self.altered = []
        for network, proxy, value, seconds, error in self._db.execute(
                "SELECT network, proxy, value, seconds, error FROM scores WHERE setting = ? ORDER BY rowid",
                (setting,)):
            if wanted is None or network in wanted:
                if not all(v is None or isinstance(v, (int, float)) for v in (value, seconds)):
                    self.altered.append((network, proxy))  # read as missing
                    continue
                yield network, proxy, math.nan if value is None else float(value), seconds, error



def run_id() -> str:
    """This run's name in claims: host, process and start time (unique, and no random draw)."""
    return f"{socket.gethostname()}:{os.getpid()}:{time.time_ns()}"


def claim_is_live(host: str | None, pid: int | None, claimed_at: float | None) -> bool:
    """Whether a claim may still be worked on: recent, and on this host its process exists."""
    if not isinstance(claimed_at, (int, float)) or time.time() - claimed_at > CLAIM_SECONDS:
        return False
    if host != socket.gethostname() or not isinstance(pid, int):
        return True  # another machine: only the age tells
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _real(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
