"""Every way to get an ``nn.Module``: builders from specs (one generic builder per spec
type: :mod:`.dense`, :mod:`.torchvision_families`) and the other MODEL sources
(:mod:`.sources`: ``torchvision:``, ``timm:``, ``file.py:FACTORY``)."""
from __future__ import annotations

import torch
from torch import nn

from ..validate import check_build_size, check_input_elements
from ..spec import DenseCNNSpec, DenseMLPSpec, DenseNetSpec, MobileNetV2Spec, ResNetSpec, Spec, VGGSpec
from .dense import DenseCNN, DenseMLP
from .torchvision_families import build_densenet, build_mobilenet_v2, build_resnet, build_vgg

_BUILDERS = {
    DenseMLPSpec: DenseMLP,
    DenseCNNSpec: DenseCNN,
    MobileNetV2Spec: build_mobilenet_v2,
    ResNetSpec: build_resnet,
    DenseNetSpec: build_densenet,
    VGGSpec: build_vgg,
}


def build(spec: Spec, seed: int | None = None) -> nn.Module:
    """Build ``spec``. ``seed`` seeds the weight init (a local generator state, not the
    caller's global RNG); the topology is fixed by the spec itself. A spec too large
    to hold in memory is refused from its closed-form parameter count, before any
    weight is allocated."""
    from ..cost import spec_cost
    cost = spec_cost(spec)
    check_build_size(f"{spec.family} spec", cost.params, cost.layers)
    builder = _BUILDERS[type(spec)]
    if seed is None:
        return builder(spec)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builder(spec)


def example_input(spec: Spec, batch: int = 1, seed: int = 0) -> torch.Tensor:
    """A Gaussian input of the shape the spec's network takes, from its own generator."""
    shape = check_input_elements("input batch", input_shape(spec, batch))
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def input_shape(spec: Spec, batch: int = 1) -> tuple[int, ...]:
    if isinstance(spec, DenseMLPSpec):
        return (batch, spec.input_dim)
    channels = spec.in_channels if isinstance(spec, DenseCNNSpec) else 3
    return (batch, channels, spec.input_size, spec.input_size)


__all__ = ["build", "example_input", "input_shape", "DenseMLP", "DenseCNN"]
