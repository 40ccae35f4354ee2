"""macs: multiply-accumulates of one forward pass per sample."""
from __future__ import annotations

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from .batch import ProxyBatch
from .common import batch_on, run_on, stand_ins
from .registry import register_proxy


_SAMPLES = 2  # counted together; every counted op is linear in the batch


class FlopCount(TorchDispatchMode):
    """Sums torch's FLOP formulas (``torch.utils.flop_counter.flop_registry``: conv,
    mm/addmm/bmm, attention) over the ops it sees; ``FlopCounterMode``'s total
    without its per-module bookkeeping, which costs more than the forward pass."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


@register_proxy("macs", needs_data=False, needs_labels=False, needs_backward=False,
                samples="one sample's shape (zeros)", needs_weights=False)
def macs(model: nn.Module, batch: ProxyBatch) -> float:
    """Multiply-accumulates of one forward pass of one sample.

    ``FlopCounterMode`` total / 2 per sample: every convolution and matrix
    product (linear layers, attention) counts ``M*K*N`` MACs; elementwise ops,
    normalisation and pooling count nothing. The FLOPs baseline of the zero-cost
    studies (Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021;
    NASLib's ``flops``, which reports FLOPs in millions).

    Needs no data, labels or backward pass: two all-zero samples of the batch's shape
    (the count is per sample; BatchNorm without running statistics refuses one
    sample of a vector), eval mode, no gradients.
    """
    x, _ = batch_on(model, batch)
    counter = FlopCount()
    with run_on(model, stand_ins(model), train=False, seed=batch.seed) as forward, torch.no_grad(), counter:
        forward(torch.zeros((_SAMPLES, *x.shape[1:]), dtype=x.dtype, device=x.device))
    return float(counter.flops // (2 * _SAMPLES))
