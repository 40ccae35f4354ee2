"""Trace a module with ``torch.fx`` and propagate shapes without computing anything.

Shapes come from meta tensors; for the common leaf modules (convs, norms,
activations, pools, linears) the output shape is worked out directly, because
running their meta kernels costs milliseconds each and a ResNet-152 has
hundreds of them. Anything else runs on meta tensors under
``FlopCounterMode``, so its MACs are counted too.
"""
from __future__ import annotations

import math

import torch
import torch.fx
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..mass.graph import LayerGraph, Node
from .ops import (add_feature, call_details, conv_macs, is_elementwise, is_split, linear_macs, module_op,
                  split_ranges)


def default_leaf_modules() -> tuple[type, ...]:
    """Modules fx should not trace into: nnmass's own torch.nn look-alikes and
    torchvision's ops."""
    from ..models.pooling import ChannelsLastAvgPool2d, ChannelsLastMaxPool2d
    own = (ChannelsLastAvgPool2d, ChannelsLastMaxPool2d)
    try:
        from torchvision.ops import FrozenBatchNorm2d, StochasticDepth
    except ImportError:  # torchvision is optional here
        return own
    return (*own, FrozenBatchNorm2d, StochasticDepth)


class LeafTracer(torch.fx.Tracer):
    """An fx tracer that keeps the given module classes (and torch.nn's) as leaves."""

    def __init__(self, leaf_modules=None):
        super().__init__()
        self.leaf_modules = tuple(default_leaf_modules() if leaf_modules is None else leaf_modules)

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        if self.leaf_modules and isinstance(m, self.leaf_modules):
            return True
        return super().is_leaf_module(m, qualname)


def _conv_out(size, k, s, p, d, ceil=False) -> int:
    num = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(num / s) if ceil else num // s) + 1
    if ceil and (out - 1) * s >= size + p:  # the last window must start inside the input
        out -= 1
    return out


def _tup(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def fast_shape(m: nn.Module, shape: tuple) -> tuple | None:
    """Output shape of a common leaf module, or None to run it on meta tensors."""
    kind, _ = module_op(m)
    if isinstance(m, nn.modules.batchnorm._NormBase):
        return shape if len(shape) > 1 and shape[1] == m.num_features else None
    if kind == "act":
        return shape
    if isinstance(m, nn.Linear):
        return shape[:-1] + (m.out_features,) if shape[-1] == m.in_features else None
    if (isinstance(m, nn.modules.conv._ConvNd) and not m.transposed and not isinstance(m.padding, str)
            and len(shape) > 1 and shape[1] == m.in_channels):
        n = len(m.kernel_size)
        sp = tuple(_conv_out(s, k, st, p, d) for s, k, st, p, d in
                   zip(shape[2:], m.kernel_size, m.stride, m.padding, m.dilation))
        return (shape[0], m.out_channels) + sp if len(shape) == n + 2 else None
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) and len(shape) == 4:
        k = _tup(m.kernel_size, 2)
        s = _tup(m.stride or m.kernel_size, 2)
        p = _tup(m.padding, 2)
        d = _tup(getattr(m, "dilation", 1), 2)
        return shape[:2] + tuple(_conv_out(x, *a, ceil=m.ceil_mode) for x, a in zip(shape[2:], zip(k, s, p, d)))
    if isinstance(m, nn.AdaptiveAvgPool2d) and len(shape) == 4:
        o = _tup(m.output_size, 2)
        return shape[:2] + tuple(x if t is None else t for x, t in zip(shape[2:], o))
    return None


def _elementwise_shape(fn, args, kwargs):
    """An empty meta tensor of the output of an elementwise op (sum, product, activation)
    on meta tensors, without running it: dispatching each of a network's many small ops
    costs more than the rest of the trace. None for anything else."""
    if kwargs or not is_elementwise(fn):
        return None
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not tensors or any(t.device.type != "meta" for t in tensors) or any(
            not isinstance(a, (torch.Tensor, int, float)) or isinstance(a, bool) for a in args):
        return None
    shape = torch.broadcast_shapes(*(t.shape for t in tensors))
    return torch.empty(shape, dtype=torch.result_type(*args[:2]) if len(args) > 1 else tensors[0].dtype,
                       device="meta")


def _tuple_of_tensors(out) -> bool:
    return isinstance(out, (tuple, list)) and bool(out) and isinstance(out[0], torch.Tensor) and out[0].dim() >= 2


def _fetch(root: nn.Module, target: str):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _scope(node) -> str:
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return ""
    return next(reversed(stack)).split("@")[0]


