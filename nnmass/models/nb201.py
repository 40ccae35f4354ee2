"""NAS-Bench-201 networks, built exactly as the benchmark defines them.

NAS-Bench-201 (Dong & Yang, ICLR 2020) fixes one macro skeleton and varies a
single cell: a 4-node DAG whose six edges each carry one of five ops (the search
space, its arch strings and NASLib's ``op_indices``: :mod:`nnmass.spec.nb201`).

The skeleton (reference: AutoDL-Projects ``xautodl/models/cell_infers/``):
stem conv3x3 + BN, then three stages of ``N`` cells at ``C``, ``2C``, ``4C``
channels joined by ResNet basic blocks of stride 2, then BN, ReLU, global
average pooling and a linear classifier. The parameter count equals the
benchmark's for every architecture, so cost metrics computed on these
modules are comparable with published NB201 numbers.

The pools are :mod:`nnmass.models.pooling`'s subclasses of torch's: torch's values
bit for bit, pooled channels-last on CPU, where that is faster.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..errors import UsageError
from ..spec.nb201 import (EDGES, NASLIB_EDGES, NASLIB_OPS, OPS, arch_from_op_indices, format_arch,
                          op_indices_from_arch, parse_arch)
from ..validate import check_int, shown
from .pooling import ChannelsLastAvgPool2d

__all__ = ["OPS", "EDGES", "NASLIB_OPS", "NASLIB_EDGES", "parse_arch", "format_arch", "arch_from_op_indices",
           "op_indices_from_arch", "build_nb201", "NB201Network", "Cell", "ReductionBlock", "ReLUConvBN", "Zero",
           "summing_cell"]


class Zero(nn.Module):
    """The ``none`` op. Multiplies by zero, as NB201 does, rather than making a new
    tensor, so the edge stays in the autograd and traced graphs (and NaN/inf
    inputs propagate exactly as in the benchmark)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ReLUConvBN(nn.Module):
    """ReLU, bias-free conv, BN (affine, running stats): NB201's conv op."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.relu(x)))


def make_op(name: str, channels: int) -> nn.Module:
    """One cell edge op; inside a cell every op keeps channels and resolution."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return ChannelsLastAvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise UsageError(f"unknown NB201 op {shown(name)}; valid: {', '.join(OPS)}")


class Cell(nn.Module):
    """The searched cell: node ``i`` sums ``op_{i<-j}(node j)`` over ``j < i``; the
    output is node 3. All six edges exist, ``none`` ones included, as in NB201."""

    def __init__(self, ops, channels: int):
        super().__init__()
        self.edges = nn.ModuleDict(
            (f"{to}<-{src}", make_op(op, channels)) for (to, src), op in zip(EDGES, ops))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return summing_cell(self.edges, x)


def summing_cell(edges: nn.ModuleDict, x: torch.Tensor, nodes: int = 4) -> torch.Tensor:
    """A cell whose node ``i`` sums ``edges["i<-j"](node j)`` over ``j < i``; its output is
    the last node (NB201's cell, and TransNAS-Bench-101's micro cell)."""
    states = [x]
    for to in range(1, nodes):
        total = edges[f"{to}<-0"](states[0])
        for src in range(1, to):
            total = total + edges[f"{to}<-{src}"](states[src])
        states.append(total)
    return states[-1]


class ReductionBlock(nn.Module):
    """NB201's stage transition, a ResNet basic block of stride 2. The shortcut is
    average pooling then a 1x1 conv with no BN, as in the benchmark."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(OrderedDict(
            pool=ChannelsLastAvgPool2d(kernel_size=2, stride=2),
            conv=nn.Conv2d(c_in, c_out, 1, bias=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """NB201's macro skeleton around one cell type. ``cells`` is indexed as in the
    benchmark: ``N`` cells, a reduction block, ``N`` cells, a reduction block,
    ``N`` cells. ``forward`` returns the logits only (NB201's also returns the
    pooled features)."""

    def __init__(self, arch: str, num_classes: int = 10, C: int = 16, N: int = 5):
        super().__init__()
        ops = parse_arch(arch)
        self.arch = format_arch(ops)
        self.sizes = (C, N, num_classes)
        self.stem = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(3, C, 3, padding=1, bias=False), bn=nn.BatchNorm2d(C)))
        cells = []
        for stage, channels in enumerate((C, 2 * C, 4 * C)):
            if stage:
                cells.append(ReductionBlock(channels // 2, channels))
            cells.extend(Cell(ops, channels) for _ in range(N))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(OrderedDict(bn=nn.BatchNorm2d(4 * C), relu=nn.ReLU()))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * C, num_classes)

    def layer_graph(self, example_input: torch.Tensor):
        """This network's layer graph, as a trace gives it, written without tracing
        (:func:`nnmass.mass.nb201.nb201_graph`); ``nnmass.measure`` uses it."""
        from ..mass.nb201 import nb201_graph
        C, N, num_classes = self.sizes
        return nb201_graph(dict(zip(EDGES, parse_arch(self.arch))), C, N, num_classes, int(example_input.shape[-1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        x = self.pool(self.lastact(x))
        return self.classifier(torch.flatten(x, 1))


def build_nb201(arch: str, num_classes: int = 10, C: int = 16, N: int = 5) -> NB201Network:
    """Build the NB201 network of ``arch``; the defaults are the benchmark's.

    Args:
        arch: NB201 arch string, e.g. ``|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|...|``.
        num_classes: 10 for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120.
        C: channels of the first stage (the later stages have ``2C`` and ``4C``).
        N: cells per stage.

    Raises:
        UsageError: a bad arch string or a non-positive size.
    """
    for name, value in (("num_classes", num_classes), ("C", C), ("N", N)):
        check_int(f"NB201 {name}", value, 1, 4096)
    return NB201Network(arch, num_classes=num_classes, C=C, N=N)
