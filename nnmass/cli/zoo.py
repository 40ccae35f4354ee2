"""``nnmass zoo``: NN-Mass, size and cost of every built-in family, in closed form
(no module is built, so it runs in well under a second).

One row per built-in family at its default spec; closed form, MACs per input sample at
the spec's input size.
"""
from __future__ import annotations

from .common import format_table, human, print_json


HELP = "NN-Mass, #params and MACs of the built-in families"


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def zoo_rows() -> list[dict]:
    """One record per registered family, at its default spec."""
    from ..families import FAMILIES
    from ..mass import spec_report

    rows = []
    for fam in FAMILIES.values():
        spec = fam.spec_type(**fam.defaults)
        report = spec_report(spec, fam.name)
        rows.append({"name": fam.name, "group": fam.group, "nn_mass": report.nn_mass,
                     "cells": len(report.cells), "params": report.params, "macs": report.macs,
                     "layers": report.layers, "input_size": getattr(spec, "input_size", None),
                     "summary": fam.summary})
    return rows


def run(args) -> int:
    rows = zoo_rows()
    if args.json:
        print_json({"families": rows})
        return 0
    # MACs depend on the input, so the table says which one (an MLP reads a flat vector).
    table = [{**r, "nn_mass": format(r["nn_mass"], ".6g"), "params": human(r["params"]),
              "macs": human(r["macs"]), "input": r["input_size"] or "flat"} for r in rows]
    print(format_table(table, ["name", "group", "nn_mass", "cells", "params", "macs", "input", "layers",
                               "summary"]))
    return 0
