"""The one op dispatch table: what each torch module or function is, as a
:mod:`nnmass.mass.graph` op kind, and what a graph node records about it.

Shared by both tracers (``torch.fx`` and the recording fallback), so they build
the same graph from the same network, and by LDI's layer finder
(:mod:`nnmass.ldi.layer_paths`), so both read a network the same way.
"""
from __future__ import annotations

import operator

import torch
import torch.nn.functional as F
from torch import nn

from ..mass.graph import Node

_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)
_POOLS = (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
          nn.modules.pooling._AdaptiveMaxPoolNd, nn.Upsample)
# Identity and dropout stand where an activation would: they end a layer.
_ACTS = (nn.Identity, nn.modules.dropout._DropoutNd, nn.ReLU, nn.ReLU6, nn.ELU, nn.LeakyReLU, nn.PReLU,
         nn.Tanh, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Mish,
         nn.Softplus, nn.SELU, nn.CELU, nn.Softmax, nn.LogSoftmax, nn.Tanhshrink, nn.Softsign)

_ADD = {operator.add, operator.iadd, torch.add, torch.Tensor.add, torch.Tensor.add_, torch.Tensor.__add__,
        torch.Tensor.__iadd__, torch.Tensor.__radd__, "add", "add_", "__add__", "__iadd__", "__radd__"}
_MUL = {operator.mul, operator.imul, torch.mul, torch.Tensor.mul, torch.Tensor.__mul__, torch.Tensor.__rmul__,
        torch.Tensor.mul_, torch.Tensor.__imul__, "mul", "mul_", "__mul__", "__rmul__"}
_ARITH = {operator.mul, operator.imul, operator.truediv, operator.sub, operator.isub, operator.neg,
          torch.mul, torch.sub, torch.div, torch.Tensor.mul, torch.Tensor.__mul__, torch.Tensor.__rmul__,
          torch.Tensor.__truediv__, torch.Tensor.__sub__, torch.Tensor.__rsub__, torch.Tensor.__neg__,
          torch.Tensor.mul_, torch.Tensor.div, torch.Tensor.sub, torch.Tensor.__imul__,
          "mul", "mul_", "div", "div_", "sub", "__mul__", "__rmul__", "__truediv__", "__sub__", "__rsub__", "neg"}
RELU_FNS = {F.relu, F.relu_, torch.relu, torch.relu_}
_RELU_LIKE = RELU_FNS | {torch.sigmoid, torch.tanh, "relu", "relu_", "sigmoid", "tanh"}
_ACT_FNS = RELU_FNS | {F.relu6, F.elu, F.leaky_relu, F.gelu, F.silu, F.mish,
            F.hardswish, F.hardsigmoid, F.hardtanh, F.sigmoid, torch.sigmoid, F.tanh, torch.tanh, F.softplus,
            F.dropout, F.dropout2d, F.softmax, F.log_softmax, torch.softmax, torch.clamp, torch.clamp_min,
            F.selu, F.celu, F.prelu, F.threshold, torch.Tensor.relu, torch.Tensor.relu_, torch.Tensor.sigmoid,
            torch.Tensor.tanh, torch.Tensor.clamp, torch.Tensor.clamp_min, torch.Tensor.clamp_, torch.Tensor.softmax,
            "relu", "relu_", "sigmoid", "tanh", "clamp", "clamp_min", "clamp_", "softmax", "sigmoid_", "hardtanh_"}
_NORM_FNS = {F.batch_norm, F.layer_norm, F.group_norm, F.instance_norm, F.local_response_norm}
_POOL_FNS = {F.max_pool1d, F.max_pool2d, F.max_pool3d, F.avg_pool1d, F.avg_pool2d, F.avg_pool3d,
             F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d, F.adaptive_max_pool1d,
             F.adaptive_max_pool2d, F.interpolate, F.pad, torch.nn.functional.max_pool2d_with_indices,
             torch.mean, torch.Tensor.mean, torch.amax, torch.Tensor.amax, "mean", "amax"}
_FLATTEN = {torch.flatten, torch.Tensor.flatten, torch.reshape, torch.Tensor.reshape, torch.Tensor.view,
            "flatten", "reshape", "view"}
_CAT = {torch.cat, torch.concat, torch.concatenate}
_CONV_FNS = {F.conv1d, F.conv2d, F.conv3d, torch.conv1d, torch.conv2d, torch.conv3d}
_LINEAR_FNS = {F.linear, torch._C._nn.linear}
_SPLIT = {torch.chunk, torch.split, torch.Tensor.chunk, torch.Tensor.split, "chunk", "split"}
_INDEX_SELECT = {torch.index_select, torch.Tensor.index_select, "index_select"}
_NARROW = {torch.narrow, torch.Tensor.narrow, "narrow"}
_GETITEM = {operator.getitem, torch.Tensor.__getitem__, "__getitem__"}
# Functions whose op kind does not depend on their arguments, checked in this order.
_KINDS = ((_CAT, "concat"), (_CONV_FNS, "conv"), (_LINEAR_FNS, "linear"), (_ACT_FNS, "act"), (_NORM_FNS, "bn"),
          (_POOL_FNS, "pool"), (_FLATTEN, "flatten"), (_INDEX_SELECT | _NARROW | _GETITEM, "index"))


