"""The figure of `nnmass design --plot`: NN-Mass against MACs and against params."""
from __future__ import annotations

from ..files.writing import FIGURE_SUFFIXES, write_atomically


def plot_design(result, path) -> None:
    """Two panels: the feasible cloud (subsampled), the Pareto front and the choice."""
    import matplotlib
    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    front = result.pareto
    for ax, key, label, limit in ((axes[0], "macs", "MACs", result.max_macs),
                                  (axes[1], "params", "#Params", result.max_params)):
        cloud = result.cloud
        if len(cloud.get(key, ())):
            ax.scatter(cloud[key], cloud["nn_mass"], s=3, c="0.75", label="feasible (sample)", rasterized=True)
        if front:
            x = np.array([getattr(c, key) for c in front])
            y = np.array([c.nn_mass for c in front])
            order = np.argsort(x, kind="stable")
            ax.scatter(x[order], y[order], s=8, c="tab:blue", label="Pareto front")
        if result.best is not None:
            ax.scatter([getattr(result.best, key)], [result.best.nn_mass], marker="*", s=160,
                       c="tab:red", label="chosen", zorder=3)
        if limit is not None:
            ax.axvline(limit, color="k", ls="--", lw=0.8, label="budget")
        if result.match_mass is not None:
            ax.axhline(result.match_mass, color="tab:green", ls=":", lw=1, label="NN-Mass to match")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("NN-Mass")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    fig.suptitle(f"{result.space.name}: {result.evaluated:,} candidates, {result.feasible:,} feasible")
    try:
        write_atomically(path, "--plot", lambda tmp: fig.savefig(tmp, dpi=120), suffixes=FIGURE_SUFFIXES)
    finally:
        plt.close(fig)
