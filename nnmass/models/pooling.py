"""Average and max pooling with torch's own values, faster on CPU.

torch's CPU pooling walks an NCHW tensor one output at a time; on NAS cells'
tensors it costs as much as a convolution, and more in the double backward grasp
takes through it. Its channels-last kernels vectorise across channels and are 3-5
times faster. Each pair of kernels visits a window in the same order:

- average: the inputs are added in the same order, then divided; backward adds
  ``grad / divisor`` to each input in the same output order;
- max: the first largest value wins (a NaN always), so the indices, and backward's
  scatter of the gradient to them, are the same.

So the values are the same bit for bit, and so is the layout handed back
(``tests/test_models_pooling.py`` checks forward, backward and double backward).

:class:`ChannelsLastAvgPool2d` and :class:`ChannelsLastMaxPool2d` are torch's
modules that pool channels-last on CPU and hand back NCHW, so every layer after
them sees the layout it saw before. Elsewhere (CUDA, meta tensors, fx proxies,
torch.func's transforms, under a torch function mode such as nnmass's layer
recorder) they are torch's.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair

__all__ = ["ChannelsLastAvgPool2d", "ChannelsLastMaxPool2d"]


class ChannelsLastAvgPool2d(nn.AvgPool2d):
    """``nn.AvgPool2d`` (same arguments, same values), pooled channels-last on CPU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not _takes_fast_path(x):
            return super().forward(x)
        return _AvgPool.apply(x, self._settings())

    def _settings(self) -> tuple:
        return (self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                self.divisor_override)


class ChannelsLastMaxPool2d(nn.MaxPool2d):
    """``nn.MaxPool2d`` (same arguments, same values), pooled channels-last on CPU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.return_indices or not _takes_fast_path(x):
            return super().forward(x)
        settings = (self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)
        if not (torch.is_grad_enabled() and x.requires_grad):  # no backward: no indices
            return _laid_out(_max_pool(x, settings, indices=False), False)
        out, _ = _MaxPool.apply(x, settings)
        return out


def _takes_fast_path(x) -> bool:
    """A plain NCHW CPU tensor, outside torch.func's transforms and torch function modes."""
    return (type(x) is torch.Tensor and x.device.type == "cpu" and x.dim() == 4
            and x.dtype in (torch.float32, torch.float64) and not torch._C._is_torch_function_mode_enabled()
            and not torch._C._functorch.is_functorch_wrapped_tensor(x) and x.is_contiguous())


def _is_channels_last(t: torch.Tensor) -> bool:
    return t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


def _laid_out(t: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``t`` in the layout torch's kernel would have given: that of the tensor it follows."""
    return t.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def _pool(x: torch.Tensor, settings: tuple) -> torch.Tensor:
    kernel, stride, padding, ceil_mode, count_include_pad, divisor = settings
    out = F.avg_pool2d(_laid_out(x, True), kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    return _laid_out(out, _is_channels_last(x))


def _pool_backward(grad: torch.Tensor, shape: torch.Size, channels_last: bool, settings: tuple) -> torch.Tensor:
    kernel, stride, padding, ceil_mode, count_include_pad, divisor = settings
    # The kernel reads only the input's shape and layout, never its values.
    like = torch.empty(shape, dtype=grad.dtype, memory_format=torch.channels_last)
    out = torch.ops.aten.avg_pool2d_backward(_laid_out(grad, True), like, _pair(kernel), _pair(stride),
                                             _pair(padding), ceil_mode, count_include_pad, divisor)
    return _laid_out(out, channels_last)


# The Functions below set their context in ``forward``: with a separate ``setup_context``,
# every ``apply`` binds its arguments through ``inspect.signature`` (12 us a call, a few
# hundred calls per NB201 network), and these never run under torch.func's transforms.


class _AvgPool(torch.autograd.Function):
    """Pooling whose gradient is :class:`_AvgPoolBackward`, as torch's is ``avg_pool2d_backward``."""
    @staticmethod
    def forward(ctx, x, settings):
        ctx.settings, ctx.shape, ctx.channels_last = settings, x.shape, _is_channels_last(x)
        return _pool(x, settings)

    @staticmethod
    def backward(ctx, grad):
        return _AvgPoolBackward.apply(grad, ctx.shape, ctx.channels_last, ctx.settings), None


class _AvgPoolBackward(torch.autograd.Function):
    """``avg_pool2d_backward``; it is linear in the gradient, and its own gradient is
    the pooling of the incoming one (torch's ``derivatives.yaml`` rule)."""
    @staticmethod
    def forward(ctx, grad, shape, channels_last, settings):
        ctx.settings = settings
        return _pool_backward(grad, shape, channels_last, settings)

    @staticmethod
    def backward(ctx, grad_grad):
        return _AvgPool.apply(grad_grad, ctx.settings), None, None, None


def _max_pool(x: torch.Tensor, settings: tuple, indices: bool):
    kernel, stride, padding, dilation, ceil_mode = settings
    return F.max_pool2d(_laid_out(x, True), kernel, stride, padding, dilation, ceil_mode, return_indices=indices)


class _MaxPool(torch.autograd.Function):
    """Max pooling, channels-last; its gradient is torch's NCHW one (a scatter to the
    indices, as fast in either layout), so the indices are handed back NCHW for it."""
    @staticmethod
    def forward(ctx, x, settings):
        out, indices = _max_pool(x, settings, indices=True)
        out, indices = _laid_out(out, False), _laid_out(indices, False)
        ctx.settings, ctx.shape = settings, x.shape
        ctx.save_for_backward(indices)
        ctx.mark_non_differentiable(indices)
        return out, indices

    @staticmethod
    def backward(ctx, grad, _):
        indices, = ctx.saved_tensors
        kernel, stride, padding, dilation, ceil_mode = ctx.settings
        # torch's own backward op, so its gradient (the double backward) is torch's too;
        # the kernel reads only the input's shape and layout, never its values.
        like = torch.empty(ctx.shape, dtype=grad.dtype)
        return torch.ops.aten.max_pool2d_with_indices_backward(
            grad, like, _pair(kernel), _pair(stride), _pair(padding), _pair(dilation), ceil_mode, indices), None
