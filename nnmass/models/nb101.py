"""NAS-Bench-101 networks, built as the benchmark trained them.

NAS-Bench-101 (Ying et al., ICML 2019; reference: google-research/nasbench
``nasbench/lib/model_builder.py``) repeats one cell (:mod:`nnmass.spaces.nb101`):
a stem (3x3 conv, BN, ReLU, 128 channels), three stacks of three cells, a 2x2
max-pool of stride 2 before each stack after the first, which doubles the
channels, then global average pooling and a dense layer.

Inside a cell of ``C_in`` input and ``C`` output channels (channel split:
:func:`nnmass.spaces.nb101.vertex_channels`):

* an interior vertex sums its inputs: each interior predecessor cut to the vertex's
  channels (its first ones), and, when the cell input feeds it, a 1x1 conv-BN-ReLU
  projection of the input to those channels; then applies its op (conv-BN-ReLU, or
  a 3x3 max-pool of stride 1 that keeps the channels);
* the output concatenates the vertices that feed it, and adds a 1x1 projection of
  the input to ``C`` channels when the input feeds the output directly (the
  projection alone when no vertex feeds it).

Convolutions have no bias; BN is affine. The parameter count equals NASLib's
published ``params`` for every architecture of its NB101 sample.

The pools are :mod:`nnmass.models.pooling`'s subclasses of torch's: torch's values
bit for bit, pooled channels-last on CPU, where that is faster.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..spec.nb101 import CONV1X1, CONV3X3, MAXPOOL, format_arch, vertex_channels
from ..validate import check_int
from .pooling import ChannelsLastMaxPool2d

__all__ = ["ConvBNReLU", "Cell", "NB101Network", "build_nb101"]


class ConvBNReLU(nn.Sequential):
    """Bias-free conv (same padding), BN, ReLU: NB101's ``conv_bn_relu``."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__(OrderedDict(
            conv=nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            bn=nn.BatchNorm2d(c_out), relu=nn.ReLU()))


def _vertex_op(op: str, channels: int) -> nn.Module:
    if op == CONV3X3:
        return ConvBNReLU(channels, channels, 3)
    if op == CONV1X1:
        return ConvBNReLU(channels, channels, 1)
    assert op == MAXPOOL, op
    return ChannelsLastMaxPool2d(3, stride=1, padding=1)


class Cell(nn.Module):
    """One NB101 cell (a module, in NB101's words) of a pruned ``(matrix, ops)``."""

    def __init__(self, arch, c_in: int, c_out: int):
        super().__init__()
        matrix, ops = arch
        n = len(ops)
        self.matrix = [list(row) for row in matrix]
        self.channels = vertex_channels(matrix, c_in, c_out)
        self.ops = nn.ModuleDict((str(v), _vertex_op(ops[v], self.channels[v])) for v in range(1, n - 1))
        # Projections of the cell input: one per vertex it feeds ("n-1" is the output).
        self.proj = nn.ModuleDict((str(v), ConvBNReLU(c_in, self.channels[v], 1))
                                  for v in range(1, n) if matrix[0][v])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, ch, n = self.matrix, self.channels, len(self.matrix)
        values = [x]
        for t in range(1, n - 1):
            # NB101 cuts a wider input (by one channel at most) to its first channels.
            summands = [values[s] if ch[s] == ch[t] else values[s][:, :ch[t]] for s in range(1, t) if m[s][t]]
            if m[0][t]:
                summands.append(self.proj[str(t)](x))
            total = summands[0]
            for extra in summands[1:]:
                total = total + extra
            values.append(self.ops[str(t)](total))
        fan_in = [values[v] for v in range(1, n - 1) if m[v][n - 1]]
        if not fan_in:
            return self.proj[str(n - 1)](x)
        out = fan_in[0] if len(fan_in) == 1 else torch.cat(fan_in, dim=1)
        if m[0][n - 1]:
            out = out + self.proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """Stem, ``stacks`` stacks of ``cells`` cells (channels doubled after each 2x2
    max-pool), global average pooling, a linear classifier."""

    def __init__(self, arch, num_classes: int = 10, channels: int = 128, stacks: int = 3, cells: int = 3):
        super().__init__()
        self.arch = format_arch(arch)
        self.stem = ConvBNReLU(3, channels, 3)
        layers, width, c_prev = [], channels, channels
        for stack in range(stacks):
            if stack:
                layers.append(ChannelsLastMaxPool2d(2, stride=2))
                width *= 2
            for _ in range(cells):
                layers.append(Cell(arch, c_prev, width))
                c_prev = width
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.classifier(torch.flatten(self.pool(x), 1))


def build_nb101(arch, num_classes: int = 10, channels: int = 128, stacks: int = 3, cells: int = 3) -> NB101Network:
    """Build the NB101 network of a pruned ``arch`` (from :meth:`NB101Space.parse`);
    the defaults are the benchmark's.

    Args:
        arch: ``(matrix, ops)`` as :func:`nnmass.spaces.nb101.make_arch` returns it.
        num_classes: the classifier's outputs (10 for CIFAR-10).
        channels: the stem's channels (NB101: 128); stack ``s`` has ``channels * 2**s``.
        stacks: stacks of cells (NB101: 3).
        cells: cells per stack (NB101: 3).

    Raises:
        UsageError: a size out of range.
    """
    check_int("NB101 num_classes", num_classes, 1, 4096)
    check_int("NB101 channels", channels, 1, 4096)
    check_int("NB101 stacks", stacks, 1, 8)
    check_int("NB101 cells", cells, 1, 64)
    return NB101Network(arch, num_classes=num_classes, channels=channels, stacks=stacks, cells=cells)
