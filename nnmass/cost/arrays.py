"""Vectorised closed-form costs of the searchable families (dense MLP, dense CNN,
MobileNetV2). Every argument broadcasts; results are int64 arrays, or Python ints
when every input is a scalar (for ``dense_cnn_cost``: one candidate)."""
from __future__ import annotations

import numpy as np

from ..spec import MOBILENET_V2_STAGES, cell_width
from ..spec import make_divisible as make_divisible_array  # scalars and arrays alike
from ..topology import dense_skip_count


def _i64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def _out(x):
    x = np.asarray(x, dtype=np.int64)
    return int(x) if x.ndim == 0 else x


def conv_out(size, kernel: int, stride: int, padding: int):
    """Spatial output size of a conv or pooling window (floor mode)."""
    return (_i64(size) + 2 * padding - kernel) // stride + 1


def dense_mlp_cost(input_dim, width, depth, tc, num_classes, official=True):
    """Params and MACs (per sample) of a DenseNet-type MLP (Fig. 1a).

    Layer 0 is ``Linear(input_dim, w)``; layer ``i >= 1`` of the cell reads ``w + t_i``
    inputs, ``t_1 = 0`` and ``t_i = min(w (i-1), tc)``, whose sum over the cell is
    ``dense_skip_count`` (Eq. 1's numerator). All layers have biases.

    - ``official`` (the authors' layout): layers ``0..d-2`` have ``w`` outputs and layer
      ``d-1`` is the classifier, ``Linear(w + t_{d-1}, num_classes)``.
    - otherwise: ``d`` hidden layers of ``w``, then ``Linear(w, num_classes)``.

    Returns:
        ``(params, macs)``.
    """
    i, w, d, t, k = (_i64(a) for a in (input_dim, width, depth, tc, num_classes))
    official = np.asarray(official, dtype=bool)
    skips = dense_skip_count(d, w, t)
    last = np.where(d >= 3, np.minimum(w * (d - 2), t), 0)  # t_{d-1}: the classifier's skips
    hidden = np.where(official, d - 1, d)  # layers with w outputs
    hidden_in = i + (hidden - 1) * w + np.where(official, skips - last, skips)
    classifier_in = np.where(official, w + last, w)
    macs = w * hidden_in + classifier_in * k
    params = macs + hidden * w + k  # + biases
    return _out(params), _out(macs)


