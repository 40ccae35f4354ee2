"""NASLib's published zero-cost samples of each space, shipped as package data.

Each space's sample is one CSV in ``nnmass/spaces/data/`` (sources, licences and
units: ``data/DATA.md``), one row per architecture and task::

    task,arch,naslib_key,val_accuracy,naslib_params,naslib_flops,naslib_synflow,...

- ``arch``: the architecture in the space's canonical string (``SearchSpace.format``);
- ``naslib_key``: NASLib's encoding, as the keys of its JSON files;
- ``val_accuracy``: the task's validation metric as NASLib stores it (see DATA.md for
  each task's metric and direction);
- ``naslib_<name>``: NASLib's value of each of its metrics (params and flops in
  millions), empty where NASLib has none.

Reading needs no torch.
"""
from __future__ import annotations

import csv
import math
from importlib import resources

from ..errors import UsageError
from ..validate import shown

SAMPLE_FILES = {"nb101": "nb101_naslib.csv", "nb301": "nb301_naslib.csv",
                "tnb-micro": "tnb_micro_naslib.csv", "tnb-macro": "tnb_macro_naslib.csv"}
"""Space name -> its sample's file in ``nnmass/spaces/data``."""

FIXED_COLUMNS = ("task", "arch", "naslib_key", "val_accuracy")
"""The first columns of every sample file; the rest are ``naslib_<metric>``."""


def _read(space: str) -> tuple[list[str], list[dict]]:
    if space == "darts":
        space = "nb301"
    if space not in SAMPLE_FILES:
        raise UsageError(f"no NASLib sample ships for space {shown(space)}; samples: {', '.join(SAMPLE_FILES)}")
    text = resources.files(__package__).joinpath("data", SAMPLE_FILES[space]).read_text()
    reader = csv.DictReader(text.splitlines())
    header = list(reader.fieldnames or ())
    if tuple(header[:len(FIXED_COLUMNS)]) != FIXED_COLUMNS or not all(
            h.startswith("naslib_") for h in header[len(FIXED_COLUMNS):]):
        raise ValueError(f"{SAMPLE_FILES[space]}: unexpected header {header}")
    return header, list(reader)


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


def sample_tasks(space: str) -> list[str]:
    """The tasks of a space's sample, in file order."""
    _, rows = _read(space)
    return list(dict.fromkeys(r["task"] for r in rows))


def load_naslib_sample(space: str, task: str | None = None) -> list[dict]:
    """The rows of a space's sample, for one task or all.

    Each row: ``task``, ``arch``, ``naslib_key`` (text), ``val_accuracy`` (float) and one
    float (or None where NASLib has none) per ``naslib_<metric>`` column.

    Raises:
        UsageError: no sample for ``space``, or ``task`` not in it.
    """
    header, rows = _read(space)
    if task is not None and not any(r["task"] == task for r in rows):
        raise UsageError(f"the {space} sample has no task {shown(task)}; tasks: {', '.join(sample_tasks(space))}")
    out = []
    for r in rows:
        if task is not None and r["task"] != task:
            continue
        row = {k: r[k] for k in FIXED_COLUMNS[:3]}
        row["val_accuracy"] = float(r["val_accuracy"])
        row.update((h, _number(r[h])) for h in header[len(FIXED_COLUMNS):])
        out.append(row)
    return out


def write_sample(path, rows: list[dict], metrics: list[str]) -> None:
    """Write rows (keys: the fixed columns and ``metrics``) in the sample format; for
    the scripts in ``tools/`` that make the files from NASLib's JSON."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(list(FIXED_COLUMNS) + [f"naslib_{m}" for m in metrics])
        for row in rows:
            values = [row.get(m) for m in metrics]
            writer.writerow([row["task"], row["arch"], row["naslib_key"], repr(float(row["val_accuracy"]))]
                            + ["" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(float(v))
                               for v in values])
