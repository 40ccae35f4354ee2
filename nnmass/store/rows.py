"""Trial rows as read back from a store, checked before anything computes with them.

nnmass writes every column with its declared type, but SQLite keeps whatever a
hand edit puts there: text in a number column, malformed JSON. Such a row is set
aside and counted, never fed to a fit, a figure or a typed export, and the
command says how many it skipped (``fit``, ``report``, ``export --parquet``;
``export --csv`` copies every row as stored). The store itself is not changed.
Standard library only.
"""
from __future__ import annotations

import json
import sys

from ..validate import shown
from .columns import COLUMNS, STATUSES

# JSON columns and the type their top level must have.
JSON_COLUMNS = {"spec_json": dict, "point_json": dict, "train_json": dict, "history_json": list}


def _short(value) -> str:
    return shown(value)[:40]


def row_problem(row: dict) -> str | None:
    """Why ``row`` does not fit the store's columns, or None when it does."""
    if not isinstance(row.get("key"), str) or row.get("status") not in STATUSES:
        return f"key {_short(row.get('key'))} with status {_short(row.get('status'))}"
    for name, kind in COLUMNS:
        value = row.get(name)
        if value is None:
            continue
        if kind == "TEXT" and not isinstance(value, str):
            return f"{name} holds {_short(value)}, not text"
        if kind == "INTEGER" and (isinstance(value, bool) or not isinstance(value, int)):
            return f"{name} holds {_short(value)}, not an integer"
        if kind == "REAL" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"{name} holds {_short(value)}, not a number"
    for name, container in JSON_COLUMNS.items():
        text = row.get(name)
        if text is None:
            continue
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return f"{name} is not valid JSON"
        if not isinstance(value, container) or (container is list and not all(isinstance(v, dict) for v in value)):
            return f"{name} is not a JSON {'object' if container is dict else 'list of objects'}"
    return None


def split_rows(rows: list[dict]) -> tuple[list[dict], list[tuple[str, str]]]:
    """``(usable rows, [(key, problem), ...] of the altered ones)``, in store order."""
    good, altered = [], []
    for row in rows:
        problem = row_problem(row)
        if problem is None:
            good.append(row)
        else:
            altered.append((shown(row.get("key"))[:24], problem))
    return good, altered


def note_altered(store, altered: list[tuple[str, str]]) -> None:
    """One line on stderr saying which altered rows were skipped."""
    if altered:
        key, problem = altered[0]
        more = f" and {len(altered) - 1} more" if len(altered) > 1 else ""
        print(f"nnmass: note: skipped {len(altered)} altered row(s) of store {str(store)!r} "
              f"(key {key}: {problem}{more}); the store is unchanged", file=sys.stderr)
