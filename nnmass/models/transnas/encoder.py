"""TransNAS-Bench-101's encoder, shared by the micro and macro spaces: a stem that
quarters the resolution, then residual-style modules of two cells each. A module
code ``1``-``4`` says whether it doubles the channels (``2``, ``4``) and whether it
halves the resolution (``3``, ``4``); the micro space fixes the modules to
``41414`` and searches the cell, the macro space uses ResNet basic blocks and
searches the module codes."""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .ops import BasicBlock, MicroCell, ReLUConvBN


def module_plan(modules: str, channels: int) -> list[tuple[int, int, int]]:
    """``(c_in, c_out, stride)`` of each module, from the module codes."""
    plan = []
    for code in modules:
        code = int(code)
        c_out = channels * 2 if code % 2 == 0 else channels
        plan.append((channels, c_out, 2 if code > 2 else 1))
        channels = c_out
    return plan


class Encoder(nn.Module):
    """Stem, then one ``nn.Sequential`` of two cells per module code.

    Args:
        modules: the module codes, e.g. ``"41414"``.
        cell: the six micro op codes, or None for the macro space's basic blocks.
        channels: the stem's output channels (64 in the benchmark).
    """

    def __init__(self, modules: str, cell=None, channels: int = 64):
        super().__init__()
        self.stem = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(3, channels // 2, 3, stride=2, padding=1, bias=False),
            bn=nn.BatchNorm2d(channels // 2),
            relu_conv_bn=ReLUConvBN(channels // 2, channels, 3, stride=2)))
        layers = []
        for c_in, c_out, stride in module_plan(modules, channels):
            if cell is None:
                blocks = [BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, 1)]
            else:
                blocks = [MicroCell(cell, c_in, c_out, stride), MicroCell(cell, c_out, c_out, 1)]
            layers.append(nn.Sequential(*blocks))
        self.layers = nn.Sequential(*layers)
        plan = module_plan(modules, channels)
        self.out_channels = plan[-1][1] if plan else channels
        self.reductions = 2 + sum(stride == 2 for _, _, stride in plan)  # log2 of input / output size
        # The benchmark's initialisation of the encoder (the heads keep PyTorch's):
        # He-normal convs in fan-out mode; BN starts at weight 1, bias 0 (PyTorch's default).
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.stem(x))
