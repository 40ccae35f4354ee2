"""Training-free proxies of a sweep as predictors: rank correlations, like for like.

Proxies have no common scale or sign (grasp and jacob_cov are negative, synflow spans
dozens of decades), so a least-squares line on their log is not defined for most of
them. They are compared by rank correlation instead, which any monotone transform
leaves unchanged: Spearman's rho and Kendall's tau-b of each target against each
predictor, NN-Mass, #Params and MACs included, so that all of them stand side by side.

Like for like: every predictor of a target is ranked on the same architectures,
those with a finite target and a finite value of every predictor. A proxy that is
undefined (nan) on some trials removes those architectures from every row of the
target; one undefined on every finished trial (nwot on ELU networks, which have no
ReLU) is left out of the table and named in ``undefined``. No value needs to be > 0
here, so NN-Mass 0 networks stay in (unlike the log fits of ``fits``). Each
architecture is one point, the mean over its seeds; intervals resample architectures
and the seeds within them, as in ``fits``.
"""
from __future__ import annotations

import json
import math
from typing import Sequence

import numpy as np

from .bootstrap import bootstrap_ci
from .fits import PREDICTORS, TARGETS, architecture_id, unit_means
from .fitting import correlations

RANKED = ("spearman", "kendall")


def proxy_names(rows: Sequence[dict]) -> list[str]:
    """The proxies the trials carry (``proxies_json``), in the registry's order."""
    from ..proxies.proxy_names import PROXY_NAMES

    names = {name for r in rows for name in _scores(r) if name not in PREDICTORS}
    order = {n: i for i, n in enumerate(PROXY_NAMES)}
    return sorted(names, key=lambda n: (order.get(n, len(order)), n))


def _scores(row: dict) -> dict:
    text = row.get("proxies_json")
    if not text:
        return {}
    data = json.loads(text) if isinstance(text, str) else text
    return dict(data.get("scores", {}))


def with_proxy_columns(rows: Sequence[dict]) -> list[dict]:
    """Rows with each proxy's value as a key of its own (None where undefined)."""
    return [{**r, **{k: v for k, v in _scores(r).items() if k not in PREDICTORS}} for r in rows]


def _finite(v) -> bool:
    return v is not None and math.isfinite(float(v))


def proxy_table(rows: Sequence[dict], targets: Sequence[str] = TARGETS, *, mean_over_seeds: bool = True,
                n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Rank correlations of each target with NN-Mass, #Params, MACs and every proxy.

    Returns:
        ``{"rows": [...], "proxies": [...], "undefined": [...]}``: one row per (target,
        predictor) with target, predictor, n (architectures), n_trials, n_excluded,
        spearman, kendall and their ``_lo``/``_hi``; the proxies ranked; the proxies left
        out because no finished trial has a value. Empty rows when no trial has proxies.
    """
    done = with_proxy_columns([r for r in rows if r.get("status", "done") == "done"])
    names = proxy_names(done)
    if not names:
        return {"rows": [], "proxies": [], "undefined": []}
    undefined = [n for n in names if not any(_finite(r.get(n)) for r in done)]
    predictors = [p for p in PREDICTORS if any(_finite(r.get(p)) for r in done)] + \
                 [n for n in names if n not in undefined]
    out = []
    for target in targets:
        if not any(_finite(r.get(target)) for r in done):
            continue
        used = [r for r in done if _finite(r.get(target)) and all(_finite(r.get(p)) for p in predictors)]
        for predictor in predictors:
            out.append({"target": target, "predictor": predictor, "n_excluded": len(done) - len(used),
                        **rank_row(used, target, predictor, mean_over_seeds=mean_over_seeds, n_boot=n_boot,
                                   seed=seed, level=level)})
    return {"rows": out, "proxies": [n for n in names if n not in undefined], "undefined": undefined}


def rank_row(used: Sequence[dict], target: str, predictor: str, *, mean_over_seeds: bool = True,
             n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Spearman and Kendall of ``target`` with ``predictor`` over ``used``, one point per
    architecture (the mean over its seeds; every trial a point without ``mean_over_seeds``),
    with bootstrap intervals."""
    x = np.array([float(r[predictor]) for r in used], dtype=float)
    y = np.array([float(r[target]) for r in used], dtype=float)
    units = np.array([architecture_id(r) for r in used]) if mean_over_seeds else np.arange(len(used)).astype(str)
    px, py = unit_means(x, y, units) if x.size else (x, y)
    corr = correlations(px, py)
    out = {"n": int(px.size), "n_trials": len(used), "spearman": corr["spearman"], "kendall": corr["kendall"]}
    lo = hi = [math.nan] * len(RANKED)
    if n_boot > 0 and px.size >= 3 and math.isfinite(corr["spearman"]):
        def ranked(a, b):
            corr = correlations(a, b)
            return [corr[k] for k in RANKED]
        lo, hi = bootstrap_ci(x, y, ranked, units, n=n_boot, seed=seed, level=level)
    for k, name in enumerate(RANKED):
        out[f"{name}_lo"], out[f"{name}_hi"] = float(lo[k]), float(hi[k])
    return out


def best_predictor(table: dict, target: str = "test_acc") -> dict | None:
    """The row of the predictor with the highest Spearman rho for ``target`` (None if none)."""
    rows = [r for r in table["rows"] if r["target"] == target and math.isfinite(r["spearman"])]
    return max(rows, key=lambda r: r["spearman"]) if rows else None
