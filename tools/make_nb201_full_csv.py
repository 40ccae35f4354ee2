"""Regenerate ``nnmass/spaces/data/nb201_full.csv``, NAS-Bench-201's validation accuracy
of all 15,625 architectures, from the table NASLib published with its benchmark runs.

Usage: ``python tools/make_nb201_full_csv.py PATH/nb201_val_accuracy.csv [--out CSV]``.

The input has one row per architecture: ``arch``, ``naslib_op_indices`` (NASLib's six
op ids as digits), ``cifar10_valid``, ``cifar100``, ``ImageNet16-120``. The output
keeps ``arch`` (rewritten canonically) and the three accuracies under the space's
task names, rows in the order ``nnmass.spaces.get_space("nb201").enumerate()`` lists
the architectures. Each architecture must appear once, its two forms must agree and
every accuracy must be a finite number in [0, 100]; anything else stops the script.
Numbers are written with ``repr``, the shortest text that reads back as the same float.
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnmass.spaces.nb201_full import COLUMNS, CSV_NAME, SOURCE_COLUMNS  # noqa: E402
from nnmass.spaces import get_space  # noqa: E402
from nnmass.spec.nb201 import arch_from_op_indices, parse_arch  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "nnmass" / "spaces" / "data" / CSV_NAME


def _accuracy(text: str, where: str) -> str:
    value = float(text)
    if not (math.isfinite(value) and 0.0 <= value <= 100.0):
        raise ValueError(f"{where}: accuracy {text!r} is not in [0, 100]")
    return repr(value)


def rows(source: Path) -> list[list[str]]:
    """The output rows (header excluded), checked as the module docstring says."""
    with open(source, newline="") as f:
        reader = csv.DictReader(f)
        expected = ("arch", "naslib_op_indices") + SOURCE_COLUMNS
        if tuple(reader.fieldnames or ()) != expected:
            raise ValueError(f"{source}: header {reader.fieldnames} != {list(expected)}")
        by_arch = {}
        for row in reader:
            where = f"{source} line {reader.line_num}"
            ops = parse_arch(row["arch"])
            if parse_arch(arch_from_op_indices(tuple(int(c) for c in row["naslib_op_indices"]))) != ops:
                raise ValueError(f"{where}: arch and naslib_op_indices name different cells")
            if ops in by_arch:
                raise ValueError(f"{where}: {row['arch']} appears twice")
            by_arch[ops] = [_accuracy(row[c], where) for c in SOURCE_COLUMNS]
    space = get_space("nb201")
    missing = [a for a in space.enumerate() if a not in by_arch]
    if missing:
        raise ValueError(f"{source}: {len(missing)} architectures missing, e.g. {space.format(missing[0])}")
    return [[space.format(a)] + by_arch[a] for a in space.enumerate()]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="nb201_val_accuracy.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    table = rows(args.source)
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(table)
    print(f"wrote {len(table)} architectures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
