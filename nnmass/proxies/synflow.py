"""synflow: synaptic flow of the network with absolute weights on an all-ones input."""
from __future__ import annotations

import torch
from torch import nn

from .batch import ProxyBatch
from .common import hooked, saliency_sum, logits_of, model_device, run_on, stand_ins, weight_names
from .registry import register_proxy


def _bypass(module, inputs, output):
    return inputs[0]


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
    bypassed (identity), ``R`` is the sum of the logits, and the sum runs over the
    weights of conv and linear layers (biases excluded). The value is the raw sum;
    NASLib's predictor then takes its log, which leaves every ranking unchanged.
    The model runs in eval mode (BatchNorm is bypassed either way; dropout stays off).

    Needs no data or labels (the batch gives the sample shape); one backward pass.
    """
    tensors = {name: t.detach().abs().double() if t.is_floating_point() else t
               for name, t in stand_ins(model).items()}
    weights = [tensors[name].requires_grad_(True) for name in weight_names(model)]
    ones = torch.ones((1, *batch.sample_shape), dtype=torch.float64, device=model_device(model))
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with run_on(model, tensors, train=False, seed=batch.seed) as forward, hooked(norms, _bypass):
        flow = logits_of(forward(ones)).sum()
        grads = torch.autograd.grad(flow, weights, allow_unused=True)
    return saliency_sum(weights, grads)
