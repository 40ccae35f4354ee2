"""Specs of the standard architectures torchvision builds (MobileNetV2, ResNet and
Wide-ResNet, DenseNet, VGG), with the block tables the closed forms walk. Pure Python and numpy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterator

import numpy as np

from ..errors import UsageError
from ..validate import MAX_INPUT_SIZE, MAX_WIDTH, check_choice, check_counts, check_int, check_multiplier, shown
from .base import Spec

# torchvision's MobileNetV2 stages: (expansion t, channels c, blocks n, stride s).
MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
VGG_CONFIGS = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"),
}
SHORTCUTS = ("identity", "all")


def make_divisible(v, divisor: int = 8, min_value: int | None = None):
    """torchvision's ``_make_divisible`` channel rounding for MobileNets: the nearest
    multiple of ``divisor`` (at least ``min_value``, default ``divisor``), plus one more
    where that lost over 10%. An int for a number, an int64 array for an array."""
    min_value = divisor if min_value is None else min_value
    v = np.asarray(v, dtype=np.float64)
    # torchvision's int(v + divisor / 2) truncates; for v > 0 that is floor.
    new = np.maximum(min_value, np.floor(v + divisor / 2).astype(np.int64) // divisor * divisor)
    new = np.where(new < 0.9 * v, new + divisor, new)
    return int(new) if new.ndim == 0 else new


@dataclass(frozen=True)
class InvertedResidual:
    """One MobileNetV2 block: its place (``features.index``), widths, stride and expansion."""

    index: int
    inp: int
    hidden: int
    out: int
    stride: int
    expand: int

    @property
    def identity(self) -> bool:
        """Whether the block adds its input back (stride 1, same width)."""
        return self.stride == 1 and self.inp == self.out


@dataclass(frozen=True)
class MobileNetV2Spec(Spec):
    """torchvision's MobileNetV2 with a width multiplier and blocks per stage."""

    family: ClassVar[str] = "mobilenet_v2"
    width_mult: float = 1.0
    blocks: tuple = tuple(s[2] for s in MOBILENET_V2_STAGES)  # blocks in each of the 7 stages
    expansion: int = 6  # expansion of stages 2-7 (stage 1 keeps torchvision's 1)
    num_classes: int = 1000
    input_size: int = 224

    def __post_init__(self):
        check_multiplier("width_mult", self.width_mult)
        object.__setattr__(self, "blocks", check_counts("blocks", self.blocks, len(MOBILENET_V2_STAGES), 64,
                                                        " (one per stage)"))
        check_int("expansion", self.expansion, 1, 64)
        check_int("num_classes", self.num_classes, 1, MAX_WIDTH)
        check_int("input_size", self.input_size, 32, MAX_INPUT_SIZE)

    def stages(self) -> tuple[tuple[int, int, int, int], ...]:
        """torchvision's ``inverted_residual_setting`` for this spec."""
        return tuple((t if i == 0 else self.expansion, c, n, s)
                     for i, ((t, c, _, s), n) in enumerate(zip(MOBILENET_V2_STAGES, self.blocks)))

    def inverted_residuals(self) -> Iterator[InvertedResidual]:
        """Every block, with torchvision's channel rounding, in network order."""
        inp, index = make_divisible(32 * self.width_mult), 1
        for t, c, n, s in self.stages():
            out = make_divisible(c * self.width_mult)
            for i in range(n):
                yield InvertedResidual(index, inp, int(round(inp * t)), out, s if i == 0 else 1, t)
                inp, index = out, index + 1


@dataclass(frozen=True)
class ResidualBlock:
    """One ResNet block: stage, index in the stage, widths, stride, projection shortcut."""

    stage: int
    index: int
    inp: int
    inner: int
    out: int
    stride: int
    projection: bool


