"""What the figure modules share: a headless matplotlib, per-architecture means,
log axes that survive zeros, and fit lines with their R^2 in the legend."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..stats import LinearFit, architecture_id

LABELS = {"test_acc": "test accuracy", "train_acc": "train accuracy", "ldi_mean": "mean singular value (LDI)",
          "ldi_prop2_mean": "mean singular value, fan_out init",
          "nn_mass": "NN-Mass", "params": "#Params", "macs": "MACs", "top1": "ImageNet top-1 (%)"}


def pyplot():
    """matplotlib's pyplot on the Agg backend (no display needed), imported on first use."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def architecture_points(rows: list[dict], x: str, y: str) -> list[dict]:
    """One point per architecture (finished trials only): mean and std of ``y`` over seeds.

    Returns dicts with ``x``, ``y``, ``y_std``, ``n`` and the first trial's ``depth``,
    ``width`` and ``row`` (for labels)."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        if r.get("status", "done") == "done" and r.get(x) is not None and r.get(y) is not None:
            groups.setdefault(architecture_id(r), []).append(r)
    out = []
    for members in groups.values():
        ys = np.array([m[y] for m in members], dtype=float)
        out.append({"x": float(np.mean([m[x] for m in members])), "y": float(ys.mean()),
                    "y_std": float(ys.std()), "n": len(members), "depth": members[0].get("depth"),
                    "width": members[0].get("width"), "row": members[0]})
    return sorted(out, key=lambda p: p["x"])


def set_log_x(ax, xs) -> None:
    """Log x axis; symlog (linear below the smallest positive value) when some x is 0,
    so NN-Mass-0 models (no skips) stay on the plot."""
    xs = np.asarray(xs, dtype=float)
    positive = xs[xs > 0]
    if positive.size and np.all(xs > 0):
        from matplotlib.ticker import NullFormatter
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels overlap on short ranges
    elif positive.size:
        ax.set_xscale("symlog", linthresh=float(positive.min()))


def fit_line(ax, xs, ys, color: str = "saddlebrown", label: str = "fit") -> float | None:
    """Least-squares line of y on ln(x) over the points with x > 0; returns its R^2."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    keep = (xs > 0) & np.isfinite(ys)
    if keep.sum() < 3 or np.ptp(xs[keep]) == 0:
        return None
    fit = LinearFit(log_x=True).fit(xs[keep], ys[keep])
    grid = np.geomspace(xs[keep].min(), xs[keep].max(), 100)
    ax.plot(grid, fit.predict(grid), color=color, lw=1.5, ls="--",
            label=f"{label}: R$^2$ = {fit.r2_:.2f}")
    return fit.r2_


def depth_colours(depths) -> dict:
    """A viridis colour per distinct depth, shallow to deep."""
    plt = pyplot()
    values = sorted({d for d in depths if d is not None})
    cmap = plt.get_cmap("viridis")
    return {d: cmap(i / max(len(values) - 1, 1)) for i, d in enumerate(values)}


def save(fig, path: str | Path, flag: str = "figure") -> Path:
    """Save ``fig`` to ``path`` (its folder created), replacing the file in one step."""
    from ..files.writing import write_atomically
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomically(path, flag, lambda tmp: fig.savefig(tmp, dpi=120, bbox_inches="tight"))
    finally:
        pyplot().close(fig)
    return path
