"""The fallback tracer: record the tensor operations of one real forward pass.

Where ``torch.fx`` cannot trace a model (data-dependent control flow, calls fx
cannot proxy), we run the model once on the example input under a
``TorchFunctionMode`` that sees every torch function and tensor method, and
forward hooks that name each call after the module it runs in. Only the path
this input takes is recorded. MACs come from ``FlopCounterMode`` on the same pass.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.flop_counter import FlopCounterMode

from ..mass.graph import LayerGraph, Node
from ..modes import in_mode
from .ops import add_feature, call_details, fn_name, is_split, split_ranges


class _Recorder(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.graph = LayerGraph(method="record")
        self.names: dict[int, str] = {}  # id(tensor) -> graph node
        self.dims: dict[str, tuple] = {}  # graph node -> (channel dim, shape)
        self.alive: list = []  # keep recorded tensors alive so their ids stay unique
        self.stack: list[str] = []
        self.counts: dict[str, int] = {}

    def feature(self, t) -> str | None:
        return self.names.get(id(t)) if isinstance(t, torch.Tensor) else None

    def fresh(self, base: str) -> str:
        k = self.counts.get(base, 0)
        self.counts[base] = k + 1
        return base if k == 0 else f"{base}@{k}"

    def add(self, base, op, out, ins, call=(None, (), {}), **kw) -> None:
        name = self.fresh(base)
        add_feature(self.graph, self.dims, name, op, out, ins, call, **kw)
        self.names[id(out)] = name
        self.alive.append(out)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        ins: list[str] = []
        for a in list(args) + list(kwargs.values()):
            for t in (a if isinstance(a, (list, tuple)) else (a,)):
                n = self.feature(t)
                if n is not None:
                    ins.append(n)
        scope = self.stack[-1] if self.stack else ""
        base = f"{scope}.{fn_name(func)}" if scope else fn_name(func)
        if not ins:
            return out
        cdim = self.dims[ins[0]][0]
        if is_split(func) and isinstance(out, tuple):
            ranges = split_ranges(func, args, kwargs, args[0].shape[cdim], args[0].dim(), cdim)
            for i, piece in enumerate(out):
                if ranges is None:
                    self.add(base, "other", piece, [ins[0]], target="split")
                else:
                    self.add(base, "index", piece, [ins[0]], keep=list(range(*ranges[i])), target="split")
            return out
        params = sum(a.numel() for a in list(args) + list(kwargs.values()) if isinstance(a, nn.Parameter))
        if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor) and out[0].dim() >= 2:
            # e.g. attention returning (output, weights): the first is the feature.
            self.add(base, "other", out[0], ins, params=params, target=fn_name(func))
            return out
        if not isinstance(out, torch.Tensor) or out.dim() < 2 or out.dtype == torch.bool:
            return out
        idx = args[2] if len(args) > 2 else kwargs.get("index")
        op, extra = call_details(func, args, kwargs, len(ins), out, cdim, idx)
        if op in ("conv", "linear", "bn") and scope and self.counts.get(scope, 0) == 0:
            base = scope  # the leaf module's own op takes the module's name
        self.add(base, op, out, ins, call=(func, args, kwargs), target=fn_name(func), params=params, **extra)
        return out


def record_graph(model: nn.Module, example_input) -> tuple[LayerGraph, int]:
    """Run ``model`` once on ``example_input`` and record its layer graph; returns it
    and the MACs of the pass."""
    rec = _Recorder()
    xs = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    for i, x in enumerate(xs):
        rec.add("input" if i == 0 else f"input{i}", "input", x, [], target="input")
    handles = []
    for name, m in model.named_modules():
        if not name:
            continue
        handles.append(m.register_forward_pre_hook(lambda mod, a, n=name: rec.stack.append(n)))
        handles.append(m.register_forward_hook(_after(rec, name, m)))
    counter = FlopCounterMode(display=False)
    # Inference mode: BN must not update the caller's running statistics, and a
    # batch of one must pass; the topology is the same.
    try:
        with in_mode(model, False), torch.no_grad(), counter, rec:
            out = model(*xs)
    finally:
        for h in handles:
            h.remove()
    outs = out if isinstance(out, (tuple, list)) else [out]
    rec.graph.add(Node("output", "output", inputs=[n for n in map(rec.feature, outs) if n]))
    return rec.graph, counter.get_total_flops() // 2


def _after(rec: _Recorder, name: str, module: nn.Module):
    def hook(mod, args, out):
        rec.stack.pop()
        # nn.Identity returns its input untouched, so no torch call marks it; it stands
        # where an activation would and ends a layer, as in the fx trace.
        src = rec.feature(out)
        if isinstance(module, nn.Identity) and src is not None and out.dim() >= 2:
            rec.add(name, "act", out, [src], target="Identity")
    return hook
