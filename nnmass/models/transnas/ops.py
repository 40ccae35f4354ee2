"""The layers TransNAS-Bench-101's encoders are made of: the four micro-cell ops
(``0`` none, ``1`` skip, ``2`` conv1x1, ``3`` conv3x3), the micro cell, and the
ResNet basic block of the macro space (reference: yawen-d/TransNASBench,
``models/net_ops/cell_ops.py`` and ``models/net_infer/cell_micro.py``)."""
from __future__ import annotations

import torch
from torch import nn

from ..nb201 import ReLUConvBN, summing_cell  # NB201's conv op and cell sum


class Zero(nn.Module):
    """The ``none`` op. Multiplies a (strided) view of its input by zero rather than
    making a new tensor, so the edge stays in traced graphs as in NB201; where the
    channels change it keeps ``c_out`` channels of that zero map (the benchmark then
    makes a fresh zero tensor of the same shape)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        out = x.mul(0.0)
        if self.c_out != self.c_in:
            reps = -(-self.c_out // self.c_in)
            out = out.repeat(1, reps, 1, 1)[:, :self.c_out]
        return out


class FactorizedReduce(nn.Module):
    """The skip op where channels or resolution change: ReLU, then two 1x1 convs of
    half the output channels each, the second on the input shifted by one pixel,
    concatenated, then BN."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.stride = stride
        self.relu = nn.ReLU()
        half = c_out // 2
        self.convs = nn.ModuleList([nn.Conv2d(c_in, half, 1, stride=stride, bias=False),
                                    nn.Conv2d(c_in, c_out - half, 1, stride=stride, bias=False)])
        self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0.0)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = self.pad(x)[:, :, 1:, 1:]
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1))


def make_op(code: int, c_in: int, c_out: int, stride: int) -> nn.Module:
    """One micro-cell edge by the benchmark's op code (0 none, 1 skip, 2 conv1x1, 3 conv3x3)."""
    if code == 0:
        return Zero(c_in, c_out, stride)
    if code == 1:
        return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)
    if code == 2:
        return ReLUConvBN(c_in, c_out, 1, stride)
    if code == 3:
        return ReLUConvBN(c_in, c_out, 3, stride)
    raise ValueError(f"micro op code {code} is not 0..3")


class MicroCell(nn.Module):
    """A 4-node DAG: node ``j`` sums ``op(node i)`` over ``i < j``; the output is node 3.
    Edges from the input node carry the cell's stride and channel change; the others
    keep ``c_out``. ``ops`` are the six codes in the benchmark's order
    ``1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2``. Every edge exists, ``none`` ones included."""

    EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

    def __init__(self, ops, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.edges = nn.ModuleDict(
            (f"{to}<-{src}", make_op(op, c_in, c_out, stride) if src == 0 else make_op(op, c_out, c_out, 1))
            for (to, src), op in zip(self.EDGES, ops))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return summing_cell(self.edges, x)


class BasicBlock(nn.Module):
    """The macro space's residual block: two ReLU-conv3x3-BN, the first with the
    stride; the shortcut is a 1x1 conv + BN where channels or resolution change."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))
