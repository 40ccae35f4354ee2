"""grad_norm: the sum of the layers' gradient norms."""
from __future__ import annotations

import torch
from torch import nn

from .batch import ProxyBatch
from .common import batch_on, finite_or_nan, loss_of, run_on, stand_ins, weight_names
from .registry import register_proxy


@register_proxy("grad_norm", needs_data=True, needs_labels=True, needs_backward=True, samples="the whole batch")
def grad_norm(model: nn.Module, batch: ProxyBatch) -> float:
    """Gradient norm (Abdelfattah, Mehrotra, Dudziak, Lane, "Zero-Cost Proxies for
    Lightweight NAS", ICLR 2021)::

        grad_norm = sum_l ||dL/dW_l||_2       (L = mean cross-entropy of the batch)

    The Euclidean (Frobenius) norm of each layer's weight gradient, summed over conv
    and linear layers, as in zero-cost-nas and NASLib (not the norm of the whole
    gradient vector). BatchNorm kept, train mode.

    Needs data and labels, one backward pass, the whole batch.
    """
    x, y = batch_on(model, batch)
    tensors = stand_ins(model)
    weights = [tensors[name] for name in weight_names(model)]
    with run_on(model, tensors, seed=batch.seed) as forward:
        grads = torch.autograd.grad(loss_of(forward(x), y), weights, allow_unused=True)
    return grad_norm_from_gradients(grads)


def grad_norm_from_gradients(grads) -> float:
    """``sum ||dL/dW_l||_2`` over the layers (a ``None`` gradient adds 0)."""
    return finite_or_nan(sum(g.norm() for g in grads if g is not None))
