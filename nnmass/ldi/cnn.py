"""Exact channel-level Jacobian spectra of a DenseNet-type CNN at sampled positions.

A layer is ``s = phi(BN(W x))`` with ``W`` a linear conv operator (a 3x3 conv, or
the composite kernel of 1x1 -> depthwise 3x3 -> 1x1) and BN in eval mode, i.e.
the per-channel scale ``g = gamma / sqrt(running_var + eps)`` (``1/sqrt(1+eps)``
at init). The rows of the full Jacobian ``ds/dx`` belonging to output position
``p`` are

    J_p = diag(phi'(h[:, p])) diag(g) A_p,

with ``A_p`` the ``c_out x (c_in k k)`` kernel matrix whose columns are the input
pixels of ``p``'s receptive field. Every other column of those rows is zero, so
``J_p`` has exactly the singular values of the full Jacobian's row block. Taps
that fall on the zero padding are not inputs: their columns are zeroed, and the
zero singular values that this may add (only when ``c_in * valid taps < c_out``,
e.g. a 3-channel image at a corner) are left out through ``counts``.

``position_spectrum`` is shared with the torchvision families (``generic``): a
grouped or depthwise conv keeps its own kernel there, and ``J_p`` splits into
one block per group, each its own small SVD.

Here ``x`` is the layer's whole input: the previous layer's output with the
sampled skip channels concatenated, so ``c_in = w + t_i`` (Remark 1: nodes are
channels).

Cost: the Jacobian at one sample and position is a ``c_out x (9 c_in)`` matrix.
``A_p`` depends only on which taps are valid (at most 9 patterns for a 3x3
kernel), so each distinct ``A_p`` is compressed once by QR to a
``c_out x min(c_out, 9 c_in)`` matrix with the same spectrum under any row
scaling (``spectrum.compress_rows``). Each sample and position then costs one
small SVD, ``O(batch * positions * c_out^3)`` per layer, in one batched
``svdvals`` call per layer (chunked to bound memory). The ``positions`` per
layer (default 16; ``None`` = all) are drawn without replacement from a seeded
``torch.Generator`` and shared by the samples of the batch.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..errors import UsageError
from ..models.dense import DenseCNN
from .capture import capture
from .conv_operator import ConvOperator, conv_operator
from .derivatives import Derivative, activation_derivative
from .spectrum import LayerSpectrum, chunked_svdvals, compress_rows


def cnn_spectra(model: DenseCNN, x: torch.Tensor, include_input_layer: bool = False,
                positions: int | None = 16, generator: torch.Generator | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[LayerSpectrum]:
    """Singular values of ``J_p`` for every sample, layer and sampled output position.

    The network's first layer (reading the image) is measured only with
    ``include_input_layer``; every later layer, including the stride-2 first
    layer of a cell, maps another layer's output and is always measured.
    ``progress(done, total)`` is called before the first layer and after each.
    """
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    named = [(f"cells.{c}.layers.{i}", layer) for c, cell in enumerate(model.cells)
             for i, layer in enumerate(cell.layers)]
    if not include_input_layer:
        named = named[1:]
    # conv input (for the input size) and BN output h (the pre-activation) of each layer.
    seen = capture(model, [m for _, layer in named for m in (layer.conv, layer.bn)], x)
    out = []
    if progress is not None:
        progress(0, len(named))
    for k, (name, layer) in enumerate(named):
        conv_in, h = seen[2 * k][0], seen[2 * k + 1][1]
        out.append(_layer_spectrum(name, layer, conv_in.shape[-2:], h, positions, generator))
        if progress is not None:
            progress(k + 1, len(named))
    return out


def _layer_spectrum(name, layer: nn.Module, in_size, h: torch.Tensor, positions, generator) -> LayerSpectrum:
    return position_spectrum(name, conv_operator(layer.conv), bn_scale(layer.bn),
                             activation_derivative(layer.act), in_size, h, positions, generator)


def position_spectrum(name: str, op: ConvOperator, scale: torch.Tensor, dphi_of: Derivative, in_size,
                      h: torch.Tensor, positions: int | None, generator: torch.Generator) -> LayerSpectrum:
    """Singular values of ``J_p = diag(phi'(h_p)) diag(scale) A_p`` at sampled output positions ``p``.

    Args:
        name: the layer's name in the report.
        op: the conv's kernel; a grouped kernel ``(c_out, c_in / groups, kh, kw)`` makes
            ``J_p`` block-diagonal, one block per group, whose values are pooled.
        scale: ``(c_out,)`` per-channel factor after the conv (eval-mode BN, or ones).
        dphi_of: the activation's ``phi'`` (``torch.ones_like`` for none).
        in_size: the conv input's ``(H, W)``.
        h: ``(B, c_out, H_out, W_out)`` the pre-activation.
        positions: output positions sampled (None = all), from ``generator``.
    """
    c_out, c_in, kh, kw = op.weight.shape  # c_in per group
    g = op.groups
    h_out, w_out = h.shape[-2:]
    n = h_out * w_out
    take = n if positions is None else min(positions, n)
    pos = torch.randperm(n, generator=generator)[:take].sort().values.to(h.device)
    # Which taps of each sampled position land inside the input (not on padding).
    ky = (pos // w_out)[:, None] * op.stride[0] - op.padding[0] + torch.arange(kh, device=h.device) * op.dilation[0]
    kx = (pos % w_out)[:, None] * op.stride[1] - op.padding[1] + torch.arange(kw, device=h.device) * op.dilation[1]
    inside = ((ky >= 0) & (ky < in_size[0]))[:, :, None] & ((kx >= 0) & (kx < in_size[1]))[:, None, :]
    # Positions with the same valid taps share A_p: compress each distinct A_p once.
    patterns, which = torch.unique(inside.flatten(1).to(torch.uint8), dim=0, return_inverse=True)  # (U, kh kw)
    masks = patterns[:, None, :].expand(-1, c_in, -1).reshape(len(patterns), 1, 1, c_in * kh * kw)
    kernel = (scale[:, None] * op.weight.flatten(1)).view(g, c_out // g, c_in * kh * kw)
    bases = compress_rows(kernel[None] * masks.to(h.dtype))[which]  # (P, g, c_out/g, m)
    dphi = dphi_of(h.flatten(2)[:, :, pos]).transpose(1, 2).reshape(h.shape[0], take, g, c_out // g)

    def jacobians(start, stop):  # (n, P, g, c_out/g, m): row j scaled by phi'(h_j) per sample and position
        return dphi[start:stop, :, :, :, None] * bases[None]

    values = chunked_svdvals(jacobians, h.shape[0], bases.numel(), dim=0).flatten(-2)  # (B, P, g m)
    if g > 1:  # pool the groups' values, largest first, so counts still selects the structural ones
        values = values.sort(dim=-1, descending=True).values
    counts = g * torch.clamp(inside.flatten(1).sum(1) * c_in, max=c_out // g).cpu()
    return LayerSpectrum(name, values, counts, pos.cpu())


def bn_scale(bn: nn.Module) -> torch.Tensor:
    """Eval-mode BatchNorm as a per-channel scale ``gamma / sqrt(running_var + eps)``."""
    if not isinstance(bn, nn.BatchNorm2d) or bn.running_var is None:
        raise UsageError(f"expected BatchNorm2d with running statistics, got {type(bn).__name__}")
    scale = torch.rsqrt(bn.running_var.detach() + bn.eps)
    return scale * bn.weight.detach() if bn.affine else scale
