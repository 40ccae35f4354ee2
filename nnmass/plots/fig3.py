"""Fig. 3 of the paper: test accuracy and LDI against #Params and NN-Mass.

(a) test accuracy vs #Params, (b) test accuracy vs NN-Mass, (c) mean singular
value of the layerwise Jacobians at init vs #Params, (d) the same vs NN-Mass.
Each point is one architecture (mean over seeds, bar = std); points of equal
depth are joined, coloured shallow to deep; the dashed line is the fit on
log(x) over all points, with its R^2 (the paper's brown markers).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ._common import LABELS, architecture_points, depth_colours, fit_line, pyplot, save, set_log_x

# (e, f) repeat (c, d) under He fan_out init, whose variance depends on the width only
# as Prop. 2 assumes; (c, d) use the init the models were trained from.
FIG3_PANELS = (("params", "test_acc"), ("nn_mass", "test_acc"), ("params", "ldi_mean"), ("nn_mass", "ldi_mean"),
               ("params", "ldi_prop2_mean"), ("nn_mass", "ldi_prop2_mean"))


def draw_panel(ax, rows: list[dict], x: str, y: str, colours: dict, tag: str = "") -> float | None:
    """One panel: per-depth curves of architecture means plus the log-x fit; returns R^2."""
    points = architecture_points(rows, x, y)
    by_depth: dict = {}
    for p in points:
        by_depth.setdefault(p["depth"], []).append(p)
    for depth, pts in sorted(by_depth.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)):
        ax.errorbar([p["x"] for p in pts], [p["y"] for p in pts], yerr=[p["y_std"] for p in pts],
                    marker="o", ms=4, lw=1, capsize=2, color=colours.get(depth, "grey"),
                    label=f"depth {depth}")
    xs, ys = [p["x"] for p in points], [p["y"] for p in points]
    r2 = fit_line(ax, xs, ys)
    set_log_x(ax, xs)
    ax.set_xlabel(LABELS.get(x, x) + " (log)")
    ax.set_ylabel(LABELS.get(y, y))
    if tag:
        ax.set_title(tag + (f"  (fit R$^2$ = {r2:.2f})" if r2 is not None else ""), loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    return r2


def plot_panels(rows: Sequence[dict], path: str | Path, panels: Sequence[tuple[str, str]],
                title: str = "", ncols: int = 2) -> Path:
    """Grid of :func:`draw_panel` panels, lettered (a), (b), ...; panels no row carries are skipped."""
    rows = list(rows)
    panels = [(x, y) for x, y in panels if any(r.get(x) is not None and r.get(y) is not None for r in rows)]
    if not panels:
        raise ValueError("no finished trial carries the values these panels plot")
    plt = pyplot()
    nrows = -(-len(panels) // ncols)
    ncols = min(ncols, len(panels))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.0 * nrows), squeeze=False)
    colours = depth_colours(r.get("depth") for r in rows)
    for k, (x, y) in enumerate(panels):
        ax = axes[k // ncols][k % ncols]
        draw_panel(ax, rows, x, y, colours, tag=f"({chr(97 + k)}) {LABELS.get(y, y)} vs {LABELS.get(x, x)}")
    for k in range(len(panels), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    axes[0][0].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)


def plot_fig3(rows: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """The paper's Fig. 3 (a-d) for an MLP sweep; returns the PNG path."""
    return plot_panels(rows, path, FIG3_PANELS, title=title)
