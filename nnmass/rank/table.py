"""Reading the table ``nnmass rank`` ranks: one row per architecture, with a column
naming it and a column holding its measured accuracy. Every problem is one line."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..files.reading import MAX_TABLE_BYTES
from ..files.text_lines import TextLines
from ..validate import shown
from .table_rows import TableRows


@dataclass
class RankTable:
    """The rows to rank, in file order.

    Attributes:
        networks: each row's network, canonical (see ``canonical_network``); rows of
            one network share one string.
        target: each row's target value.
        rows: each row as read (all columns), for extra columns, where the caller keeps
            them (the studies' NASLib columns); :func:`read_table` keeps none, so that
            a table costs the same few bytes a row however many columns it has.
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
        return RankTable([self.networks[i] for i in index], self.target[index],
                         [self.rows[i] for i in index] if self.rows else [], self.dataset, self.source,
                         self.duplicates)


def read_table(path: str | Path, arch_column: str, target: str, *, space: str = "nb201",
               dataset: str | None = None, canonical: bool = True, conflicts: str = "refuse") -> RankTable:
    """Read and check a CSV table (header row, comma-separated), one row at a time.

    Only each kept row's network (one shared string per network) and its target stay
    in memory, so a table of the whole space costs a few bytes a row. Problems are
    told in the order of a reader that read every row first: the file as a whole
    (size, encoding), its header and row lengths, the datasets, then the first bad
    value, then the first conflicting repeat.

    Args:
        arch_column: the column naming each architecture (the space's strings, in any of
            its forms, with a search space; else a MODEL string).
        target: the column of measured accuracies (numbers).
        conflicts: rows of one architecture with different targets are refused
            (``"refuse"``) or become one row with their mean target (``"mean"``; NB101's
            raw specs that prune to one cell are such rows in NASLib's sample).
        canonical: store each architecture under its space's canonical key (the default;
            see ``canonical_network``), or as written.
        dataset: keep only the rows whose ``dataset`` column (in TransNAS-Bench-101,
            else its ``task`` column) has this value (a table without one is taken to
            be on it). Where the column holds several
            values, one must be chosen.

    Raises:
        UsageError: an unreadable file, a missing column, a bad value (with its line).
    """
    where = repr(str(path))
    with TextLines(path, "table", MAX_TABLE_BYTES) as lines:
        reader = csv.DictReader(lines)  # one row at a time; none is kept
        try:
            header = reader.fieldnames or []
            problem = _header_problem(header, where, arch_column, target)
            if problem:
                lines.check_rest()
                raise UsageError(problem)
            kept = TableRows(where, header, arch_column, target, space, dataset, canonical, conflicts)
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    lines.check_rest()
                    raise UsageError(f"table {where} line {reader.line_num}: {len(header)} columns expected, "
                                     f"got a row of another length")
                kept.add(row)
        except csv.Error as e:
            line = reader.line_num
            lines.check_rest()
            raise UsageError(f"table {where} line {line} is not valid CSV: {e}") from None
    chosen = dataset
    if space == "model" and dataset is not None and kept.present is None:
        raise UsageError(f"--dataset keeps the rows of a 'dataset' column, and table {where} has none; a model "
                         "table's inputs come from --inputs")
    if kept.present is not None:
        present = list(kept.present)
        if dataset is not None:
            if dataset not in kept.present:
                raise UsageError(f"table {where} has no rows of dataset {shown(dataset)}; it has: "
                                 + shown(", ".join(present))[1:-1])
        elif len(present) > 1:
            raise UsageError(f"table {where} mixes datasets {shown(', '.join(present))[1:-1]}: choose one "
                             "with --dataset NAME")
        elif present:
            chosen = present[0]
    if not kept.matching:
        raise UsageError(f"table {where} has no rows")
    if space != "model" and chosen is not None:
        from ..spaces import get_space
        tasks = get_space(space).tasks
        if chosen not in tasks:
            raise UsageError(f"{space} dataset {shown(chosen)} is not one of {', '.join(tasks)}")
    for problem in (kept.bad_value, kept.conflict):
        if problem:
            raise UsageError(problem)
    return RankTable(kept.networks, kept.targets(), [], chosen, str(path), kept.duplicates)


def _header_problem(header: list[str], where: str, arch_column: str, target: str) -> str | None:
    if not header:
        return f"table {where} is empty; it needs a header row and one row per architecture"
    twice = next((c for i, c in enumerate(header) if c in header[:i]), None)
    if twice is not None:  # csv.DictReader would keep the last one silently
        return f"table {where} names column {shown(twice)} twice in its header; give each column one name"
    for flag, column in (("--arch-column", arch_column), ("--target", target)):
        if column not in header:
            return (f"table {where} has no column {shown(column)} ({flag}); its columns: "
                    + shown(", ".join(header))[1:-1])
    return None


def shard_of(network: str, shards: int, seed: int = 0) -> int:
    """The shard (0..shards-1) a network belongs to: a hash of the seed and the network's
    canonical string, so the partition is fixed, the same in every process and machine,
    and every row of one network lands in one shard."""
    import hashlib
    digest = hashlib.sha256(f"{seed}:{network}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def in_shard(networks, shard: tuple[int, int], seed: int = 0) -> list[int]:
    """The indices of ``networks`` that shard ``(K, N)`` holds (:func:`shard_of`)."""
    k, n = shard
    return [i for i, net in enumerate(networks) if shard_of(net, n, seed) == k]


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
