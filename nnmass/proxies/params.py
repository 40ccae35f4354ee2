"""params: the number of parameters."""
from __future__ import annotations

from torch import nn

from .batch import ProxyBatch
from .registry import register_proxy


@register_proxy("params", needs_data=False, needs_labels=False, needs_backward=False, samples="none",
                needs_weights=False)
def params(model: nn.Module, batch: ProxyBatch) -> float:
    """The number of parameters, ``sum(p.numel())`` (a tied tensor counts once).

    The size baseline every zero-cost study reports (Abdelfattah et al., "Zero-Cost
    Proxies for Lightweight NAS", ICLR 2021). Needs no data, labels or backward pass;
    the batch is not read.
    """
    return float(sum(p.numel() for p in model.parameters()))
