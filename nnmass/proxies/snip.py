"""snip: connection sensitivity |theta * dL/dtheta| summed."""
from __future__ import annotations

from torch import nn

from .batch import ProxyBatch
from .common import saliency_sum, weight_gradients
from .registry import register_proxy


@register_proxy("snip", needs_data=True, needs_labels=True, needs_backward=True, samples="the whole batch")
def snip(model: nn.Module, batch: ProxyBatch) -> float:
    """Connection sensitivity (Lee, Ajanthan, Torr, "SNIP: Single-shot network pruning
    based on connection sensitivity", ICLR 2019), summed as a NAS proxy by Abdelfattah
    et al. (ICLR 2021)::

        snip = sum_l sum |W_l * dL/dW_l|      (L = mean cross-entropy of the batch)

    ``|dL/dc|`` of a multiplicative mask ``c = 1`` on each weight equals
    ``|W * dL/dW|``. Convention of zero-cost-nas and NASLib: weights of conv and linear
    layers, BatchNorm kept, train mode (batch statistics).

    Needs data and labels, one backward pass, the whole batch.
    """
    weights, grads = weight_gradients(model, batch)
    return saliency_sum(weights, grads)