@dataclass(frozen=True)
class ResNetSpec(Spec):
    """torchvision ResNet / Wide-ResNet.

    ``shortcuts`` chooses how blocks with a projection (1x1 conv) shortcut count
    for NN-Mass: ``"all"`` (default) counts every block, a projection delivering
    ``min(in, out)`` channels of the block input; this is the authors' rule
    (their model zoo sums the cell mass over every block: resnet18 3392, resnet50
    9006.9). ``"identity"`` counts only blocks with an identity shortcut.

    ``widen`` is the Wide-ResNet paper's factor k for basic blocks: every stage's
    width times k, the 64-channel stem unchanged (its ImageNet WRN-18-k and
    WRN-34-k; torchvision's ``width_per_group`` widens bottlenecks only).
    """

    family: ClassVar[str] = "resnet"
    block: str = "basic"
    layers: tuple = (2, 2, 2, 2)
    width_per_group: int = 64  # 128 for Wide-ResNet-*-2
    num_classes: int = 1000
    input_size: int = 224
    shortcuts: str = "all"
    widen: float = 1.0

    def __post_init__(self):
        check_choice("block", self.block, ("basic", "bottleneck"))
        check_multiplier("widen", self.widen, hi=16)
        if self.widen != 1 and self.block != "basic":
            raise UsageError("widen applies to basic blocks; widen bottlenecks with width_per_group")
        if (64 * self.widen) % 1:
            raise UsageError(f"widen must make whole stage widths (64 x widen an integer), got {shown(self.widen)}")
        object.__setattr__(self, "layers", check_counts("layers", self.layers, 4, 256, " (blocks per stage)"))
        check_int("width_per_group", self.width_per_group, 1, MAX_WIDTH)
        if self.block == "basic" and self.width_per_group != 64:
            raise UsageError("width_per_group must be 64 for basic blocks (torchvision's rule)")
        check_int("num_classes", self.num_classes, 1, MAX_WIDTH)
        check_int("input_size", self.input_size, 32, MAX_INPUT_SIZE)
        check_choice("shortcuts", self.shortcuts, SHORTCUTS)

    def stage_planes(self) -> tuple[int, int, int, int]:
        """Each stage's ``planes`` (torchvision's 64, 128, 256, 512, times ``widen``)."""
        return tuple(int(p * self.widen) for p in (64, 128, 256, 512))

    def residual_blocks(self) -> Iterator[ResidualBlock]:
        """Every block in network order (torchvision V1.5: the stride sits on the 3x3)."""
        expansion = 4 if self.block == "bottleneck" else 1
        inp = 64
        for stage, (planes, n) in enumerate(zip(self.stage_planes(), self.layers)):
            inner = planes * self.width_per_group // 64
            out = planes * expansion
            for i in range(n):
                stride = 2 if (stage > 0 and i == 0) else 1
                yield ResidualBlock(stage, i, inp, inner, out, stride, stride != 1 or inp != out)
                inp = out


@dataclass(frozen=True)
class DenseNetSpec(Spec):
    """torchvision's standard DenseNet (full concatenation, density 1)."""

    family: ClassVar[str] = "densenet"
    growth_rate: int = 32
    block_config: tuple = (6, 12, 24, 16)
    num_init_features: int = 64
    bn_size: int = 4
    num_classes: int = 1000
    input_size: int = 224

    def __post_init__(self):
        check_int("growth_rate", self.growth_rate, 1, MAX_WIDTH)
        object.__setattr__(self, "block_config", check_counts("block_config", self.block_config, 4, 256))
        check_int("num_init_features", self.num_init_features, 1, MAX_WIDTH)
        check_int("bn_size", self.bn_size, 1, 64)
        check_int("num_classes", self.num_classes, 1, MAX_WIDTH)
        check_int("input_size", self.input_size, 32, MAX_INPUT_SIZE)


@dataclass(frozen=True)
class VGGSpec(Spec):
    """torchvision's VGG: no skip connections, so NN-Mass 0."""

    family: ClassVar[str] = "vgg"
    config: str = "D"  # A=vgg11, B=vgg13, D=vgg16, E=vgg19
    batch_norm: bool = False
    num_classes: int = 1000
    input_size: int = 224

    def __post_init__(self):
        check_choice("config", self.config, tuple(VGG_CONFIGS))
        if not isinstance(self.batch_norm, bool):
            raise UsageError(f"batch_norm must be true or false, got {shown(self.batch_norm)}")
        check_int("num_classes", self.num_classes, 1, MAX_WIDTH)
        check_int("input_size", self.input_size, 32, MAX_INPUT_SIZE)
