"""The rows of a rank table as they stream in, kept in a few bytes each: the row's
network (one shared string per network), its target and its line, in compact arrays.
Nothing else of a row is kept: not the row, not its other columns, not its
architecture as written."""
from __future__ import annotations

import hashlib
from array import array

import numpy as np

from ..errors import UsageError
from ..validate import parse_number, shown
from .scoring import canonical_network

DATASET_COLUMN = "dataset"
TASK_COLUMN = "task"  # TransNAS-Bench-101's name for it, as in the shipped tables
WRITTEN_DIGEST_BYTES = 16  # 128 bits tell a table's architectures apart (a collision: ~n^2 / 2^129)


def dataset_column(header: list[str], space: str) -> str | None:
    """The column naming each row's dataset: ``dataset``, else, in a TransNAS-Bench-101
    space, ``task``; None where the table has neither."""
    if DATASET_COLUMN in header:
        return DATASET_COLUMN
    return TASK_COLUMN if space.startswith("tnb") and TASK_COLUMN in header else None


class TableRows:
    """The kept rows of a table: those of the chosen dataset, each architecture (as
    written) once. Repeats are judged on the architecture as written: equivalent
    architectures are separate rows with their own targets, which share one network
    and score. A repeat with another target is a conflict, unless ``conflicts`` is
    ``"mean"``; then its row's target is the mean of its rows' targets.

    The first bad value and the first conflict are kept as text, not raised, so that
    the caller can tell them after the problems of the table as a whole.

    Attributes:
        networks: each kept row's network.
        present: the ``dataset`` column's values in order of appearance (None without
            that column). In a TransNAS-Bench-101 space a ``task`` column serves where
            there is no ``dataset`` column.
        matching: rows read of the chosen dataset (all rows without one).
        duplicates: rows that repeated an architecture, counted once.
        bad_value: the first row's bad architecture or target, as a message.
        conflict: the first repeat with another target, as a message.
    """

    def __init__(self, where: str, header: list[str], arch_column: str, target: str, space: str,
                 dataset: str | None, canonical: bool, conflicts: str):
        self._where, self._arch_column, self._target = where, arch_column, target
        self._space, self._dataset, self._canonical, self._conflicts = space, dataset, canonical, conflicts
        self._column = dataset_column(header, space)
        self.present: dict[str, None] | None = {} if self._column else None
        self.networks: list[str] = []
        self._values = array("d")
        self._lines = array("q")  # each kept row's line, for a conflict's message
        self._shared: dict[str, str] = {}  # network -> its one string
        self._first: dict = {}  # architecture as written (its digest) -> its kept row
        self._repeats: dict[int, list[float]] = {}  # kept row -> its rows' targets, where repeated
        self._read = 0
        self.matching = 0
        self.duplicates = 0
        self.bad_value: str | None = None
        self.conflict: str | None = None

    def add(self, row: dict) -> None:
        """One row of the table (column -> text), the next in file order."""
        self._read += 1
        line = self._read + 1  # the header is line 1
        if self.present is not None:
            value = row[self._column]
            self.present.setdefault(value)
            if self._dataset is not None and value != self._dataset:
                return
        self.matching += 1
        if self.bad_value is not None:
            return  # the table is refused; only its datasets and row lengths are still checked
        try:
            written = canonical_network(row[self._arch_column], self._space, canonical=False)
        except UsageError as e:
            self.bad_value = f"table {self._where} line {line}, column {shown(self._arch_column)}: {e}"
            return
        try:
            network = canonical_network(written, self._space) if self._canonical else written
            value = parse_number(row[self._target], f"table {self._where} line {line}, column "
                                 f"{shown(self._target)}")
        except UsageError as e:
            self.bad_value = str(e)
            return
        network = self._shared.setdefault(network, network)
        # As written, the network is the architecture itself, and its string is kept anyway.
        key = network if not self._canonical else \
            hashlib.blake2b(written.encode(), digest_size=WRITTEN_DIGEST_BYTES).digest()
        j = self._first.setdefault(key, len(self.networks))
        if j == len(self.networks):
            self.networks.append(network)
            self._values.append(value)
            self._lines.append(line)
            return
        self.duplicates += 1
        first = self._values[j]
        if first != value and self._conflicts != "mean" and self.conflict is None:
            self.conflict = (f"table {self._where} lists architecture {shown(written)} twice with different "
                             f"targets: {first:g} (line {self._lines[j]}) and {value:g} (line {line}); keep one "
                             "row per architecture, or give --duplicates mean")
        self._repeats.setdefault(j, [first]).append(value)

    def targets(self) -> np.ndarray:
        """Each kept row's target: the mean of its rows' targets (one row: its own)."""
        out = np.frombuffer(self._values, dtype=float) + 0.0  # a copy; as sum([v]) / 1, -0.0 becomes 0.0
        for j, seen in self._repeats.items():
            out[j] = sum(seen) / len(seen)
        return out
