"""NAS-Bench-201's validation accuracy of all 15,625 architectures, shipped as
package data (``data/nb201_full.csv``; source and licences in ``data/DATA.md``).

One row per architecture, in the order the nb201 space enumerates them::

    arch,cifar10,cifar100,ImageNet16-120

- ``arch``: the architecture's canonical NB201 string (``SearchSpace.format``);
- ``cifar10``: NB201's ``cifar10-valid``, trained on half of CIFAR-10's training set
  and evaluated on the other half, as NASLib's ``cifar10`` is;
- ``cifar100``, ``ImageNet16-120``: validation accuracy (%), 200 epochs.

``nnmass rank`` reads the file as it is: ``--arch-column arch --target TASK
--dataset TASK`` (the path: :func:`nb201_full_path`). Reading needs no torch.
"""
from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

from ..errors import UsageError
from ..validate import shown

CSV_NAME = "nb201_full.csv"

TASKS = ("cifar10", "cifar100", "ImageNet16-120")
"""The tasks of the table, as the nb201 space names them, in column order."""

COLUMNS = ("arch",) + TASKS
"""The CSV header."""

SOURCE_COLUMNS = ("cifar10_valid", "cifar100", "ImageNet16-120")
"""The accuracy columns of the published table, in the order of ``TASKS``."""


def nb201_full_path() -> Path:
    """The packaged CSV's path, e.g. for ``nnmass rank``."""
    return Path(str(resources.files(__package__).joinpath("data", CSV_NAME)))


def load_nb201_full(task: str | None = None) -> list[dict]:
    """The table's rows, for one task or all three, as ``samples.load_naslib_sample``
    gives a sample's: ``{"task", "arch", "val_accuracy"}``, task by task, each in the
    space's enumeration order.

    Raises:
        UsageError: ``task`` is not one of ``TASKS``.
    """
    if task is not None and task not in TASKS:
        raise UsageError(f"unknown NB201 task {shown(task)}; valid: {', '.join(TASKS)}")
    text = resources.files(__package__).joinpath("data", CSV_NAME).read_text()
    reader = csv.reader(text.splitlines())
    header = tuple(next(reader, ()))
    if header != COLUMNS:
        raise ValueError(f"{CSV_NAME}: unexpected header {list(header)}")
    rows = list(reader)
    out = []
    for column, name in enumerate(TASKS, start=1):
        if task is None or task == name:
            out.extend({"task": name, "arch": row[0], "val_accuracy": float(row[column])} for row in rows)
    return out
