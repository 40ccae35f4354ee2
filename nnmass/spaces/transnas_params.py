"""The parameter count of a TransNAS-Bench-101 network in closed form, torch-free.

Building a full network to count its weights takes about 40 ms even on the meta
device, so checking NASLib's ~10,000 published counts that way is slow; this sum
over the layers of :mod:`nnmass.models.transnas` is instant, and the tests check
it against ``sum(p.numel())`` of built networks.
"""
from __future__ import annotations


def _conv_bn(c_in: int, c_out: int, kernel: int) -> int:
    return c_in * c_out * kernel * kernel + 2 * c_out  # bias-free conv + affine BN


def _micro_op(code: int, c_in: int, c_out: int, stride: int) -> int:
    if code == 0 or (code == 1 and stride == 1 and c_in == c_out):
        return 0  # none, identity
    if code == 1:
        return c_in * c_out + 2 * c_out  # factorized reduce: two 1x1 halves + BN
    return _conv_bn(c_in, c_out, 1 if code == 2 else 3)


def _micro_cell(cell, c_in: int, c_out: int, stride: int) -> int:
    sources = (0, 0, 1, 0, 1, 2)  # the source node of each edge, in the benchmark's order
    return sum(_micro_op(op, c_in, c_out, stride) if src == 0 else _micro_op(op, c_out, c_out, 1)
               for op, src in zip(cell, sources))


def _basic_block(c_in: int, c_out: int, stride: int) -> int:
    shortcut = c_in * c_out + 2 * c_out if stride != 1 or c_in != c_out else 0
    return _conv_bn(c_in, c_out, 3) + _conv_bn(c_out, c_out, 3) + shortcut


def encoder_params(modules: str, cell, channels: int = 64) -> tuple[int, int, int]:
    """``(params, output channels, reductions)`` of the encoder; ``cell`` None for
    the macro space's basic blocks. ``reductions``: log2 of input over output size."""
    half = channels // 2
    total = 3 * half * 9 + 2 * half + _conv_bn(half, channels, 3)
    c, reductions = channels, 2
    for code in map(int, modules):
        c_out, stride = (2 * c if code % 2 == 0 else c), (2 if code > 2 else 1)
        reductions += stride == 2
        if cell is None:
            total += _basic_block(c, c_out, stride) + _basic_block(c_out, c_out, 1)
        else:
            total += _micro_cell(cell, c, c_out, stride) + _micro_cell(cell, c_out, c_out, 1)
        c = c_out
    return total, c, reductions


def _layer(c_in: int, c_out: int, norm: bool = True) -> int:
    return c_in * c_out * 9 + c_out + (2 * c_out if norm else 0)  # biased (de)conv 3x3 (+ BN)


def head_params(task: str, c: int, reductions: int, classes: int) -> int:
    """Parameters of ``task``'s head on ``c`` encoder channels."""
    if task == "jigsaw":
        return (9 * c + 1) * classes
    if task == "segmentsemantic":
        total, width = _layer(c, 1024), 1024
        for _ in range(6 - reductions):
            total, width = total + _layer(width, width // 2), width // 2
        for _ in range(reductions - 1):
            total, width = total + _layer(width, width // 2), width // 2
        return total + _layer(width, width) + _layer(width, classes, norm=False)
    if task in ("autoencoder", "normal"):
        widths = (c, 1024, 1024, 512, 512, 256, 128, 64, 64, 32, 32, 16, 32, 16)
        return sum(_layer(a, b) for a, b in zip(widths, widths[1:])) + _layer(16, classes, norm=False)
    return (c + 1) * classes


def network_params(modules: str, cell, task: str, classes: int, channels: int = 64) -> int:
    """Parameters of the whole network (encoder and ``task``'s head)."""
    total, c, reductions = encoder_params(modules, cell, channels)
    return total + head_params(task, c, reductions, classes)
