"""The results store of sweeps: one SQLite file, one row per trial. Standard library only.

:mod:`.results` is the store itself (resumable writes, exports) over the columns of
:mod:`.columns`; :mod:`.opening`
opens a file safely (read-only for readers, checked before a sweep writes), and
:mod:`.rows` sets aside rows someone altered by hand.
"""
from .columns import COLUMN_NAMES, COLUMNS, FINISHED, SCHEMA_VERSION, STATUSES
from .results import ResultStore, row_json

__all__ = ["COLUMNS", "COLUMN_NAMES", "FINISHED", "SCHEMA_VERSION", "STATUSES", "ResultStore", "row_json"]
