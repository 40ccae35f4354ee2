"""The cells of a spec in closed form (Eq. 1-3), with no module built. Pure numpy."""
from __future__ import annotations

from functools import singledispatch

from .spec import (DenseCNNSpec, DenseMLPSpec, DenseNetSpec, MobileNetV2Spec, ResNetSpec, Spec,
                   VGGSpec)
from .topology import CellTopology, total_mass


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision's channel rounding for MobileNets (never drops more than 10%)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


@singledispatch
def spec_cells(spec: Spec) -> list[CellTopology]:
    """The cells of ``spec``, each in the general form of :class:`CellTopology`."""
    raise TypeError(f"no closed form for {type(spec).__name__}")


@spec_cells.register
def _(spec: DenseMLPSpec) -> list[CellTopology]:
    # Count the links that were sampled: equal to Eq. 1's sum by construction.
    actual = sum(len(s) for s in spec.skips)
    return [CellTopology("concat", (spec.width,) * spec.depth, actual, "cell0")]


@spec_cells.register
def _(spec: DenseCNNSpec) -> list[CellTopology]:
    return [CellTopology("concat", (w,) * d, sum(len(s) for s in skips), f"cell{c}")
            for c, (w, d, skips) in enumerate(zip(spec.widths, spec.depth, spec.skips))]


def mobilenet_v2_blocks(spec: MobileNetV2Spec):
    """Yield ``(stage, index, in_ch, hidden, out_ch, stride, expand)`` for every inverted
    residual block, with torchvision's channel rounding."""
    inp = make_divisible(32 * spec.width_mult)
    for stage, (t, c, n, s) in enumerate(spec.stages()):
        out = make_divisible(c * spec.width_mult)
        for i in range(n):
            stride = s if i == 0 else 1
            yield stage, i, inp, int(round(inp * t)), out, stride, t
            inp = out


@spec_cells.register
def _(spec: MobileNetV2Spec) -> list[CellTopology]:
    cells = []
    for stage, i, inp, hidden, out, stride, t in mobilenet_v2_blocks(spec):
        if stride == 1 and inp == out:  # only identity residuals are cells
            widths = (inp, hidden, hidden, out) if t != 1 else (inp, hidden, out)
            cells.append(CellTopology("add", widths, inp, f"features.{_mbv2_feature_index(spec, stage, i)}"))
    return cells


def _mbv2_feature_index(spec: MobileNetV2Spec, stage: int, i: int) -> int:
    return 1 + sum(spec.blocks[:stage]) + i


def resnet_blocks(spec: ResNetSpec):
    """Yield ``(stage, index, in_ch, inner, out_ch, stride, projection)`` per block."""
    expansion = 4 if spec.block == "bottleneck" else 1
    inp = 64
    for stage, (planes, n) in enumerate(zip((64, 128, 256, 512), spec.layers)):
        inner = planes * spec.width_per_group // 64
        out = planes * expansion
        for i in range(n):
            stride = 2 if (stage > 0 and i == 0) else 1
            projection = stride != 1 or inp != out
            yield stage, i, inp, inner, out, stride, projection
            inp = out


@spec_cells.register
def _(spec: ResNetSpec) -> list[CellTopology]:
    cells = []
    for stage, i, inp, inner, out, stride, projection in resnet_blocks(spec):
        if projection and spec.shortcuts == "identity":
            continue
        widths = (inp, inner, inner, out) if spec.block == "bottleneck" else (inp, inner, out)
        cells.append(CellTopology("add", widths, min(inp, out), f"layer{stage + 1}.{i}"))
    return cells


@spec_cells.register
def _(spec: DenseNetSpec) -> list[CellTopology]:
    cells, features = [], spec.num_init_features
    for b, n in enumerate(spec.block_config):
        widths = (features,) + (spec.growth_rate,) * n
        # Every dense layer reads all earlier nodes: density 1.
        full = CellTopology("concat", widths, 0).possible
        cells.append(CellTopology("concat", widths, full, f"features.denseblock{b + 1}"))
        features = (features + n * spec.growth_rate) // 2  # transition halves
    return cells


@spec_cells.register
def _(spec: VGGSpec) -> list[CellTopology]:
    return []


def spec_mass(spec: Spec) -> float:
    return total_mass(spec_cells(spec))
