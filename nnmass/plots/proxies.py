"""The proxy figure: each proxy's score against accuracy, and a bar chart of Spearman's
rho with its 95% interval."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ._common import pyplot, save

COLUMNS = 5


def _x_scale(ax, xs: np.ndarray) -> None:
    """Log where every score is > 0 and they span more than two decades (synflow spans
    dozens), symlog where signs mix over such a span, linear otherwise."""
    if xs.size == 0:
        return
    lo, hi = np.abs(xs).min(), np.abs(xs).max()
    wide = lo > 0 and hi / lo > 100 or (lo == 0 and hi > 0 and np.abs(xs[xs != 0]).min() * 100 < hi)
    if not wide:
        return
    if np.all(xs > 0):
        ax.set_xscale("log")
    else:
        nonzero = np.abs(xs[xs != 0])
        ax.set_xscale("symlog", linthresh=float(np.quantile(nonzero, 0.05)) if nonzero.size else 1.0)


def plot_proxy_ranking(scores: Mapping[str, Sequence[float]], target: Sequence[float], rows: Sequence[dict],
                       path: str | Path, *, title: str = "", target_label: str = "accuracy") -> Path:
    """Save the figure: one scatter panel per proxy (points where the score is defined),
    then a bar chart of rho with error bars from each row's ``spearman_lo/_hi``."""
    plt = pyplot()
    names = list(scores)
    panels = len(names)
    scatter_rows = max(1, math.ceil(panels / COLUMNS))
    fig = plt.figure(figsize=(3.2 * COLUMNS, 2.6 * scatter_rows + 0.35 * max(len(rows), 4) + 1.0))
    grid = fig.add_gridspec(scatter_rows + 1, COLUMNS,
                            height_ratios=[2.6] * scatter_rows + [0.35 * max(len(rows), 4)])
    y = np.asarray(target, dtype=float)
    by_name = {r["proxy"]: r for r in rows}
    for k, name in enumerate(names):
        ax = fig.add_subplot(grid[k // COLUMNS, k % COLUMNS])
        x = np.asarray(scores[name], dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        ax.scatter(x[keep], y[keep], s=5, alpha=0.35, color="tab:blue", linewidths=0)
        _x_scale(ax, x[keep])
        rho = by_name.get(name, {}).get("spearman", math.nan)
        label = f"{name}  rho {rho:.2f}" if math.isfinite(rho) else f"{name}  (undefined)"
        ax.set_title(f"{label}  n={int(keep.sum())}", fontsize=9)
        ax.tick_params(labelsize=7)
        if k % COLUMNS == 0:
            ax.set_ylabel(target_label, fontsize=8)
    bars = fig.add_subplot(grid[scatter_rows, :])
    ordered = sorted(rows, key=lambda r: (-r["spearman"] if math.isfinite(r["spearman"]) else math.inf))
    values = [r["spearman"] if math.isfinite(r["spearman"]) else 0.0 for r in ordered]
    err = [[max(v - (r["spearman_lo"] if math.isfinite(r["spearman_lo"]) else v), 0) for v, r in zip(values, ordered)],
           [max((r["spearman_hi"] if math.isfinite(r["spearman_hi"]) else v) - v, 0) for v, r in zip(values, ordered)]]
    colors = ["tab:red" if r["proxy"] == "nn_mass" else "tab:gray" if not math.isfinite(r["spearman"])
              else "tab:blue" for r in ordered]
    ypos = np.arange(len(ordered))
    bars.barh(ypos, values, xerr=err, color=colors, capsize=3)
    bars.set_yticks(ypos, [r["proxy"] + ("" if math.isfinite(r["spearman"]) else " (undefined)") for r in ordered],
                    fontsize=8)
    bars.invert_yaxis()
    bars.axvline(0, color="black", lw=0.8)
    bars.set_xlabel(f"Spearman rho with {target_label} (95% bootstrap interval over architectures)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save(fig, path)