def _in(fn, table) -> bool:
    try:
        return fn in table
    except TypeError:  # unhashable callables
        return False


def fn_name(fn) -> str:
    return fn if isinstance(fn, str) else getattr(fn, "__name__", type(fn).__name__)


def module_op(m: nn.Module) -> tuple[str, dict]:
    """Op kind of a leaf module call, with conv details."""
    if isinstance(m, nn.modules.conv._ConvNd):
        return "conv", {"groups": m.groups}
    if isinstance(m, nn.Linear):
        return "linear", {}
    if isinstance(m, _NORMS) or type(m).__name__ == "FrozenBatchNorm2d":
        return "bn", {}
    if isinstance(m, _ACTS):
        return "act", {}
    if isinstance(m, _POOLS):
        return "pool", {}
    if isinstance(m, nn.Flatten):
        return "flatten", {}
    return "other", {}


def function_op(fn, args, kwargs, n_features: int) -> str:
    """Op kind of a function or method call with ``n_features`` feature-tensor operands."""
    if _in(fn, _ADD):
        return "add" if n_features >= 2 else "act"
    if _in(fn, _MUL):
        if n_features >= 2:
            return "mul"
        return "zero" if any(_is_zero(a) for a in list(args) + list(kwargs.values())) else "act"
    if _in(fn, _ARITH):
        return "other" if n_features >= 2 else "act"
    return next((op for fns, op in _KINDS if _in(fn, fns)), "other")


def _is_zero(value) -> bool:
    """A constant zero factor (NAS-Bench-201's ``none``: ``x.mul(0.)``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def is_split(fn) -> bool:
    return _in(fn, _SPLIT)


def is_elementwise(fn) -> bool:
    """A sum, product or activation function: the output has its inputs' broadcast shape."""
    return _in(fn, _ADD) or _in(fn, _MUL) or _in(fn, _RELU_LIKE)


def is_add(fn) -> bool:
    """An elementwise sum (``+``, ``torch.add``, ``Tensor.add``)."""
    return _in(fn, _ADD)


def is_relu(fn) -> bool:
    return _in(fn, RELU_FNS)


def is_dropout(m: nn.Module) -> bool:
    return isinstance(m, nn.modules.dropout._DropoutNd)


def call_details(fn, args, kwargs, n_features: int, out, cdim: int, index_value=None) -> tuple[str, dict]:
    """Op kind of a function call and what its graph node records: the channels an
    index keeps, conv groups, MACs (for the whole batch).

    Args:
        n_features: how many feature tensors the call reads.
        out: its output tensor; ``cdim``: the channel dim of its first feature input.
        index_value: the real index tensor of an ``index_select`` (None if unknown).
    """
    op = function_op(fn, args, kwargs, n_features)
    extra: dict = {}
    if op == "concat" and cat_dim(args, kwargs) % out.dim() != cdim:
        op = "other"
    elif op == "index":
        op, extra["keep"] = channel_keep(fn, args, kwargs, args[0].shape[cdim], args[0].dim(), cdim, index_value)
    elif op == "conv":
        w = args[1] if len(args) > 1 else kwargs["weight"]
        extra.update(groups=kwargs.get("groups", args[6] if len(args) > 6 else 1), macs=conv_macs(w.shape, out.shape))
    elif op == "linear":
        w = args[1] if len(args) > 1 else kwargs["weight"]
        extra["macs"] = linear_macs(w.shape, out.shape)
    return op, extra


def cat_dim(args, kwargs) -> int:
    return kwargs.get("dim", args[1] if len(args) > 1 else 0)


