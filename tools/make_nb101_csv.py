"""Write ``nnmass/spaces/data/nb101_naslib.csv`` from NASLib's ``zc_nasbench101.json``.

Usage: ``python tools/make_nb101_csv.py PATH/zc_nasbench101.json [--out CSV]``.

One row per NASLib entry, in the JSON's order. ``arch`` is the canonical string of
the pruned cell (``nnmass.spaces.nb101``); ``naslib_key`` is NASLib's key as it is
(a 7-vertex spec before pruning). Numbers keep their exact values (``repr``);
timing fields are dropped. A field this script does not know stops it, so nothing
is lost silently.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnmass.spaces.nb101 import SPACE  # noqa: E402
from nnmass.spaces.samples import write_sample  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "nnmass" / "spaces" / "data" / "nb101_naslib.csv"
METRICS = ["params", "flops", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacov", "nwot",
           "l2_norm", "plain", "epe_nas"]
"""NASLib's fields besides ``val_accuracy``, in column order (params and flops in millions)."""


def rows(data: dict) -> tuple[list[dict], list[str]]:
    """The CSV rows and the metrics present, from the JSON's ``nasbench101`` section."""
    if set(data) != {"nasbench101"} or set(data["nasbench101"]) != {"cifar10"}:
        raise ValueError(f"expected nasbench101 -> cifar10, got {sorted(data)}")
    entries = data["nasbench101"]["cifar10"]
    out, present = [], set()
    for key, entry in entries.items():
        extra = set(entry) - {"val_accuracy", *METRICS}
        if extra:
            raise ValueError(f"{key}: unknown fields {sorted(extra)}")
        row = {"task": "cifar10", "arch": SPACE.format(SPACE.parse(key)), "naslib_key": key,
               "val_accuracy": entry["val_accuracy"]}
        for name in METRICS:
            if name in entry:
                value = entry[name]
                row[name] = value["score"] if isinstance(value, dict) else value
                present.add(name)
        out.append(row)
    return out, [m for m in METRICS if m in present]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("json", type=Path, help="NASLib's zc_nasbench101.json")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="CSV to write (default: the package's)")
    args = parser.parse_args(argv)
    table, metrics = rows(json.loads(args.json.read_text()))
    write_sample(args.out, table, metrics)
    print(f"wrote {len(table)} rows to {args.out}")


if __name__ == "__main__":
    main()
