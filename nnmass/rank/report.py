"""Rank statistics as printable rows and JSON (nan as null)."""
from __future__ import annotations

import math
from typing import Sequence

from ..table import number_text, with_ci


def printable_rows(rows: Sequence[dict]) -> list[dict]:
    """The statistics rows as short text columns."""
    return [{"proxy": r["proxy"], "n": r["n"], "undefined": r["undefined"],
             "Spearman [95% CI]": with_ci(r, "spearman"), "Kendall [95% CI]": with_ci(r, "kendall"),
             "top-10%": number_text(r["top10"], ".2f"), "partial rho | log params": with_ci(r, "partial_spearman"),
             "distinct": r["distinct"], "s/arch": number_text(r.get("seconds_per_arch"), ".3f")} for r in rows]


def jsonable(obj):
    """``obj`` with every non-finite float replaced by None (standard JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return obj
