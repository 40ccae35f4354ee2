"""NASLib's NAS-Bench-201 sample with published accuracies and zero-cost scores.

The packaged ``nb201_naslib.csv`` (see ``NB201_DATA.md`` for its source, licence
and units) lets proxies computed here be compared with NASLib's scores and with
trained accuracy, without torch and without downloading NAS-Bench-201.
"""
from __future__ import annotations

import csv
from importlib import resources

from ..errors import UsageError

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
"""Datasets of the sample, in file order."""

NASLIB_SCORES = ("flops", "params", "synflow", "grasp", "fisher", "grad_norm", "l2_norm",
                 "plain", "nwot", "epe_nas", "jacov", "snip")
"""NASLib's metrics; column ``naslib_<name>`` holds each one's score."""

COLUMNS = ("dataset", "arch", "op_indices", "naslib_idx", "val_accuracy") + tuple(
    f"naslib_{name}" for name in NASLIB_SCORES)
"""The CSV header."""

CSV_NAME = "nb201_naslib.csv"


def _float(text: str) -> float | None:
    return None if text == "" else float(text)


def _typed(row: dict) -> dict:
    """One CSV row with typed values: op_indices as a tuple of ints, numbers as floats."""
    out = {"dataset": row["dataset"], "arch": row["arch"],
           "op_indices": tuple(int(v) for v in row["op_indices"].split("-")),
           "naslib_idx": int(row["naslib_idx"])}
    out.update((name, _float(row[name])) for name in COLUMNS[4:])
    return out


def load_nb201_sample(dataset: str | None = None) -> list[dict]:
    """The sample's rows, for one dataset or all three.

    Each row has the keys of ``COLUMNS``; scores are floats (``-inf`` kept as
    published) and ``None`` where NASLib has no score.

    Raises:
        UsageError: ``dataset`` is not one of ``DATASETS``.
    """
    if dataset is not None and dataset not in DATASETS:
        raise UsageError(f"unknown NB201 dataset {str(dataset)[:80]!r}; valid: {', '.join(DATASETS)}")
    text = resources.files(__package__).joinpath(CSV_NAME).read_text()
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"{CSV_NAME}: unexpected header {reader.fieldnames}")
    return [_typed(row) for row in reader if dataset is None or row["dataset"] == dataset]
