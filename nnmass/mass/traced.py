"""NN-Mass of any ``torch.nn.Module``, from its traced graph.

``measure(model, example_input)`` traces the model (:mod:`nnmass.trace`: ``torch.fx``
first; where fx cannot trace it, by recording the tensor operations of one real
forward pass) into a plain :class:`~nnmass.mass.graph.LayerGraph`, finds the cells
with :mod:`nnmass.mass.cells` and returns a :class:`~nnmass.mass.report.MassReport`.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import UsageError
from ..spec import SHORTCUTS
from ..trace import trace_graph
from ..validate import check_choice
from .cells import FoundCells, find_cells, graph_report
from .report import MassReport

__all__ = ["measure", "MassReport", "UnclassifiedError"]


class UnclassifiedError(UsageError):
    """Some merges of the model fit no cell rule; ``report`` holds the rest."""

    def __init__(self, message: str, report: MassReport):
        super().__init__(message)
        self.report = report


def measure(model: nn.Module, example_input, *, shortcuts: str = "all", pool_links: bool = True,
            parallel: str = "level", method: str = "auto", leaf_modules=None, name: str | None = None,
            allow_unclassified: bool = False) -> MassReport:
    """NN-Mass of ``model`` from its traced graph (Eq. 2 for concatenation cells,
    Eq. 3 for residual cells; the rule for chains and multi-branch cells in
    :mod:`nnmass.mass.cells`).

    Args:
        model: the network.
        example_input: a tensor of the input shape (batch 1 recommended); MACs are per sample.
        shortcuts: ``"all"`` (default) also counts projection shortcuts (``min(in, out)``
            channels), as the authors' ResNet NN-Mass does; ``"identity"`` counts
            identity residuals only.
        pool_links: whether a long-range link made of parameter-free ops with a pooling
            among them counts (default) or not.
        parallel: ``"level"`` (default) reads parallel layers of equal depth as one wider
            node; ``"layer"`` counts possible links into each of them.
        method: tracer, see :func:`trace_graph`.
        leaf_modules: module classes fx keeps as leaves.
        name: the label of the report (default: the model's class name).
        allow_unclassified: return the report even if some merges could not be
            classified (they are listed in ``report.unclassified``); otherwise
            raise :class:`UnclassifiedError` naming them.
    """
    check_choice("shortcuts", shortcuts, SHORTCUTS)
    graph, macs = trace_graph(model, example_input, method=method, leaf_modules=leaf_modules)
    found = find_cells(graph, shortcuts, pool_links, parallel)
    x = example_input[0] if isinstance(example_input, (tuple, list)) else example_input
    batch = int(x.shape[0]) if isinstance(x, torch.Tensor) and x.dim() > 0 else 1
    report = graph_report(graph, found, name or type(model).__name__,
                          params=sum(p.numel() for p in model.parameters()), macs=macs // max(batch, 1),
                          input_shape=tuple(x.shape) if isinstance(x, torch.Tensor) else None)
    if found.unclassified and not allow_unclassified:
        raise UnclassifiedError(unclassified_message(found), report)
    return report


def unclassified_message(found: FoundCells) -> str:
    """One line naming every node that could not be classified, and why."""
    parts = [f"{name} ({why})" for name, why in found.unclassified.items()]
    return (f"cannot classify {len(parts)} node(s): {'; '.join(parts)}; "
            "use --allow-unclassified to report them and measure the rest")
