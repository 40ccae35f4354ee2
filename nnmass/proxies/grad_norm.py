"""grad_norm: the sum of the layers' gradient norms."""
from __future__ import annotations

from torch import nn

from .batch import ProxyBatch
from .common import finite_or_nan, weight_gradients
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
    weights, grads = weight_gradients(model, batch)
    return grad_norm_from_gradients(grads)


def grad_norm_from_gradients(grads) -> float:
    """``sum ||dL/dW_l||_2`` over the layers (a ``None`` gradient adds 0)."""
    return finite_or_nan(sum(g.norm() for g in grads if g is not None))
