"""Reading the table ``nnmass rank`` ranks: one row per architecture, with a column
naming it and a column holding its measured accuracy. Every problem is one line."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..files.reading import MAX_TABLE_BYTES, read_text_file
from ..validate import parse_number, shown
from .scoring import canonical_network

DATASET_COLUMN = "dataset"


@dataclass
class RankTable:
    """The rows to rank, in file order.

    Attributes:
        networks: each row's network, canonical (see ``canonical_network``).
        target: each row's target value.
        rows: each row as read (all columns, text), for extra columns.
        dataset: the rows' dataset (a ``dataset`` column's one value, or the one
            chosen), or None.
        source: the file.
        duplicates: identical repeated rows left out by :func:`read_table`.
    """

    networks: list[str]
    target: np.ndarray
    rows: list[dict] = field(default_factory=list)
    dataset: str | None = None
    source: str = ""
    duplicates: int = 0  # rows read that repeated an architecture and its target, counted once

    def __len__(self) -> int:
        return len(self.networks)

    def subset(self, index) -> "RankTable":
        index = list(index)
        return RankTable([self.networks[i] for i in index], self.target[index], [self.rows[i] for i in index],
                         self.dataset, self.source, self.duplicates)


def read_table(path: str | Path, arch_column: str, target: str, *, space: str = "nb201",
               dataset: str | None = None, canonical: bool = True, conflicts: str = "refuse") -> RankTable:
    """Read and check a CSV table (header row, comma-separated).

    Args:
        arch_column: the column naming each architecture (the space's strings, in any of
            its forms, with a search space; else a MODEL string).
        target: the column of measured accuracies (numbers).
        conflicts: rows of one architecture with different targets are refused
            (``"refuse"``) or become one row with their mean target (``"mean"``; NB101's
            raw specs that prune to one cell are such rows in NASLib's sample).
        canonical: store each architecture under its space's canonical key (the default;
            see ``canonical_network``), or as written.
        dataset: keep only the rows whose ``dataset`` column has this value (a table
            without that column is taken to be on it). Where the column holds several
            values, one must be chosen.

    Raises:
        UsageError: an unreadable file, a missing column, a bad value (with its line).
    """
    where = repr(str(path))
    text = read_text_file(path, "table", MAX_TABLE_BYTES).removeprefix("\ufeff")  # a spreadsheet's BOM
    reader = csv.DictReader(text.splitlines())
    try:
        header = reader.fieldnames or []
        if not header:
            raise UsageError(f"table {where} is empty; it needs a header row and one row per architecture")
        twice = next((c for i, c in enumerate(header) if c in header[:i]), None)
        if twice is not None:  # csv.DictReader would keep the last one silently
            raise UsageError(f"table {where} names column {shown(twice)} twice in its header; give each column "
                             "one name")
        for flag, column in (("--arch-column", arch_column), ("--target", target)):
            if column not in header:
                raise UsageError(f"table {where} has no column {shown(column)} ({flag}); its columns: "
                                 + shown(", ".join(header))[1:-1])
        rows = []
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise UsageError(f"table {where} line {reader.line_num}: {len(header)} columns expected, "
                                 f"got a row of another length")
            rows.append(row)
    except csv.Error as e:
        raise UsageError(f"table {where} line {reader.line_num} is not valid CSV: {e}") from None
    lines = list(range(2, 2 + len(rows)))
    chosen = dataset
    if DATASET_COLUMN in header:
        present = list(dict.fromkeys(r[DATASET_COLUMN] for r in rows))
        if dataset is not None:
            keep = [i for i, r in enumerate(rows) if r[DATASET_COLUMN] == dataset]
            if not keep:
                raise UsageError(f"table {where} has no rows of dataset {shown(dataset)}; it has: "
                                 + shown(", ".join(present))[1:-1])
            rows, lines = [rows[i] for i in keep], [lines[i] for i in keep]
        elif len(present) > 1:
            raise UsageError(f"table {where} mixes datasets {shown(', '.join(present))[1:-1]}: choose one "
                             "with --dataset NAME")
        elif present:
            chosen = present[0]
    if not rows:
        raise UsageError(f"table {where} has no rows")
    if space != "model" and chosen is not None:
        from ..spaces import get_space
        tasks = get_space(space).tasks
        if chosen not in tasks:
            raise UsageError(f"{space} dataset {shown(chosen)} is not one of {', '.join(tasks)}")
    written, networks, values = [], [], []
    for line, row in zip(lines, rows):
        try:
            written.append(canonical_network(row[arch_column], space, canonical=False))
        except UsageError as e:
            raise UsageError(f"table {where} line {line}, column {shown(arch_column)}: {e}") from None
        networks.append(canonical_network(written[-1], space) if canonical else written[-1])
        values.append(parse_number(row[target], f"table {where} line {line}, column {shown(target)}"))
    # Repeats are judged on the architecture as written: equivalent architectures are
    # separate rows with their own targets, which share one network and score.
    keep, duplicates = _distinct_rows(written, values, lines, where, conflicts)
    return RankTable([networks[i] for i in keep], np.array([values[i] for i in keep], dtype=float),
                     [rows[i] for i in keep], chosen, str(path), duplicates)


def _distinct_rows(networks: list[str], values: list[float], lines: list[int], where: str,
                   conflicts: str = "refuse"):
    """The rows to keep (each architecture's first) and how many repeats were folded into
    it. Two rows of one architecture with different targets are one line, or, with
    ``conflicts="mean"``, one row holding the mean of their targets (``values`` is
    updated in place)."""
    first: dict[str, int] = {}
    keep, duplicates, members = [], 0, {}
    for i, network in enumerate(networks):
        j = first.setdefault(network, i)
        if j == i:
            keep.append(i)
            members[i] = [values[i]]
            continue
        duplicates += 1
        if values[j] != values[i] and conflicts != "mean":
            raise UsageError(f"table {where} lists architecture {shown(network)} twice with different targets: "
                             f"{values[j]:g} (line {lines[j]}) and {values[i]:g} (line {lines[i]}); keep one row "
                             "per architecture, or give --duplicates mean")
        members[j].append(values[i])
    for j, seen in members.items():
        values[j] = sum(seen) / len(seen)
    return keep, duplicates


def shard_of(network: str, shards: int, seed: int = 0) -> int:
    """The shard (0..shards-1) a network belongs to: a hash of the seed and the network's
    canonical string, so the partition is fixed, the same in every process and machine,
    and every row of one network lands in one shard."""
    import hashlib
    digest = hashlib.sha256(f"{seed}:{network}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``0 <= K < N`` (SLURM's ``$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``
    for an array numbered from 0)."""
    from ..validate import parse_int
    k, sep, n = str(text).partition("/")
    if not sep:
        raise UsageError(f"--shard must be K/N, shard K of N counted from 0 (e.g. 0/4), got {shown(text)}")
    count = parse_int(n, "--shard's N", 1, 100_000)
    return parse_int(k, "--shard's K", 0, count - 1), count


def subsample(n: int, limit: int | None, seed: int = 0) -> list[int]:
    """The rows ``--limit`` keeps: the first ``limit`` of a ``PCG64(seed)`` permutation of
    ``range(n)``, in table order. A larger limit keeps a superset, so its scores extend
    a smaller run's."""
    if limit is None or limit >= n:
        return list(range(n))
    order = np.random.Generator(np.random.PCG64(seed)).permutation(n)
    return sorted(int(i) for i in order[:limit])
