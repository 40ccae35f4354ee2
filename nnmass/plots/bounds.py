"""Fig. 1(b) of the paper: simulated mean singular value against NN-Mass, within Prop. 2's bounds."""
from __future__ import annotations

from pathlib import Path

from ._common import pyplot, save


def plot_bounds(rows: list[dict], path: str | Path) -> Path:
    """Draw the rows of ``nnmass.bounds.simulate_bounds`` (one width) to ``path``."""
    plt = pyplot()
    rows = sorted(rows, key=lambda r: r["mass"])
    mass = [r["mass"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.fill_between(mass, [r["lower"] for r in rows], [r["upper"] for r in rows], color="tab:blue",
                    alpha=0.15, label="Prop. 2 bounds")
    ax.plot(mass, [r["upper"] for r in rows], color="tab:blue", lw=1, ls="--")
    ax.plot(mass, [r["lower"] for r in rows], color="tab:blue", lw=1, ls="--")
    ax.errorbar(mass, [r["mean"] for r in rows], yerr=[r["std"] for r in rows], marker="o", ms=4,
                capsize=2, color="black", lw=1.2, label="simulated mean (bar: std)")
    first = rows[0]
    ax.set_title(f"Gaussian (w + m/2, w) matrices, w = {first['width']}, q = {first['q']:g}, "
                 f"{first['trials']} trials", fontsize=9)
    ax.set_xlabel("NN-Mass m")
    ax.set_ylabel("mean singular value")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return save(fig, path)