def channel_keep(fn, args, kwargs, channels: int, ndim: int, cdim: int = 1,
                 index_value=None) -> tuple[str, list[int] | None]:
    """How an index op acts: ``("index", kept channels in output order)``, ``("pool", None)``
    when it picks positions but keeps every channel, or ``("other", None)``."""
    if _in(fn, _INDEX_SELECT):
        dim = kwargs.get("dim", args[1]) % ndim
        if dim != cdim:
            return "pool", None
        if index_value is None or index_value.device.type == "meta":
            return "other", None
        return "index", [int(i) % channels for i in index_value.reshape(-1).tolist()]
    if _in(fn, _NARROW):
        dim, start, length = (list(args[1:]) + [None] * 3)[:3]
        if dim is None:
            return "other", None
        if dim % ndim != cdim:
            return "pool", None
        return "index", list(range(channels))[start:start + length]
    key = args[1] if isinstance(args[1], tuple) else (args[1],)
    if Ellipsis in key:
        at = key.index(Ellipsis)
        key = key[:at] + (slice(None),) * (ndim - len(key) + 1) + key[at + 1:]
    key = key + (slice(None),) * (ndim - len(key))
    if len(key) != ndim or any(k is None for k in key):
        return "other", None
    others_full = all(k == slice(None) for i, k in enumerate(key) if i != cdim)
    ch = key[cdim]
    if ch == slice(None):
        return ("pool", None) if key[0] == slice(None) else ("other", None)
    if not others_full:
        return "other", None
    if isinstance(ch, slice):
        return "index", list(range(channels))[ch]
    if isinstance(ch, torch.Tensor) and ch.dtype in (torch.int64, torch.int32) and ch.device.type != "meta":
        return "index", [int(i) % channels for i in ch.reshape(-1).tolist()]
    if isinstance(ch, (list, tuple)) and all(isinstance(i, int) for i in ch):
        return "index", [i % channels for i in ch]
    return "other", None


_PERMUTE = {torch.permute, torch.Tensor.permute, "permute"}
_TRANSPOSE = {torch.transpose, torch.Tensor.transpose, torch.swapaxes, torch.Tensor.swapaxes, "transpose",
              "swapaxes"}


def out_channel_dim(op: str, fn, args, kwargs, in_cdim: int | None, in_shape, out_shape) -> int:
    """The feature (channel) dim of an op's output: 1 for convs (NC...), the last
    for linears; permutes and transposes move it; others keep their input's."""
    n_out = len(out_shape)
    if op == "conv" or in_cdim is None or in_shape is None:
        return 1
    if op == "linear":
        return n_out - 1
    n_in = len(in_shape)
    if _in(fn, _PERMUTE):
        dims = kwargs.get("dims", args[1] if len(args) == 2 and isinstance(args[1], (tuple, list)) else args[1:])
        return [d % n_in for d in dims].index(in_cdim)
    if _in(fn, _TRANSPOSE):
        a, b = args[1] % n_in, args[2] % n_in
        return b if in_cdim == a else a if in_cdim == b else in_cdim
    if n_out == n_in:
        return in_cdim
    if n_out == 2:
        return 1
    if in_cdim == n_in - 1 and out_shape[-1] == in_shape[-1]:
        return n_out - 1
    return 1


def layout(shape, cdim: int) -> tuple[int, tuple | None]:
    """(channels, spatial) of a tensor shape with features along ``cdim``."""
    spatial = tuple(int(s) for i, s in enumerate(shape) if i not in (0, cdim))
    return int(shape[cdim]), (spatial or None)


def split_ranges(fn, args, kwargs, channels: int, ndim: int, cdim: int = 1) -> list[tuple[int, int]] | None:
    """Channel ranges of the pieces of a chunk/split along the channel dim."""
    dim = kwargs.get("dim", args[2] if len(args) > 2 else 0)
    if dim % ndim != cdim:
        return None
    arg = args[1] if len(args) > 1 else kwargs.get("chunks", kwargs.get("split_size_or_sections"))
    if fn_name(fn) == "chunk":
        size = -(-channels // arg)
        sizes = [min(size, channels - s) for s in range(0, channels, size)]
    elif isinstance(arg, int):
        sizes = [min(arg, channels - s) for s in range(0, channels, arg)]
    else:
        sizes = list(arg)
    out, start = [], 0
    for s in sizes:
        out.append((start, start + s))
        start += s
    return out


def conv_macs(weight_shape, out_shape) -> int:
    """MACs of a convolution for the whole batch: one ``C_in/g x k`` dot product per output."""
    per_output = 1
    for s in weight_shape[1:]:
        per_output *= int(s)
    n = 1
    for s in out_shape:
        n *= int(s)
    return n * per_output


def linear_macs(weight_shape, out_shape) -> int:
    n = 1
    for s in out_shape:
        n *= int(s)
    return n * int(weight_shape[1])


def add_feature(graph, dims: dict, name: str, op: str, out: torch.Tensor, ins: list, call=(None, (), {}),
                **kw) -> None:
    """Add the feature ``out`` to ``graph`` as node ``name`` (its channels and spatial size
    read along the channel dim the op leaves), and record that dim and the shape in
    ``dims``. Both front ends (fx and recording) add every feature this way."""
    in_cdim, in_shape = dims[ins[0]] if ins else (None, None)
    cdim = out_channel_dim(op, *call, in_cdim, in_shape, tuple(out.shape))
    channels, spatial = layout(out.shape, cdim)
    graph.add(Node(name, op, inputs=ins, channels=channels, spatial=spatial, **kw))
    dims[name] = (cdim, tuple(out.shape))
