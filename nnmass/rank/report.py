"""Rank statistics as printable rows (JSON goes through ``nnmass.json_values.jsonable``)."""
from __future__ import annotations

from typing import Sequence

from ..table import number_text, with_ci


def printable_rows(rows: Sequence[dict]) -> list[dict]:
    """The statistics rows as short text columns."""
    return [{"proxy": r["proxy"], "n": r["n"], "undefined": r["undefined"],
             "Spearman [95% CI]": with_ci(r, "spearman"), "Kendall [95% CI]": with_ci(r, "kendall"),
             "top-10%": number_text(r["top10"], ".2f"), "partial rho | log params": with_ci(r, "partial_spearman"),
             "distinct": r["distinct"], "s/arch": number_text(r.get("seconds_per_arch"), ".3f")} for r in rows]
