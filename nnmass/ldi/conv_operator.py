"""A conv layer (plain, depthwise, or a 1x1 -> kxk -> 1x1 stack) as one dense kernel.

A separable block ``1x1 -> depthwise kxk -> 1x1`` is still a single linear map
``W``: composing the three kernels gives a dense ``(c_out, c_in, k, k)`` kernel
with the depthwise conv's stride and padding. This is exact for the Jacobian even
with biases: the zero padding of the depthwise conv's input is a constant, so its
derivative is zero, exactly as for a zero-padded input of the composite kernel.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import UsageError


@dataclass
class ConvOperator:
    """Kernel ``(c_out, c_in / groups, kh, kw)`` with its stride, padding, groups and dilation."""

    weight: torch.Tensor
    stride: tuple[int, int]
    padding: tuple[int, int]
    groups: int = 1
    dilation: tuple[int, int] = (1, 1)


def single_conv_operator(conv: nn.Module) -> ConvOperator:
    """The kernel of one ``nn.Conv2d`` as it is: any kernel, stride, dilation and groups
    (a depthwise conv keeps its ``(c, 1, k, k)`` kernel rather than a dense one)."""
    if type(conv) is not nn.Conv2d:
        raise UsageError(f"expected an nn.Conv2d, got {type(conv).__name__}")
    if conv.padding_mode != "zeros" or isinstance(conv.padding, str):
        raise UsageError(f"conv {conv} needs zero padding given as integers")
    return ConvOperator(conv.weight.detach(), tuple(conv.stride), tuple(conv.padding), conv.groups,
                        tuple(conv.dilation))


def conv_operator(module: nn.Module) -> ConvOperator:
    """The dense kernel of an ``nn.Conv2d`` or an ``nn.Sequential`` of them.

    At most one conv of a stack may be spatial (kernel > 1 or stride > 1); the
    others must be pointwise (1x1, stride 1, no padding).
    """
    convs = list(module) if isinstance(module, nn.Sequential) else [module]
    if not convs or not all(type(c) is nn.Conv2d for c in convs):
        raise UsageError(f"cannot read a linear conv operator from {type(module).__name__}; "
                         "supported: Conv2d or a Sequential of Conv2d")
    spatial = [c for c in convs if not _pointwise(c)]
    if len(spatial) > 1:
        raise UsageError("a conv stack may hold at most one spatial conv (the rest 1x1, stride 1)")
    for c in convs:
        if c.dilation != (1, 1) or c.padding_mode != "zeros" or isinstance(c.padding, str):
            raise UsageError(f"conv {c} needs dilation 1, zero padding given as integers")
    kernel = _dense_kernel(convs[0])
    for c in convs[1:]:
        nxt = _dense_kernel(c)
        if _pointwise(c):  # W[o,i,k] = sum_m P[o,m] K[m,i,k]
            kernel = torch.einsum("om,mikl->oikl", nxt[:, :, 0, 0], kernel)
        else:  # the earlier convs were pointwise: W[o,i,k] = sum_m K[o,m,k] P[m,i]
            kernel = torch.einsum("omkl,mi->oikl", nxt, kernel[:, :, 0, 0])
    ref = spatial[0] if spatial else convs[0]
    return ConvOperator(kernel, tuple(ref.stride), tuple(ref.padding))


def _pointwise(c: nn.Conv2d) -> bool:
    return c.kernel_size == (1, 1) and c.stride == (1, 1) and tuple(c.padding) == (0, 0)


def _dense_kernel(conv: nn.Conv2d) -> torch.Tensor:
    """The kernel of ``conv`` as a dense ``(c_out, c_in, kh, kw)`` tensor (grouped -> block-diagonal)."""
    w = conv.weight.detach()
    if conv.groups == 1:
        return w
    c_out, per_group, kh, kw = w.shape
    g = conv.groups
    dense = w.new_zeros(g, c_out // g, g, per_group, kh, kw)
    idx = torch.arange(g, device=w.device)
    dense[idx, :, idx] = w.view(g, c_out // g, per_group, kh, kw)  # group g's block on the diagonal
    return dense.view(c_out, g * per_group, kh, kw)
