"""Write ``nnmass/spaces/data/tnb_{micro,macro}_naslib.csv`` from NASLib's
TransNAS-Bench-101 zero-cost JSON (``zc_transbench101_micro.json`` or ``_macro``).

Usage: ``python tools/make_tnb_csv.py micro|macro PATH.json [--out CSV]``.

Each row keeps NASLib's values (``repr`` floats, so exactly the JSON's numbers);
``params`` and ``flops`` are read from plain numbers or ``{"score": ...}``
entries alike; timings are dropped. A key that does not parse, an ``arch`` field
that differs from its key, or an unknown field stops the script.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnmass.spaces import get_space  # noqa: E402
from nnmass.spaces.samples import SAMPLE_FILES, write_sample  # noqa: E402

METRICS = ["params", "flops", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacov", "nwot",
           "l2_norm", "plain", "epe_nas", "zen"]
"""NASLib's metrics, in column order; only those the JSON holds are written."""


def _value(entry):
    return entry["score"] if isinstance(entry, dict) else entry


def rows(space, data: dict):
    """Sample rows, task by task in the JSON's order, architectures in key order."""
    for task, entries in data.items():
        space.task(task)
        for key in sorted(entries, key=lambda k: space.parse(k)):
            entry = entries[key]
            extra = set(entry) - {"idx", "arch", "val_accuracy", *METRICS}
            if extra:
                raise ValueError(f"{task} {key}: unknown fields {sorted(extra)}")
            arch = space.parse(key)
            if space.naslib_key(arch) != key or space.parse(str(entry.get("arch", key))) != arch:
                raise ValueError(f"{task} {key}: key or arch field does not round-trip")
            row = {"task": task, "arch": space.format(arch), "naslib_key": key, "val_accuracy": entry["val_accuracy"]}
            row.update((m, _value(entry[m])) for m in METRICS if m in entry)
            yield row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("space", choices=["micro", "macro"])
    parser.add_argument("json", type=Path, help="NASLib's zc_transbench101_<space>.json")
    parser.add_argument("--out", type=Path, help="CSV to write (default: the package's)")
    args = parser.parse_args(argv)
    name = f"tnb-{args.space}"
    out = args.out or Path(__file__).resolve().parents[1] / "nnmass" / "spaces" / "data" / SAMPLE_FILES[name]
    data = json.loads(args.json.read_text())
    all_rows = list(rows(get_space(name), data))
    used = [m for m in METRICS if any(m in r for r in all_rows)]
    write_sample(out, all_rows, used)
    print(f"wrote {len(all_rows)} rows to {out}")


if __name__ == "__main__":
    main()
