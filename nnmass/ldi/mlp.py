"""Exact layerwise Jacobian spectra of a DenseNet-type MLP, batched over samples and layers.

Layer ``i`` maps its full input ``x_{i-1}`` (the output of layer ``i-1`` with the
skip neurons concatenated) to ``s_i = phi(W_i x_{i-1} + b_i)``, so its Jacobian
is ``J_i = diag(phi'(h_i)) W_i`` (Definition 2), a ``w x (w + t_i)`` matrix per
sample. One forward pass records every ``h_i``. Each ``W_i`` is compressed once
to a ``w x w`` matrix ``C_i`` with the same spectrum under any row scaling
(``spectrum.compress_rows``), so the Jacobians of all layers and samples stack
into one ``(layers, batch, w, w)`` tensor reduced by a single batched
``torch.linalg.svdvals`` on the model's device, with no loop over samples.

Layers measured: the hidden-to-hidden Jacobians (layers ``1..``), plus, in the
authors' layout, the classifier, which is the cell's last layer and reads skips
like the others; it has no activation, so its Jacobian is ``W`` itself. The input
projection (layer 0, ``w x input_dim``) maps data, not another layer, so it joins
only when ``include_input_layer`` is set. The classifier of the ``hidden`` layout
is outside the cell and never measured.
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
    # The input layer's fan-in (input_dim) would widen every hidden layer's padding: its own QR.
    groups = [[i] for i in chosen if i == 0] + [[i for i in chosen if i > 0]]
    out = [_stack_spectra([(f"layers.{i}", model.layers[i].weight.detach(), dphi(pre[i])) for i in g])
           for g in groups if g]
    if model.spec.layout == "official":
        w = model.classifier.weight.detach()
        out.append(_stack_spectra([("classifier", w, torch.ones(x.shape[0], w.shape[0], dtype=w.dtype,
                                                                   device=w.device))]))
    return [s for group in out for s in group]


def _stack_spectra(layers: list[tuple[str, torch.Tensor, torch.Tensor]]) -> list[LayerSpectrum]:
    """Spectra of layers whose weights have the same number of rows, in one batched SVD.

    ``layers`` holds ``(name, W (r x fan_in), phi'(h) (B x r))`` each.
    """
    bases = _bases([w for _, w, _ in layers])  # (L, r, r)
    derivs = torch.stack([d for _, _, d in layers])  # (L, B, r)
    rows = bases.shape[-2]

    def jacobians(start, stop):  # (L, n, r, r): row j scaled by phi'(h_j) per sample
        return derivs[:, start:stop, :, None] * bases[:, None]

    values = chunked_svdvals(jacobians, derivs.shape[1], len(layers) * rows * rows, dim=1)  # (L, B, r)
    return [LayerSpectrum(name, values[k, :, None, :], torch.tensor([min(rows, w.shape[1])]))
            for k, (name, w, _) in enumerate(layers)]


def _bases(weights: list[torch.Tensor]) -> torch.Tensor:
    """``(L, r, r)`` compressed weights (``compress_rows``), by one batched QR.

    Zero columns appended to reach the widest fan-in change no singular value of
    ``D W``. ``C`` is ``r x min(r, fan_in)``; it is padded to ``r`` columns only
    for a layer narrower than ``r`` (an input layer, or a classifier with more
    classes than inputs), whose extra zero singular values ``counts`` leaves out.
    """
    fan = max(w.shape[1] for w in weights)
    stacked = torch.stack([F.pad(w, (0, fan - w.shape[1])) for w in weights])
    c = compress_rows(stacked)
    return F.pad(c, (0, c.shape[-2] - c.shape[-1]))