class _Converter:
    """Walks an fx graph once: meta values, shapes, MACs and graph nodes together."""

    def __init__(self, root: nn.Module):
        self.root = root
        self.modules = dict(root.named_modules())
        self.env: dict = {}
        self.real: dict = {}  # get_attr node -> real tensor (index buffers)
        self.feat: dict = {}  # fx node -> graph node name, or ("split", name, ranges)
        self.calls: dict[str, int] = {}
        self.dims: dict[str, tuple] = {}  # graph node -> (channel dim, shape)
        self.graph = LayerGraph(method="fx")
        # Counts the MACs of the ops that really run on meta tensors (modules without a fast
        # shape, functions); ours are counted from their shapes. Entering it only around
        # those keeps the many cheap steps out of its dispatch.
        self.counter = FlopCounterMode(display=False)

    def name(self, node) -> str:
        if node.op == "call_module":
            k = self.calls.get(node.target, 0)
            self.calls[node.target] = k + 1
            return node.target if k == 0 else f"{node.target}@{k}"
        scope = _scope(node)
        return f"{scope}.{node.name}" if scope else node.name

    def load(self, a):
        return torch.fx.node.map_arg(a, lambda n: self.env[n])

    def features(self, node) -> list[str]:
        out: list[str] = []
        torch.fx.node.map_arg((node.args, node.kwargs),
                              lambda n: out.append(self.feat[n]) if isinstance(self.feat.get(n), str) else None)
        return out

    def run(self, fx_graph, example) -> LayerGraph:
        for node in fx_graph.nodes:
            self.step(node, example)
        return self.graph

    def step(self, node, example):
        if node.op == "placeholder":
            x = example.pop(0) if example else None
            self.env[node] = torch.empty(x.shape, dtype=x.dtype, device="meta") if isinstance(x, torch.Tensor) else x
            if isinstance(x, torch.Tensor):
                self.add(node, "input", self.env[node], [], target="input")
            return
        if node.op == "get_attr":
            val = _fetch(self.root, node.target)
            self.real[node] = val
            self.env[node] = torch.empty_like(val, device="meta") if isinstance(val, torch.Tensor) else val
            return
        if node.op == "output":
            self.graph.add(Node("output", "output", inputs=self.features(node)))
            return
        args, kwargs = self.load(node.args), self.load(node.kwargs)
        ins = self.features(node)
        if node.op == "call_module":
            self.call_module(node, args, kwargs, ins)
        else:
            fn = node.target
            out = _elementwise_shape(fn, args, kwargs)
            if out is None:
                with self.counter:
                    out = getattr(args[0], fn)(*args[1:], **kwargs) if node.op == "call_method" else fn(*args, **kwargs)
            self.env[node] = out
            self.call_function(node, fn, args, kwargs, ins, out)

    def call_module(self, node, args, kwargs, ins):
        m = self.modules[node.target]
        x = args[0] if args else None
        shape = fast_shape(m, tuple(x.shape)) if isinstance(x, torch.Tensor) and len(args) == 1 and not kwargs else None
        if shape is not None:
            out = torch.empty(shape, dtype=x.dtype, device="meta")
        else:
            state = {k: torch.empty_like(v, device="meta") for k, v in
                     list(m.named_parameters()) + list(m.named_buffers())}
            with self.counter:
                out = torch.func.functional_call(m, state, tuple(args), kwargs)
        self.env[node] = out
        params = sum(p.numel() for p in m.parameters())
        if not self.is_feature(node, out, ins, params, type(m).__name__):
            return
        op, extra = module_op(m)
        macs = 0
        if op == "conv":
            macs = conv_macs(m.weight.shape, out.shape) if shape is not None else 0
        elif op == "linear":
            macs = linear_macs(m.weight.shape, out.shape)
        self.add(node, op, out, ins, params=params, macs=macs, target=type(m).__name__, **extra)

    def call_function(self, node, fn, args, kwargs, ins, out):
        name = fn if isinstance(fn, str) else getattr(fn, "__name__", str(fn))
        cdim = self.dims[ins[0]][0] if ins else 1
        if is_split(fn) and ins:
            src = args[0]
            ranges = split_ranges(fn, args, kwargs, src.shape[cdim], src.dim(), cdim)
            self.feat[node] = ("split", ins[0], ranges)
            return
        parent = self.feat.get(node.args[0]) if node.args else None
        if isinstance(parent, tuple) and parent[0] == "tuple":
            if node.args[1] == 0:
                self.feat[node] = parent[1]
            return
        if isinstance(parent, tuple) and isinstance(node.args[1], int):
            _, src, ranges = parent
            if ranges is None:
                self.add(node, "other", out, [src], target="split")
            else:
                lo, hi = ranges[node.args[1]]
                self.add(node, "index", out, [src], keep=list(range(lo, hi)), target="split")
            return
        params = sum(v.numel() for a in node.all_input_nodes
                     if isinstance(v := self.real.get(a), nn.Parameter))
        if not self.is_feature(node, out, ins, params, name):
            return
        # index_select's index is a buffer: fx holds it as a get_attr node, whose real value we kept.
        idx = self.real.get(node.args[2]) if len(node.args) > 2 and isinstance(node.args[2], torch.fx.Node) else None
        op, extra = call_details(fn, args, kwargs, len(ins), out, cdim, idx)
        self.add(node, op, out, ins, target=name, call=(fn, args, kwargs), params=params, **extra)

    def is_feature(self, node, out, ins, params: int, target: str) -> bool:
        """Whether ``out`` is a feature map the caller adds. A tuple of tensors (e.g.
        attention's (output, weights)) is added here by its first item, the feature; an
        output that reads no feature or has no channels is not added."""
        if ins and _tuple_of_tensors(out):
            self.add(node, "other", out[0], ins, params=params, target=target)
            self.feat[node] = ("tuple", self.feat[node])
            return False
        return bool(ins) and isinstance(out, torch.Tensor) and out.dim() >= 2

    def add(self, node, op, out, ins, call=(None, (), {}), **kw):
        name = self.name(node)
        add_feature(self.graph, self.dims, name, op, out, ins, call, **kw)
        self.feat[node] = name


def fx_graph(model: nn.Module, example_input, leaf_modules=None) -> tuple[LayerGraph, int]:
    """Trace ``model`` with fx; returns the layer graph and the MACs that ran on meta tensors.

    Raises whatever fx raises when it cannot trace the model.
    """
    fxg = LeafTracer(leaf_modules).trace(model)
    example = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    conv = _Converter(model)
    graph = conv.run(fxg, example)
    return graph, conv.counter.get_total_flops() // 2
