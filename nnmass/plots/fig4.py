"""Fig. 4 of the paper: training curves of models with (nearly) equal NN-Mass and
width but different depth, which Prop. 2 says should train alike.

Matching rule (ours; the paper picks its groups by hand): architectures of the
same width whose mean NN-Mass lies within ``tol`` (relative) of an anchor's,
at most one per depth (the closest in NN-Mass), at least two depths. Groups are
taken greedily, most depths and widest depth range first, and never share a
model. NN-Mass 0 models (no skips) are not matched: their curves depend on depth
alone (the paper's two NN-Mass-0 clusters).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from ._common import LABELS, pyplot, save
from ..stats import architecture_id


def _architectures(rows: Sequence[dict]) -> list[dict]:
    """Finished architectures that have a history: mean NN-Mass and per-seed histories."""
    archs: dict[str, dict] = {}
    for r in rows:
        if r.get("status", "done") != "done" or not r.get("history_json") or not r.get("nn_mass"):
            continue
        a = archs.setdefault(architecture_id(r), {"depth": r.get("depth"), "width": r.get("width"),
                                                  "nn_mass": float(r["nn_mass"]), "params": r.get("params"),
                                                  "histories": [], "spec": r.get("spec_json")})
        history = r["history_json"]
        a["histories"].append(json.loads(history) if isinstance(history, str) else history)
    return list(archs.values())


def match_groups(rows: Sequence[dict], tol: float = 0.05, max_groups: int = 3) -> list[list[dict]]:
    """Groups of architectures with equal width, NN-Mass within ``tol`` and distinct depths.

    Returns up to ``max_groups`` lists of architecture dicts (keys depth, width,
    nn_mass, params, histories, spec), each sorted by depth.
    """
    archs = _architectures(rows)
    candidates = []
    for anchor in archs:
        best: dict = {}
        for a in archs:
            if a["width"] != anchor["width"] or abs(a["nn_mass"] - anchor["nn_mass"]) > tol * anchor["nn_mass"]:
                continue
            gap = abs(a["nn_mass"] - anchor["nn_mass"])
            if a["depth"] not in best or gap < best[a["depth"]][0]:
                best[a["depth"]] = (gap, a)
        if len(best) >= 2:
            group = sorted((a for _, a in best.values()), key=lambda a: a["depth"])
            candidates.append(group)
    candidates.sort(key=lambda g: (-len(g), -(g[-1]["depth"] - g[0]["depth"]), g[0]["nn_mass"]))
    chosen, used = [], set()
    for group in candidates:
        ids = {id(a) for a in group}
        if ids & used:
            continue
        chosen.append(group)
        used |= ids
        if len(chosen) == max_groups:
            break
    return sorted(chosen, key=lambda g: g[0]["nn_mass"])


def _mean_curve(histories: list[list[dict]], metric: str) -> tuple[np.ndarray, np.ndarray]:
    epochs = min(len(h) for h in histories)
    values = np.array([[e[metric] for e in h[:epochs]] for h in histories], dtype=float)
    return np.array([e["epoch"] for e in histories[0][:epochs]]), values.mean(axis=0)


def plot_fig4(rows: Sequence[dict], path: str | Path, metric: str = "test_acc", tol: float = 0.05,
              max_groups: int = 3, title: str = "") -> Path | None:
    """One panel per matched group: ``metric`` per epoch (mean over seeds) of each model.

    Returns the PNG path, or None when no two architectures match (nothing to show).
    """
    groups = match_groups(rows, tol=tol, max_groups=max_groups)
    if not groups:
        return None
    plt = pyplot()
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.8), squeeze=False)
    for k, (ax, group) in enumerate(zip(axes[0], groups)):
        for a in group:
            epochs, curve = _mean_curve(a["histories"], metric)
            params = f", {a['params']:,} params" if a["params"] is not None else ""
            ax.plot(epochs, curve, marker="o", ms=3,
                    label=f"depth {a['depth']}, NN-Mass {a['nn_mass']:.1f}{params}")
        ax.set_title(f"({chr(97 + k)}) width {group[0]['width']}, NN-Mass ~{group[0]['nn_mass']:.0f}",
                     loc="left", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel(LABELS.get(metric, metric))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)
