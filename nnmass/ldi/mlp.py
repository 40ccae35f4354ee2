"""Exact layerwise Jacobian spectra of a DenseNet-type MLP, batched over samples and layers.

Layer ``i`` maps its full input ``x_{i-1}`` (the output of layer ``i-1`` with the
skip neurons concatenated) to ``s_i = phi(W_i x_{i-1} + b_i)``, so its Jacobian
is ``J_i = diag(phi'(h_i)) W_i`` (Definition 2), a ``w x (w + t_i)`` matrix per
sample. One forward pass records every ``h_i``. Each ``W_i`` is compressed once
to a ``w x w`` matrix ``C_i`` with the same spectrum under any row scaling
(``spectrum.compress_rows``), so the Jacobians of all layers and samples stack
into one ``(layers, batch, w, w)`` tensor reduced by a single batched
``torch.linalg.svdvals`` on the model's device, with no loop over samples.

By default the hidden-to-hidden Jacobians (layers ``1..d-1``) are measured: the
input projection (layer 0, ``w x input_dim``) maps data, not another layer, so it
joins only when ``include_input_layer`` is set. The classifier is never a layer here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models.dense import DenseMLP
from .capture import capture
from .derivatives import activation_derivative
from .spectrum import LayerSpectrum, chunked_svdvals, compress_rows


def mlp_spectra(model: DenseMLP, x: torch.Tensor, include_input_layer: bool = False) -> list[LayerSpectrum]:
    """Singular values of ``D_i W_i`` for every sample of ``x`` and every measured layer."""
    dphi = activation_derivative(model.act)
    pre = [h for _, h in capture(model, list(model.layers), x)]
    chosen = range(0 if include_input_layer else 1, len(model.layers))
    if not len(chosen):
        return []
    weights = [model.layers[i].weight.detach() for i in chosen]
    width = weights[0].shape[0]
    # The input layer's fan-in (input_dim) would widen every hidden layer's padding: its own QR.
    groups = [weights[:1], weights[1:]] if include_input_layer else [weights]
    bases = torch.cat([_bases(g) for g in groups if g])  # (L, w, w)
    derivs = dphi(torch.stack([pre[i] for i in chosen]))  # (L, B, w)

    def jacobians(start, stop):  # (L, n, w, w): row j scaled by phi'(h_j) per sample
        return derivs[:, start:stop, :, None] * bases[:, None]

    values = chunked_svdvals(jacobians, derivs.shape[1], len(chosen) * width * width, dim=1)  # (L, B, w)
    return [LayerSpectrum(f"layers.{i}", values[k, :, None, :], torch.tensor([min(width, w.shape[1])]))
            for k, (i, w) in enumerate(zip(chosen, weights))]


def _bases(weights: list[torch.Tensor]) -> torch.Tensor:
    """``(L, w, w)`` compressed weights (``compress_rows``), by one batched QR.

    Zero columns appended to reach the widest fan-in change no singular value of
    ``D W``. ``C`` is ``w x min(w, fan_in)``; it is padded to ``w`` columns only
    for an input layer narrower than ``w``, whose extra zero singular values
    ``counts`` leaves out.
    """
    fan = max(w.shape[1] for w in weights)
    stacked = torch.stack([F.pad(w, (0, fan - w.shape[1])) for w in weights])
    c = compress_rows(stacked)
    return F.pad(c, (0, c.shape[-2] - c.shape[-1]))
