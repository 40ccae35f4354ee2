"""Fig. 5 of the paper: CNN test accuracy against #Params (a) and NN-Mass (b).

Same drawing as Fig. 3 (one point per architecture, curves per depth, log-x
fit); MACs get a third panel since the paper notes they track #Params.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .fig3 import plot_panels

FIG5_PANELS = (("params", "test_acc"), ("nn_mass", "test_acc"), ("macs", "test_acc"))


def plot_fig5(rows: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """The paper's Fig. 5 for a CNN sweep; returns the PNG path."""
    return plot_panels(rows, path, FIG5_PANELS, title=title, ncols=3)
