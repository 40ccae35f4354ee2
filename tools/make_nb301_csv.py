"""Regenerate ``nnmass/spaces/data/nb301_naslib.csv`` from NASLib's ``zc_nasbench301.json``.

Usage: ``python tools/make_nb301_csv.py PATH/zc_nasbench301.json [--out CSV]``.

One row per architecture (task ``cifar10``), in NASLib's ``idx`` order: the genotype
string (``nnmass.spaces.darts``), NASLib's key, the validation accuracy and each of
NASLib's scores, written with ``repr`` (the JSON's exact values). Timings are dropped.
A field this script does not know, or a key that does not parse, stops it.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnmass.spaces.darts import SPACE  # noqa: E402
from nnmass.spaces.samples import write_sample  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "nnmass" / "spaces" / "data" / "nb301_naslib.csv"
METRICS = ["params", "flops", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacov", "nwot", "l2_norm",
           "plain", "epe_nas"]
"""NASLib's metrics of NB301, in the CSV's column order."""
TASK = "cifar10"


def rows(data: dict) -> list[dict]:
    """The CSV rows of NASLib's JSON."""
    if set(data) != {TASK}:
        raise ValueError(f"tasks {sorted(data)} != [{TASK!r}]")
    out = []
    for key, entry in sorted(data[TASK].items(), key=lambda item: int(item[1]["idx"])):
        extra = set(entry) - {"idx", "arch", "val_accuracy", *METRICS}
        if extra:
            raise ValueError(f"{key}: unknown fields {sorted(extra)}")
        arch = SPACE.parse(key)
        if SPACE.naslib_key(arch) != key or SPACE.parse(entry.get("arch", key)) != arch:
            raise ValueError(f"{key}: does not round-trip, or its arch field differs")
        row = {"task": TASK, "arch": SPACE.format(arch), "naslib_key": key, "val_accuracy": entry["val_accuracy"]}
        row.update((m, entry[m]["score"]) for m in METRICS if m in entry)
        out.append(row)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="NASLib's zc_nasbench301.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (default: the package's)")
    args = parser.parse_args(argv)
    table = rows(json.loads(args.json.read_text()))
    write_sample(args.out, table, METRICS)
    print(f"wrote {len(table)} rows to {args.out}")


if __name__ == "__main__":
    main()
