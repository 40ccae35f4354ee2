"""The columns of the results store's ``trials`` table and the statuses a trial ends
in: what the store writes (:mod:`.results`) and what a read row is checked against
(:mod:`.rows`). Standard library only."""
from __future__ import annotations

SCHEMA_VERSION = 2
STATUSES = ("done", "diverged", "failed")
FINISHED = ("done", "diverged")  # a resumed sweep does not run these again

# (column, SQLite type); the order is the export order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "TEXT"), ("sweep", "TEXT"), ("status", "TEXT"), ("family", "TEXT"), ("dataset", "TEXT"),
    ("seed", "INTEGER"), ("spec_json", "TEXT"), ("point_json", "TEXT"), ("train_json", "TEXT"),
    ("nn_mass", "REAL"), ("params", "INTEGER"), ("macs", "INTEGER"), ("ldi_mean", "REAL"),
    ("ldi_std", "REAL"), ("ldi_prop2_mean", "REAL"), ("ldi_prop2_std", "REAL"), ("test_acc", "REAL"), ("train_acc", "REAL"), ("history_json", "TEXT"),
    ("depth", "INTEGER"), ("width", "INTEGER"), ("seconds", "REAL"), ("error", "TEXT"),
    ("finished_at", "TEXT"), ("proxies_json", "TEXT"),
)
ADDED_IN = {2: ("proxies_json", "TEXT")}  # version -> the column it appended
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)
