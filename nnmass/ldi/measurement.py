"""``measure(model, inputs)``: the layerwise Jacobian spectra of a network at
initialization (Definition 2), summarised as an :class:`~nnmass.ldi.report.LDIReport`.

The measurement is dispatched by model: the DenseNet-type MLP
(:mod:`.mlp`), the DenseNet-type CNN (:mod:`.cnn`), and the torchvision families and
NAS benchmark networks of :mod:`.support`, whose layers are found by ``torch.fx``
(:mod:`.traced`).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ..errors import UsageError
from ..validate import check_int
from ..models.dense import DenseCNN, DenseMLP
from .cnn import cnn_spectra
from .mlp import mlp_spectra
from .report import LDIReport
from .spectrum import LayerSpectrum
from .support import check_measurable
from .traced import traced_spectra


def layer_spectra(model: nn.Module, inputs: torch.Tensor, *, include_input_layer: bool = False,
                  positions: int | None = 16, generator: torch.Generator | None = None,
                  progress: Callable[[int, int], None] | None = None) -> list[LayerSpectrum]:
    """Per-layer singular values of ``D_i W_i`` (see ``ldi`` for the arguments)."""
    if positions is not None:
        check_int("positions (or None: all)", positions, 1)
    check_measurable(model)
    param = next(model.parameters())
    if param.dtype not in (torch.float32, torch.float64):
        raise UsageError(f"LDI needs float32 or float64 weights (the SVD runs in them), got {param.dtype}")
    x = inputs.to(device=param.device, dtype=param.dtype)
    if isinstance(model, DenseCNN) and model.spec.layout == "conv-bn-act":
        return cnn_spectra(model, x, include_input_layer, positions, generator, progress)
    if not isinstance(model, DenseMLP):
        return traced_spectra(model, x, include_input_layer, positions, generator, progress)
    spectra = mlp_spectra(model, x, include_input_layer)
    if progress is not None:  # all layers in one batched call
        progress(len(spectra), len(spectra))
    return spectra


def measure(model: nn.Module, inputs: torch.Tensor, *, include_input_layer: bool = False,
        positions: int | None = 16, generator: torch.Generator | None = None,
        progress: Callable[[int, int], None] | None = None) -> LDIReport:
    """Layerwise Jacobian singular values of ``model`` at ``inputs`` (Definition 2).

    Args:
        model: a network nnmass built (``DenseMLP``, ``DenseCNN``, torchvision ResNet,
            MobileNetV2, VGG, DenseNet, and the NAS benchmarks' networks that
            :func:`~nnmass.ldi.support.check_measurable` accepts), on any device.
        inputs: a batch of inputs (moved to the model's device and dtype).
        include_input_layer: also measure the layer that reads the raw input.
        positions: CNNs only, output positions sampled per conv layer (None = all).
        generator: CNNs only, the ``torch.Generator`` (CPU) that samples positions;
            default ``torch.Generator().manual_seed(0)``.
        progress: called as ``progress(layers_done, layers_total)``.

    Returns:
        An ``LDIReport`` with overall and per-layer mean, std, min, max.
    """
    cnn = not isinstance(model, DenseMLP)  # every other family samples conv output positions
    if cnn:
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
    spectra = layer_spectra(model, inputs, include_input_layer=include_input_layer,
                            positions=positions, generator=generator, progress=progress)
    if not spectra:
        raise UsageError("no layer to measure: a one-layer model has no layer-to-layer Jacobian; "
                         "include the input layer (--include-input-layer) or use depth >= 2")
    return LDIReport.from_spectra(
        spectra, method="cnn-positions" if cnn else "mlp-exact", batch=int(inputs.shape[0]),
        include_input_layer=include_input_layer, positions=positions if cnn else None,
        position_seed=generator.initial_seed() if cnn else None)
