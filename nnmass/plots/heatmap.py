"""The heat map of a proxies-by-tasks table of Spearman's rho, as NAS-Bench-Suite-Zero
draws it: one row per proxy, one column per task, the value written in each cell."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ._common import pyplot, save


def plot_rho_heatmap(rho: Mapping[str, Mapping[str, float]], tasks: Sequence[str], path: str | Path, *,
                     title: str = "") -> Path:
    """Save the heat map of ``rho[proxy][task]`` (nan: not scored or undefined, left blank)."""
    plt = pyplot()
    proxies = list(rho)
    values = np.array([[rho[p].get(t, math.nan) for t in tasks] for p in proxies], dtype=float)
    fig, ax = plt.subplots(figsize=(max(5.0, 2.6 + 0.62 * len(tasks)), 1.6 + 0.38 * len(proxies)))
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for i in range(len(proxies)):
        for j in range(len(tasks)):
            if math.isfinite(values[i, j]):
                ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if abs(values[i, j]) > 0.6 else "black")
    ax.set_xticks(range(len(tasks)), tasks, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(proxies)), proxies, fontsize=8)
    fig.colorbar(image, ax=ax, shrink=0.8, pad=0.02, label="Spearman rho")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)
