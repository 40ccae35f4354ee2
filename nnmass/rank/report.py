"""Rank statistics as printable rows and JSON (nan as null)."""
from __future__ import annotations

import math
from typing import Sequence


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


PREDICTOR_NAMES = {"nn_mass": "NN-Mass", "params": "#Params", "macs": "MACs"}


def sweep_proxy_rows(table: dict, target: str | None = None) -> list[dict]:
    """The rank table of a sweep's proxies (``nnmass.stats.proxy_fits.proxy_table``) as
    printable rows, best Spearman first within each target."""
    rows = [r for r in table["rows"] if target is None or r["target"] == target]
    order = {t: i for i, t in enumerate(dict.fromkeys(r["target"] for r in rows))}
    rows = sorted(rows, key=lambda r: (order[r["target"]], -r["spearman"] if math.isfinite(r["spearman"]) else 9))
    return [{"target": r["target"], "predictor": PREDICTOR_NAMES.get(r["predictor"], r["predictor"]), "n": r["n"],
             "Spearman [95% CI]": with_ci(r, "spearman"), "Kendall [95% CI]": with_ci(r, "kendall")} for r in rows]


def sweep_proxy_blocks(table: dict, n_boot: int, seed: int) -> list[tuple]:
    """Report blocks: which predictor ranks each target best, and the table."""
    from ..report import heading, para
    from ..report import table as table_block
    from ..stats.proxy_fits import best_predictor

    if not table["rows"]:
        return []
    best = best_predictor(table)
    lead = (f"For test accuracy the best is {PREDICTOR_NAMES.get(best['predictor'], best['predictor'])} "
            f"(Spearman {with_ci(best, 'spearman')}, {best['n']} architectures). ") if best else ""
    left_out = (f" Undefined on every trial, so left out: {', '.join(table['undefined'])}." if table["undefined"]
                else "")
    return [heading("Training-free proxies"),
            para(lead + "Rank correlation of each target with each predictor at init: NN-Mass, #Params, MACs and "
                 f"the grid's proxies ({', '.join(table['proxies'])}), every predictor on the same architectures "
                 "(finite target and a finite value of every predictor; n is what was ranked). Rank correlations, "
                 "not R2 of log fits: proxies have no common scale or sign. Each point is one architecture (mean "
                 f"over its seeds); intervals: 95% bootstrap over architectures and their seeds ({n_boot} "
                 f"resamples, seed {seed})." + left_out),
            table_block(sweep_proxy_rows(table))]
