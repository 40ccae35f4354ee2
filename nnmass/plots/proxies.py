"""The proxy figure: each proxy's score against accuracy, and a bar chart of Spearman's
rho with its 95% interval."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ._common import pyplot, save

COLUMNS = 5


def _wide(xs: np.ndarray) -> bool:
    """Whether the nonzero magnitudes span more than two decades (synflow spans dozens)."""
    nonzero = np.abs(xs[xs != 0])
    return nonzero.size > 1 and nonzero.max() > 100 * nonzero.min()


def _x_values(ax, xs: np.ndarray) -> np.ndarray:
    """The x values to plot: as they are on a log axis where all are > 0 and wide, as
    ``sign(x) log10(1 + |x|)`` where signs mix over a wide span (grasp), else linear."""
    if xs.size == 0 or not _wide(xs):
        return xs
    if np.all(xs > 0):
        ax.set_xscale("log")
        return xs
    ax.set_xlabel("sign(x) log10(1 + |x|)", fontsize=7)
    return np.sign(xs) * np.log10(1 + np.abs(xs))


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
        ax.scatter(_x_values(ax, x[keep]), y[keep], s=5, alpha=0.35, color="tab:blue", linewidths=0)
        if not keep.any():
            ax.text(0.5, 0.5, "undefined on every network", ha="center", va="center", transform=ax.transAxes,
                    fontsize=8, color="gray")
            ax.set_xticks([])
            ax.set_yticks([])
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
