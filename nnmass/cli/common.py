"""Pieces every subcommand shares: model arguments, tables, JSON output."""
from __future__ import annotations

import json
import sys


def add_model_args(p, *, required: bool = True) -> None:
    """MODEL plus repeatable ``--set KEY=VALUE``."""
    p.add_argument("model", metavar="MODEL", nargs=None if required else "?",
                   help="a family name (see `nnmass zoo`) or a spec .json file")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set one spec key (once per key; lists are comma-separated)")


def resolve_spec(args):
    """The spec named by ``args.model`` with ``args.sets`` applied."""
    from ..families import parse_sets, spec_for
    return spec_for(args.model, parse_sets(args.sets))


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, default=_default)
    sys.stdout.write("\n")


def _default(o):
    import numpy as np
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def format_table(rows: list[dict], columns: list[str] | None = None, floatfmt: str = ".4g") -> str:
    """A plain aligned text table."""
    if not rows:
        return "(no rows)"
    columns = columns or list(rows[0])
    cells = [[_fmt(r.get(c, ""), floatfmt) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.rjust(w) for v, w in zip(vals, widths))
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _fmt(v, floatfmt: str) -> str:
    if isinstance(v, float):
        return format(v, floatfmt)
    return str(v)


def human(n: float) -> str:
    """``6108776`` -> ``6.11M``."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:g}"
