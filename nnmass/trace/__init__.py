"""From any ``torch.nn.Module`` to a plain :class:`~nnmass.mass.graph.LayerGraph`.

Two front ends over one op dispatch table (:mod:`nnmass.trace.ops`): ``torch.fx``
with shapes propagated on meta tensors (:mod:`nnmass.trace.fx`), and, where fx
cannot trace a model, a recording of the tensor operations of one real forward
pass (:mod:`nnmass.trace.record`).
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from ..errors import UsageError
from ..mass.graph import LayerGraph
from ..validate import check_choice

TRACERS = ("auto", "fx", "record")


def trace_graph(model: nn.Module, example_input, *, method: str = "auto",
                leaf_modules=None) -> tuple[LayerGraph, int]:
    """The layer graph of ``model`` and the MACs of its traced batch.

    Args:
        model: any module; it is not changed.
        example_input: a tensor (or tuple of tensors) of the shape to trace at.
        method: ``"fx"``, ``"record"`` (one real forward pass, for models with
            data-dependent control flow) or ``"auto"``: the model's own
            ``layer_graph(example_input)`` where it has one (a NAS-Bench-201 network),
            else fx, else record.
        leaf_modules: module classes fx should not trace into (default:
            torchvision's ``FrozenBatchNorm2d`` and ``StochasticDepth``).
    """
    check_choice("tracer", method, TRACERS)
    own = getattr(model, "layer_graph", None)
    if method == "auto" and callable(own):
        graph = own(example_input)
        return graph, sum(n.macs for n in graph.nodes)
    with _buffers_kept(model):
        if method in ("auto", "fx"):
            from .fx import fx_graph
            try:
                graph, meta_macs = fx_graph(model, example_input, leaf_modules)
                return graph, meta_macs + sum(n.macs for n in graph.nodes)
            except Exception:  # fx raises many types; the recorder is the fallback
                if method == "fx":
                    raise
        from .record import record_graph
        return record_graph(model, example_input)


@contextmanager
def _buffers_kept(model: nn.Module):
    """Put every buffer back as it was: symbolic tracing runs in-place updates that no
    proxy touches (a BatchNorm subclass counting ``num_batches_tracked``) for real."""
    saved = [(b, b.detach().clone()) for b in model.buffers() if b.device.type != "meta"]
    try:
        yield
    finally:
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)


__all__ = ["TRACERS", "UsageError", "trace_graph"]
