"""fisher: the Fisher-information estimate of removing each channel, summed."""
from __future__ import annotations

import torch
from torch import nn

from .batch import ProxyBatch
from .common import batch_on, finite_or_nan, hooked, loss_of, needs_weights, run_on, scored_layers, stand_ins
from .registry import register_proxy


def _per_channel(act: torch.Tensor, grad: torch.Tensor, linear: bool) -> torch.Tensor:
    """``sum over positions of act * dL/dact``, as ``[N, channels]`` (channels: dim 1 of
    a conv output, the last dim of a linear one)."""
    prod = act * grad
    if linear:
        return prod.reshape(prod.shape[0], -1, prod.shape[-1]).sum(1)
    return prod.reshape(prod.shape[0], prod.shape[1], -1).sum(2)


@register_proxy("fisher", needs_data=True, needs_labels=True, needs_backward=True, samples="the whole batch")
def fisher(model: nn.Module, batch: ProxyBatch) -> float:
    """Fisher pruning saliency (Theis, Korshunova, Tejani, Huszar, "Faster gaze
    prediction with dense networks and Fisher pruning", 2018; Turner et al.,
    "BlockSwap", ICLR 2020), summed as a NAS proxy by Abdelfattah et al. (ICLR 2021).
    For the output ``a`` of each conv or linear layer and each output channel ``k``::

        g_nk  = sum over positions of a * dL/da        (sample n)
        D_k   = 0.5 * mean_n g_nk^2
        fisher = sum_layers sum_k D_k * fan_in          (fan_in = weights per channel)

    Convention of zero-cost-nas and NASLib: the activation is the layer's raw output
    (before BatchNorm); each channel's value is broadcast to every weight of that
    channel before summing, hence the ``fan_in`` factor (``in_channels/groups * kh * kw``
    for a conv, ``in_features`` for a linear layer). A layer called twice counts
    twice. BatchNorm kept, train mode.

    Needs data and labels, one backward pass, the whole batch.
    """
    x, y = batch_on(model, batch)
    kept = LayerOutputs()
    layers = needs_weights(scored_layers(model))
    with run_on(model, stand_ins(model), seed=batch.seed) as forward, hooked(layers, kept.keep):
        loss = loss_of(forward(x), y)
        grads = torch.autograd.grad(loss, kept.outputs, allow_unused=True) if kept.outputs else []
    return kept.fisher(grads)


class LayerOutputs:
    """The raw outputs of the scored layers in one forward pass (a forward hook,
    :meth:`keep`), and the fisher sum once their gradients are known."""

    def __init__(self):
        self.layers: list[nn.Module] = []
        self.outputs: list[torch.Tensor] = []

    def keep(self, module, inputs, output):
        self.layers.append(module)
        self.outputs.append(output)
        return output.clone()  # later in-place ops must not change the kept activation

    def fisher(self, grads) -> float:
        """``sum_layers sum_k D_k * fan_in`` given ``dL/d output`` of each kept output."""
        total = 0.0
        for layer, act, grad in zip(self.layers, self.outputs, grads):
            if grad is not None:
                g = _per_channel(act.detach(), grad, isinstance(layer, nn.Linear))
                total += float(0.5 * g.pow(2).mean(0).sum()) * layer.weight[0].numel()
        return finite_or_nan(total)
