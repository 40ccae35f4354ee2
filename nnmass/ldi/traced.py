"""Layerwise Jacobian spectra of the torchvision families nnmass builds (ResNet/WRN,
MobileNetV2, VGG, DenseNet), found by ``torch.fx`` (``layer_paths``).

Convs are measured as in ``nnmass.ldi.cnn``: the exact rows of the layer Jacobian
at output positions sampled from a seeded generator, ``J_p = D_p g A_p``; a
grouped or depthwise conv keeps its own kernel, so ``J_p`` is block-diagonal
and each group is its own small SVD. A hidden ``nn.Linear`` (VGG's classifier
MLP) is measured whole, ``J = D W`` per sample, as for ``DenseMLP``. One
eval-mode forward pass through an fx ``Interpreter`` records every ``h``.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.fx
from torch import nn

from ..errors import UsageError
from .capture import eval_mode
from .cnn import bn_scale, position_spectrum
from .conv_operator import single_conv_operator
from .derivatives import Derivative, activation_derivative
from .layer_paths import LayerPath, find_layers, trace
from .spectrum import LayerSpectrum, chunked_svdvals, compress_rows


def torchvision_types() -> tuple[type, ...]:
    """The torchvision model classes nnmass builds (:mod:`nnmass.models.torchvision_families`)."""
    from torchvision.models import VGG, DenseNet, MobileNetV2, ResNet
    return (ResNet, MobileNetV2, VGG, DenseNet)


def traced_spectra(model: nn.Module, x: torch.Tensor, include_input_layer: bool = False,
                   positions: int | None = 16, generator: torch.Generator | None = None,
                   progress: Callable[[int, int], None] | None = None,
                   layers: list[str] | None = None) -> list[LayerSpectrum]:
    """Singular values of every layer's ``J = D g W`` (see ``layer_paths`` for what a layer is).

    Args:
        model: an fx-traceable network of Conv2d/Linear, BatchNorm2d, adds and activations.
        x: the input batch, on the model's device and dtype.
        include_input_layer: also measure the layer(s) reading ``x`` itself.
        positions: conv output positions sampled per layer (None = all).
        generator: CPU ``torch.Generator`` for the positions; default seed 0.
        progress: called as ``progress(layers_done, layers_total)``.
        layers: measure only these layers (module names), in graph order.
    """
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    gm = trace(model)
    paths = [p for p in find_layers(gm) if include_input_layer or not p.reads_input]
    if layers is not None:
        known = {p.name for p in paths}
        unknown = [name for name in layers if name not in known]
        if unknown:
            names = [p.name for p in paths]
            shown = ", ".join(names[:6]) + (f", ... ({len(names)} in all)" if len(names) > 6 else "")
            raise UsageError(f"no measured layer named {', '.join(unknown)}; layers: {shown}")
        paths = [p for p in paths if p.name in set(layers)]
    shape_of, value_of = _record(gm, model, x, {p.input_node for p in paths}, {p.output_node for p in paths})
    out = []
    if progress is not None:
        progress(0, len(paths))
    for k, path in enumerate(paths):
        out.append(_spectrum(path, shape_of[path.input_node], value_of[path.output_node], positions, generator))
        if progress is not None:
            progress(k + 1, len(paths))
    return out


def _spectrum(path: LayerPath, in_shape: torch.Size, h: torch.Tensor, positions, generator) -> LayerSpectrum:
    dphi = activation_derivative(path.activation) if path.activation is not None else torch.ones_like
    module = path.module
    if isinstance(module, nn.Linear):
        if len(in_shape) != 2:
            raise UsageError(f"layer {path.name}: a Linear is measured on (batch, features) inputs, "
                             f"got shape {tuple(in_shape)}")
        return _linear_spectrum(path.name, module.weight.detach(), dphi, h)
    scale = bn_scale(path.norm) if path.norm is not None else h.new_ones(module.out_channels)
    return position_spectrum(path.name, single_conv_operator(module), scale.to(h.dtype), dphi,
                             in_shape[-2:], h, positions, generator)


def _linear_spectrum(name: str, weight: torch.Tensor, dphi: Derivative, h: torch.Tensor) -> LayerSpectrum:
    """Exact ``svdvals(diag(phi'(h_b)) W)`` per sample ``b``, through one QR of ``W`` (``compress_rows``)."""
    base = compress_rows(weight)  # (out, min(out, in))
    d = dphi(h)  # (B, out)

    def jacobians(start, stop):
        return d[start:stop, :, None] * base[None]

    values = chunked_svdvals(jacobians, h.shape[0], base.numel(), dim=0)
    return LayerSpectrum(name, values[:, None, :], torch.tensor([base.shape[-1]]))


class _Recorder(torch.fx.Interpreter):
    """Runs the graph node by node, keeping the shapes and values asked for."""

    def __init__(self, gm: torch.fx.GraphModule, shapes: set[str], values: set[str]):
        super().__init__(gm)
        self.shapes, self.values = shapes, values
        self.shape_of: dict[str, torch.Size] = {}
        self.value_of: dict[str, torch.Tensor] = {}

    def run_node(self, n: torch.fx.Node):
        result = super().run_node(n)
        if n.name in self.shapes:
            self.shape_of[n.name] = result.shape
        if n.name in self.values:  # cloned: an in-place ReLU would overwrite its input h next
            self.value_of[n.name] = result.detach().clone()
        return result


def _record(gm: torch.fx.GraphModule, model: nn.Module, x: torch.Tensor, shapes: set[str], values: set[str]):
    """Input shapes and pre-activations ``h`` of one eval-mode forward (train flags restored)."""
    recorder = _Recorder(gm, shapes, values)
    with torch.no_grad(), eval_mode(model):
        recorder.run(x)
    return recorder.shape_of, recorder.value_of
