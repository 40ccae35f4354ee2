"""``spec_cost(spec)``: closed-form params, MACs and layer count of any spec.

Structures follow ``nnmass.models`` (dense families) and torchvision's own
builders (MobileNetV2, ResNet, DenseNet, VGG) layer by layer.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import singledispatch

from ..spec import (VGG_CONFIGS, DenseCNNSpec, DenseMLPSpec, DenseNetSpec, MobileNetV2Spec, ResNetSpec, Spec,
                    VGGSpec)
from .arrays import conv_out, dense_cnn_cost, dense_mlp_cost, mobilenet_v2_cost


@dataclass(frozen=True)
class Cost:
    """Closed-form cost of one network.

    Attributes:
        params: trainable parameters (``sum(p.numel())``; BN affine included).
        macs: conv + linear multiply-accumulates per input sample.
        layers: number of conv and linear layers.
    """

    params: int
    macs: int
    layers: int

    def to_dict(self) -> dict:
        return asdict(self)


@singledispatch
def spec_cost(spec: Spec) -> Cost:
    """Params, MACs (per sample, at ``spec.input_size``) and layers of ``spec``."""
    raise TypeError(f"no closed-form cost for {type(spec).__name__}")


@spec_cost.register
def _(spec: DenseMLPSpec) -> Cost:
    official = spec.layout == "official"
    params, macs = dense_mlp_cost(spec.input_dim, spec.width, spec.depth, spec.tc, spec.num_classes, official)
    return Cost(params, macs, spec.depth if official else spec.depth + 1)


@spec_cost.register
def _(spec: DenseCNNSpec) -> Cost:
    separable = spec.conv == "separable"
    params, macs = dense_cnn_cost(spec.depth, spec.wm, spec.tc, separable, spec.in_channels,
                                  spec.input_size, spec.num_classes, spec.layout == "official")
    convs_per_layer = 3 if separable else 1
    return Cost(params, macs, convs_per_layer * sum(spec.depth) + 1)


@spec_cost.register
def _(spec: MobileNetV2Spec) -> Cost:
    params, macs = mobilenet_v2_cost(spec.width_mult, spec.blocks, spec.expansion,
                                     spec.num_classes, spec.input_size)
    # Blocks with expansion 1 have no 1x1 expansion conv; stem, last 1x1 and classifier add 3.
    convs = sum(n * (2 if t == 1 else 3) for t, _, n, _ in spec.stages())
    return Cost(params, macs, convs + 3)


class _Tally:
    """Accumulates conv / linear / BN costs at a running spatial size."""

    def __init__(self, size: int):
        self.size, self.params, self.macs, self.layers = size, 0, 0, 0

    def conv(self, c_in, c_out, kernel, stride=1, padding=0, groups=1, bias=False, bn=True, size=None):
        size_in = self.size if size is None else size
        out = int(conv_out(size_in, kernel, stride, padding))
        weights = c_out * (c_in // groups) * kernel * kernel
        self.params += weights + (c_out if bias else 0) + (2 * c_out if bn else 0)
        self.macs += weights * out * out
        self.layers += 1
        return out

    def linear(self, c_in, c_out):
        self.params += c_in * c_out + c_out
        self.macs += c_in * c_out
        self.layers += 1

    def cost(self) -> Cost:
        return Cost(self.params, self.macs, self.layers)


@spec_cost.register
def _(spec: ResNetSpec) -> Cost:
    tally = _Tally(spec.input_size)
    tally.size = tally.conv(3, 64, 7, 2, 3)
    tally.size = int(conv_out(tally.size, 3, 2, 1))  # max pool
    for b in spec.residual_blocks():
        size_in = tally.size
        if spec.block == "bottleneck":  # torchvision V1.5: stride on the 3x3
            tally.conv(b.inp, b.inner, 1)
            tally.size = tally.conv(b.inner, b.inner, 3, b.stride, 1)
            tally.conv(b.inner, b.out, 1)
        else:
            tally.size = tally.conv(b.inp, b.inner, 3, b.stride, 1)
            tally.conv(b.inner, b.out, 3, 1, 1)
        if b.projection:  # 1x1 conv + BN shortcut on the block input
            tally.conv(b.inp, b.out, 1, b.stride, size=size_in)
    tally.linear(b.out, spec.num_classes)
    return tally.cost()


@spec_cost.register
def _(spec: DenseNetSpec) -> Cost:
    tally = _Tally(spec.input_size)
    tally.size = tally.conv(3, spec.num_init_features, 7, 2, 3)
    tally.size = int(conv_out(tally.size, 3, 2, 1))  # max pool
    features, inner = spec.num_init_features, spec.bn_size * spec.growth_rate
    for b, n in enumerate(spec.block_config):
        for i in range(n):
            c_in = features + i * spec.growth_rate
            tally.params += 2 * c_in  # norm1 acts on the layer's input (BN-ReLU-conv)
            tally.conv(c_in, inner, 1)  # + norm2 on its output
            tally.conv(inner, spec.growth_rate, 3, 1, 1, bn=False)
        features += n * spec.growth_rate
        if b < len(spec.block_config) - 1:
            tally.params += 2 * features
            tally.conv(features, features // 2, 1, bn=False)
            tally.size = int(conv_out(tally.size, 2, 2, 0))  # 2x2 average pool
            features //= 2
    tally.params += 2 * features  # norm5
    tally.linear(features, spec.num_classes)
    return tally.cost()


@spec_cost.register
def _(spec: VGGSpec) -> Cost:
    tally, c_in = _Tally(spec.input_size), 3
    for v in VGG_CONFIGS[spec.config]:
        if v == "M":
            tally.size = int(conv_out(tally.size, 2, 2, 0))
            continue
        tally.conv(c_in, v, 3, 1, 1, bias=True, bn=spec.batch_norm)
        c_in = v
    # Adaptive pooling to 7x7 makes the classifier independent of input size.
    tally.linear(512 * 7 * 7, 4096)
    tally.linear(4096, 4096)
    tally.linear(4096, spec.num_classes)
    return tally.cost()
