"""Networks of the DARTS space, as NAS-Bench-301 and NASLib build them.

The skeleton (DARTS's evaluation network, Liu et al., ICLR 2019; NAS-Bench-301's
training configuration: 32 channels, 8 cells): a stem conv3x3 + BN with ``3C``
channels, then ``layers`` cells, the ones at ``layers // 3`` and ``2 * layers // 3``
reduction cells (stride 2, channels doubled), then global average pooling and a
linear classifier. Each cell reads the two previous cells' outputs, each brought to
the cell's ``C`` channels by ReLU-conv1x1-BN (by a factorized reduction where the
previous-but-one output is at twice the resolution); node ``2 + k`` sums the two ops
of its pairs; the output concatenates nodes 2-5 (``4C`` channels).

The ops (``affine=False``, the default) are NASLib's, on which its NB301 zero-cost
scores and ``params`` were computed: BN without affine parameters inside the ops,
and a non-affine BN after each pooling (as in DARTS's search network). With
``affine=True`` they are DARTS's evaluation ops, as NB301 trained them: affine BN,
plain pools. The parameter count of the default network equals NASLib's published
``params`` for every architecture of its sample. NB301 also trained an auxiliary
head; it only feeds a training loss and is not built here (nor counted by NASLib).

The pools are :mod:`nnmass.models.pooling`'s subclasses of torch's: torch's values
bit for bit, pooled channels-last on CPU, where that is faster.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..spec.darts import CONCAT, NODES
from ..validate import check_int
from .pooling import ChannelsLastAvgPool2d, ChannelsLastMaxPool2d

__all__ = ["build_darts", "DartsNetwork", "DartsCell", "FactorizedReduce", "ReLUConvBN", "make_op"]


class ReLUConvBN(nn.Module):
    """ReLU, bias-free conv, BN: a cell's input projection."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(c_in, c_out, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.relu(x)))


class FactorizedReduce(nn.Module):
    """Halve the resolution with two stride-2 1x1 convs, the second offset by one
    pixel, each giving half the output channels (concatenated), then BN."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def _separable(c: int, kernel: int, stride: int, dilation: int, affine: bool) -> list[nn.Module]:
    """ReLU, depthwise conv, pointwise conv, BN."""
    return [nn.ReLU(), nn.Conv2d(c, c, kernel, stride, dilation * (kernel // 2), dilation=dilation, groups=c,
                                 bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=affine)]


def make_op(name: str, c: int, stride: int, affine: bool) -> nn.Module:
    """One op of a cell at ``c`` channels (stride 2 on a reduction cell's inputs)."""
    if name in ("max_pool_3x3", "avg_pool_3x3"):
        pool = (ChannelsLastMaxPool2d(3, stride, 1) if name == "max_pool_3x3"
                else ChannelsLastAvgPool2d(3, stride, 1, count_include_pad=False))
        return pool if affine else nn.Sequential(pool, nn.BatchNorm2d(c, affine=False))
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c, c, affine)
    kernel = int(name[-1])
    if name.startswith("sep_conv"):  # the separable block twice, the second at stride 1
        return nn.Sequential(*_separable(c, kernel, stride, 1, affine), *_separable(c, kernel, 1, 1, affine))
    if name.startswith("dil_conv"):
        return nn.Sequential(*_separable(c, kernel, stride, 2, affine))
    raise ValueError(f"unknown DARTS op {name!r}")


class DartsCell(nn.Module):
    """One cell: two input projections, 8 ops (two per node), nodes 2-5 concatenated."""

    def __init__(self, pairs, c_prev_prev: int, c_prev: int, c: int, reduction: bool, reduction_prev: bool,
                 affine: bool):
        super().__init__()
        self.preprocess0 = FactorizedReduce(c_prev_prev, c) if reduction_prev else ReLUConvBN(c_prev_prev, c)
        self.preprocess1 = ReLUConvBN(c_prev, c)
        self.ops = nn.ModuleList(make_op(op, c, 2 if reduction and source < 2 else 1, affine)
                                 for op, source in pairs)
        self.sources = tuple(source for _, source in pairs)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(NODES):
            a, b = 2 * k, 2 * k + 1
            states.append(self.ops[a](states[self.sources[a]]) + self.ops[b](states[self.sources[b]]))
        return torch.cat([states[i] for i in CONCAT], dim=1)


class DartsNetwork(nn.Module):
    """DARTS's CIFAR network around one normal and one reduction cell."""

    def __init__(self, arch, num_classes: int = 10, C: int = 32, layers: int = 8, affine: bool = False):
        super().__init__()
        normal, reduce = arch
        self.stem = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 3 * C, 3, padding=1, bias=False),
                                              bn=nn.BatchNorm2d(3 * C)))
        c_prev_prev, c_prev, c, reduction_prev = 3 * C, 3 * C, C, False
        cells = []
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            c = 2 * c if reduction else c
            cells.append(DartsCell(reduce if reduction else normal, c_prev_prev, c_prev, c, reduction,
                                   reduction_prev, affine))
            c_prev_prev, c_prev, reduction_prev = c_prev, len(CONCAT) * c, reduction
        self.cells = nn.ModuleList(cells)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(torch.flatten(self.pool(s1), 1))


def build_darts(arch, num_classes: int = 10, C: int = 32, layers: int = 8, affine: bool = False) -> DartsNetwork:
    """The network of ``arch`` (``(normal, reduce)``, as :mod:`nnmass.spaces.darts`
    parses it); the defaults are NAS-Bench-301's, ``C=36, layers=20`` DARTS's evaluation.

    Raises:
        UsageError: a size out of range.
    """
    check_int("DARTS num_classes", num_classes, 1, 4096)
    check_int("DARTS C", C, 2, 1024)
    check_int("DARTS layers", layers, 3, 200)
    return DartsNetwork(arch, num_classes=num_classes, C=C, layers=layers, affine=affine)
