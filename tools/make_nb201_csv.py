"""Regenerate ``nnmass/studies/nb201_naslib.csv`` from NASLib's ``zc_nasbench201.json``.

Usage: ``python tools/make_nb201_csv.py PATH/zc_nasbench201.json [--out CSV]``.

Numbers are written with ``repr``, the shortest text that reads back as the same
float, so the CSV holds exactly the JSON's values. Timing fields are dropped.
Any metric this script does not know about stops it, so nothing is lost silently.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnmass.models.nb201 import arch_from_op_indices  # noqa: E402
from nnmass.studies.nb201_data import COLUMNS, DATASETS, NASLIB_SCORES  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "nnmass" / "studies" / "nb201_naslib.csv"


def _number(value) -> str:
    """Exact text of a JSON number; empty for a missing one."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    value = float(value)
    return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")


def _op_indices(key: str) -> tuple[int, ...]:
    """NASLib's key ``"(0, 2, 3, 2, 3, 1)"`` as a tuple of ints."""
    return tuple(int(v) for v in key.strip().strip("()").split(","))


def rows(data: dict):
    """CSV rows, dataset by dataset, architectures in op_indices order."""
    if set(data) != set(DATASETS):
        raise ValueError(f"datasets {sorted(data)} != {list(DATASETS)}")
    known = {"idx", "arch", "val_accuracy", *NASLIB_SCORES}
    for dataset in DATASETS:
        for key in sorted(data[dataset], key=_op_indices):
            entry = data[dataset][key]
            extra = set(entry) - known
            if extra:
                raise ValueError(f"{dataset} {key}: unknown fields {sorted(extra)}")
            indices = _op_indices(key)
            if _op_indices(entry.get("arch", key)) != indices:
                raise ValueError(f"{dataset} {key}: arch field {entry['arch']!r} differs from its key")
            yield [dataset, arch_from_op_indices(indices), "-".join(map(str, indices)),
                   str(int(entry["idx"])), _number(entry["val_accuracy"])] + [
                _number(entry[name]["score"]) if name in entry else "" for name in NASLIB_SCORES]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="NASLib's zc_nasbench201.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (default: the package's)")
    args = parser.parse_args(argv)
    data = json.loads(args.json.read_text())
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        count = 0
        for row in rows(data):
            writer.writerow(row)
            count += 1
    print(f"wrote {count} rows to {args.out}")


if __name__ == "__main__":
    main()