def dense_cnn_cost(depth, wm, tc, separable, in_channels, input_size, num_classes, official=False):
    """Params and MACs (per image) of a DenseNet-type CNN.

    Args:
        depth: layers per cell, shape ``(..., C)``.
        wm: width multiplier, shape ``(...)``; cell ``c`` has ``round(16 wm 2^c)`` channels.
        tc: most skip channels per layer, shape ``(..., C)``.
        separable: bool, shape ``(...)``: 1x1 -> depthwise 3x3 -> 1x1 instead of a 3x3 conv.
        in_channels, input_size, num_classes: scalars or arrays of shape ``(...)``.
        official: the authors' layout (a scalar): BN -> act -> conv, 2x2 pooling + FC head.

    Every conv is bias-free, with a BN of 2 params per channel: after it (``conv-bn-act``)
    or before it on the layer's input (``official``; none before the conv that reads the
    image). Cell ``c`` runs at ``ceil(input_size / 2^c)``: its first layer has stride 2
    when ``c >= 1``. The sampled skips of a cell total ``dense_skip_count(d, w, tc)``.
    The head is global pooling and ``Linear(w_last, k)``, or (``official``) 2x2 pooling
    and ``Linear(w_last s^2, k)`` with ``s`` half the last cell's side.

    Returns:
        ``(params, macs)``.
    """
    d, t = _i64(depth), _i64(tc)
    # Per-candidate arguments get a cell axis of length 1, then everything broadcasts.
    wm, sep, first_in, h, k = (np.asarray(a)[..., None] for a in (wm, separable, in_channels, input_size,
                                                                  num_classes))
    cells = np.arange(d.shape[-1])
    shape = np.broadcast_shapes(d.shape, t.shape, wm.shape, sep.shape, first_in.shape, h.shape, k.shape)
    w = np.broadcast_to(cell_width(wm.astype(np.float64), cells), shape)  # (..., C)
    first_in = np.broadcast_to(first_in.astype(np.int64), shape[:-1] + (1,))
    c_in = np.concatenate([first_in, w[..., :-1]], axis=-1)
    h, sep = h.astype(np.int64), sep.astype(bool)
    size = -(-h // (1 << cells))  # ceil(input_size / 2^c): nested stride-2 3x3 convs
    size_in = -(-h // (1 << np.maximum(cells - 1, 0)))  # cell c reads cell c-1's output
    area, area_in = size * size, size_in * size_in

    # Sum over a cell's layers of their input channels (layer 0 reads c_in).
    later_in = (d - 1) * w + dense_skip_count(d, w, t)
    if official:  # BN on every layer input but the image's
        bn = 2 * (later_in + np.where(cells > 0, c_in, 0))
    else:
        bn = 2 * w * d
    reg_params = 9 * w * (c_in + later_in) + bn
    reg_macs = 9 * w * (c_in + later_in) * area
    # Separable: the first 1x1 runs before the (possibly strided) depthwise conv.
    inner = 9 * w + w * w  # depthwise 3x3 + second 1x1, per layer
    sep_params = w * (c_in + later_in) + d * inner + bn
    sep_macs = w * c_in * area_in + (w * later_in + d * inner) * area
    params = np.where(sep, sep_params, reg_params).sum(-1)
    macs = np.where(sep, sep_macs, reg_macs).sum(-1)

    k, last = k[..., 0].astype(np.int64), w[..., -1]
    if official:
        side = size[..., -1] // 2
        last = last * side * side  # features of the flattened pooled map
    return _out(params + last * k + k), _out(macs + last * k)


def _inverted_residual(inp, out, t, stride: int, size):
    """Params, MACs and output size of torchvision's InvertedResidual block."""
    hidden = inp * t
    size_out = conv_out(size, 3, stride, 1)
    expand = t != 1  # torchvision drops the 1x1 expansion when t == 1
    params = np.where(expand, inp * hidden + 2 * hidden, 0) + 11 * hidden + hidden * out + 2 * out
    macs = np.where(expand, inp * hidden * size * size, 0) + (9 * hidden + hidden * out) * size_out * size_out
    return params, macs, size_out


def mobilenet_v2_cost(width_mult, blocks, expansion, num_classes, input_size):
    """Params and MACs (per image) of torchvision's MobileNetV2.

    Args:
        width_mult: shape ``(...)``.
        blocks: blocks per stage, shape ``(..., 7)``.
        expansion: expansion ratio of stages 2-7, shape ``(...)`` (stage 1 keeps 1).
        num_classes, input_size: scalars or shape ``(...)``.

    Returns:
        ``(params, macs)``.
    """
    wmul = np.asarray(width_mult, dtype=np.float64)
    n_blocks, e = _i64(blocks), _i64(expansion)
    k = _i64(num_classes)
    inp = make_divisible_array(32 * wmul)
    size = conv_out(input_size, 3, 2, 1)
    params, macs = 29 * inp, 27 * inp * size * size  # stem 3x3 conv + BN
    for stage, (t0, c, _, s) in enumerate(MOBILENET_V2_STAGES):
        t = t0 if stage == 0 else e
        n = n_blocks[..., stage]
        out = make_divisible_array(c * wmul)
        p1, m1, size = _inverted_residual(inp, out, t, s, size)
        p2, m2, _ = _inverted_residual(out, out, t, 1, size)  # the n-1 repeats
        params, macs = params + p1 + (n - 1) * p2, macs + m1 + (n - 1) * m2
        inp = out
    last = make_divisible_array(1280 * np.maximum(1.0, wmul))
    params = params + inp * last + 2 * last + last * k + k
    macs = macs + inp * last * size * size + last * k
    return _out(params), _out(macs)
