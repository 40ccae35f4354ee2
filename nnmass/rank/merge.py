"""Merging score stores: the SLURM job-array convention of one store per shard, then
one merge. Lossless: every score of every input lands in the output once.

A score is keyed by (network, setting, proxy). Two inputs holding the same key with the
same value (or both undefined) are one score; a scored row replaces a row that only
records a failure; two different values of one key are a conflict, and the merge is
refused before anything is written. Stores of different score-store versions are
refused. No input is ever opened for writing. The output is built in a temporary file
beside it (starting from a copy of the output, if it exists) and renamed over it in
one step, so a failed merge leaves it as it was.
"""
from __future__ import annotations

import math
import os
import sqlite3
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

from ..errors import UsageError
from ..store.opening import check_store_file, connect_readonly, describe, side_files
from ..validate import shown
from .store import COLUMNS, SCHEMA_VERSION, ScoreStore

Key = tuple[str, str, str]


@dataclass(frozen=True)
class MergeSummary:
    """What a merge did."""

    inputs: int
    rows_read: int
    scores: int  # distinct (network, setting, proxy) keys in the output
    added: int  # keys the output did not hold before
    duplicates: int  # rows that repeated a score already seen (same value)
    superseded_failures: int  # failure rows replaced by a score

    def to_dict(self) -> dict:
        return asdict(self)


def _read(path: Path) -> list[tuple]:
    check_store_file(path, reading=True, what="score store")
    try:
        db = connect_readonly(path)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "scores" not in tables or "meta" not in tables:
                raise UsageError(f"{shown(str(path))} is not an nnmass score store (no scores table)")
            version = db.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
            if version is None or version[0] != str(SCHEMA_VERSION):
                raise UsageError(f"score store {shown(str(path))} has schema version "
                                 f"{version[0] if version else 'none'}; this nnmass merges version {SCHEMA_VERSION}")
            return list(db.execute(f"SELECT {', '.join(COLUMNS)} FROM scores ORDER BY rowid"))
        finally:
            db.close()
    except sqlite3.Error as e:
        raise UsageError(describe(path, e)) from None


def _same(a, b) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and float(a) == float(b))


def _combine(rows_by_store: Sequence[tuple[Path, list[tuple]]]) -> tuple[dict[Key, tuple], int, int]:
    merged: dict[Key, tuple] = {}
    duplicates = superseded = 0
    origin: dict[Key, Path] = {}
    for path, rows in rows_by_store:
        for row in rows:
            key = row[:3]
            old = merged.get(key)
            if old is None:
                merged[key], origin[key] = row, path
            elif old[5] is not None and row[5] is None:  # a score replaces a recorded failure
                merged[key], origin[key] = row, path
                superseded += 1
            elif row[5] is not None or _same(old[3], row[3]):
                duplicates += 1
            else:
                raise UsageError(
                    f"conflicting scores: {shown(key[2])} of network {shown(key[0])} is {old[3]!r} in "
                    f"{shown(str(origin[key]))} and {row[3]!r} in {shown(str(path))} under the same setting; "
                    "nothing was written")
    return merged, duplicates, superseded


def merge_stores(into: str | Path, inputs: Sequence[str | Path]) -> MergeSummary:
    """Merge the score stores ``inputs`` into ``into`` (created if missing).

    Raises:
        UsageError: an input that is the output or repeats, an unreadable or foreign
            store, a version other than this nnmass's, conflicting values; one line.
    """
    into = Path(into)
    if not inputs:
        raise UsageError("merge needs at least one input store")
    real = [Path(os.path.realpath(p)) for p in inputs]
    if len(set(real)) != len(real):
        raise UsageError("an input store is named twice")
    out_files = {Path(os.path.realpath(f)) for f in side_files(into)}
    for path, r in zip(inputs, real):
        if r in out_files:
            raise UsageError(f"input {shown(str(path))} is the output store; merge into a new file")
    stores = [(Path(p), _read(Path(p))) for p in inputs]
    exists = check_store_file(into, reading=False, what="score store")
    before = _read(into) if exists else []
    merged, duplicates, superseded = _combine([(into, before)] + stores)
    temp = Path(tempfile.mkstemp(prefix=f".{into.name}.", suffix=".merging", dir=into.parent)[1])
    try:
        temp.unlink()  # ScoreStore creates the file and its tables
        if exists:
            src = connect_readonly(into)
            dst = sqlite3.connect(temp)
            try:
                src.backup(dst)  # a consistent copy, pending WAL writes included
            finally:
                src.close()
                dst.close()
        with ScoreStore(temp) as store:
            store.insert_rows([row for key, row in merged.items()])
        os.replace(temp, into)
    except sqlite3.Error as e:
        raise UsageError(describe(into, e)) from None
    finally:
        for f in side_files(temp):
            if f.exists():
                f.unlink()
    return MergeSummary(inputs=len(inputs), rows_read=sum(len(rows) for _, rows in stores), scores=len(merged),
                        added=len(merged) - len({r[:3] for r in before}), duplicates=duplicates,
                        superseded_failures=superseded)
