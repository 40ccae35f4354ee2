"""Fig. 6 of the paper: ImageNet top-1 against #Params and NN-Mass, no training.

Top row: the paper's own set (the Wide-ResNet paper's ImageNet models with that
paper's top-1), each model labelled. Bottom row: every torchvision model with a
measured NN-Mass > 0 (the models of the all-models fit), one marker per family. Each panel has its
least-squares line on log(x) and R^2.
"""
from __future__ import annotations

from itertools import cycle
from pathlib import Path
from typing import Sequence

from ._common import LABELS, fit_line, pyplot, save, set_log_x

MARKERS = "osD^v<>phX*P8H"


def _usable(models: Sequence[dict], x: str) -> list[dict]:
    return [m for m in models if m.get(x) is not None and m.get("top1") is not None and m[x] > 0]


def _panel(ax, models: Sequence[dict], x: str, tag: str, label_points: bool, markers: dict) -> float | None:
    models = _usable(models, x)
    for fam in sorted({m["family"] for m in models}):
        pts = [m for m in models if m["family"] == fam]
        ax.scatter([m[x] for m in pts], [m["top1"] for m in pts], marker=markers[fam], s=28, label=fam)
    if label_points:
        for m in models:
            ax.annotate(m["name"], (m[x], m["top1"]), fontsize=6, xytext=(3, 2), textcoords="offset points")
    r2 = fit_line(ax, [m[x] for m in models], [m["top1"] for m in models])
    set_log_x(ax, [m[x] for m in models] or [1])
    ax.set_xlabel(LABELS.get(x, x) + " (log)")
    ax.set_ylabel(LABELS["top1"])
    ax.set_title(tag, loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    return r2


def plot_fig6(top: Sequence[dict], bottom: Sequence[dict], path: str | Path,
              top_label: str = "Wide-ResNet paper's models") -> Path:
    """Fig. 6 for zoo records (keys name, family, top1, params, nn_mass); returns the PNG path.

    ``top`` models are labelled one by one; ``bottom`` ones keep to NN-Mass > 0.
    """
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    markers = dict(zip(sorted({m["family"] for m in [*top, *bottom]}), cycle(MARKERS)))
    massive = [m for m in bottom if m.get("nn_mass") is not None and m["nn_mass"] > 0]
    _panel(axes[0][0], top, "params", f"(a) {top_label}: top-1 vs #Params", True, markers)
    _panel(axes[0][1], top, "nn_mass", f"(b) {top_label}: top-1 vs NN-Mass", True, markers)
    _panel(axes[1][0], massive, "params", "(c) torchvision models, NN-Mass > 0: top-1 vs #Params", False, markers)
    _panel(axes[1][1], massive, "nn_mass", "(d) torchvision models, NN-Mass > 0: top-1 vs NN-Mass", False, markers)
    for ax in axes[0]:
        ax.legend(fontsize=7, loc="lower right")
    axes[1][0].legend(fontsize=6, ncol=2, loc="lower right")
    fig.tight_layout()
    return save(fig, path)
