"""Plain-text tables, their number cells and human-readable counts (no dependencies)."""
from __future__ import annotations

import math


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


def number_text(v, fmt: str = ".3f") -> str:
    """``v`` formatted, or ``-`` where it is missing or not finite."""
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def with_ci(row: dict, name: str, fmt: str = ".3f", ci_fmt: str | None = None) -> str:
    """``0.812 [0.780, 0.840]`` (the interval in ``ci_fmt``, default ``fmt``), or the bare
    value where there is no interval."""
    value, lo, hi = row.get(name), row.get(f"{name}_lo"), row.get(f"{name}_hi")
    if lo is None or not math.isfinite(lo) or value is None or not math.isfinite(value):
        return number_text(value, fmt)
    ci_fmt = ci_fmt or fmt
    return f"{value:{fmt}} [{lo:{ci_fmt}}, {hi:{ci_fmt}}]"
