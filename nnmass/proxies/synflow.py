"""synflow: synaptic flow of the network with absolute weights on an all-ones input."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from .batch import ProxyBatch
from .common import logits_of, model_device, needs_weights, run_on, saliency_sum, stand_ins, weight_names
from .registry import register_proxy

_NO_FORWARD = object()


def _identity(x, *args, **kwargs):
    return x


@contextmanager
def bypassed(modules: list[nn.Module]) -> Iterator[None]:
    """Each module returns its input unchanged for the block, without running: its own
    ``forward`` is shadowed on the instance and given back after. (A forward hook that
    returns the input would still run the module first, and BatchNorm without running
    statistics raises on one sample.)"""
    saved = [(m, m.__dict__.get("forward", _NO_FORWARD)) for m in modules]
    try:
        for m, _ in saved:
            m.forward = _identity
        yield
    finally:
        for m, forward in saved:
            if forward is _NO_FORWARD:
                del m.forward
            else:
                m.forward = forward


@register_proxy("synflow", needs_data=False, needs_labels=False, needs_backward=True,
                samples="one all-ones input")
def synflow(model: nn.Module, batch: ProxyBatch) -> float:
    """Synaptic flow (Tanaka, Kunin, Yamins, Ganguli, "Pruning neural networks without
    any data by iteratively conserving synaptic flow", NeurIPS 2020), summed over the
    network as a NAS proxy by Abdelfattah et al. (ICLR 2021)::

        R = 1^T (prod_l |W_l|) 1        (the network on |theta|, input all ones)
        synflow = sum_l sum |W_l * dR/dW_l|

    Convention of zero-cost-nas and NASLib (``synflow``, ``bn=False``): every
    parameter and buffer is replaced by its absolute value, the network runs in
    float64 on one all-ones sample of the batch's shape, BatchNorm layers are
    bypassed (identity, never run: BatchNorm of any kind, with or without running
    statistics, in train or eval mode), ``R`` is the sum of the logits, and the sum
    runs over the weights of conv and linear layers (biases excluded). The value is
    the raw sum; NASLib's predictor then takes its log, which leaves every ranking
    unchanged.
    The model runs in eval mode (BatchNorm is bypassed either way; dropout stays off).

    Needs no data or labels (the batch gives the sample shape); one backward pass.
    """
    tensors = {name: t.detach().abs().double() if t.is_floating_point() else t
               for name, t in stand_ins(model).items()}
    weights = needs_weights([tensors[name].requires_grad_(True) for name in weight_names(model)])
    ones = torch.ones((1, *batch.sample_shape), dtype=torch.float64, device=model_device(model))
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with run_on(model, tensors, train=False, seed=batch.seed) as forward, bypassed(norms):
        flow = logits_of(forward(ones)).sum()
        grads = torch.autograd.grad(flow, weights, allow_unused=True)
    return saliency_sum(weights, grads)
