"""nn_mass: NN-Mass of the traced network."""
from __future__ import annotations

import math

from torch import nn

from .. import measure
from .batch import ProxyBatch
from .common import batch_on
from .registry import register_proxy


@register_proxy("nn_mass", needs_data=False, needs_labels=False, needs_backward=False,
                samples="one sample's shape (traced)")
def nn_mass(model: nn.Module, batch: ProxyBatch) -> float:
    """NN-Mass (Bhardwaj, Li, Marculescu, "How does topology influence gradient
    propagation and model performance of deep networks with DenseNet-type skip
    connections?", CVPR 2021): the sum over cells of ``rho * w * d`` (Eq. 2 for
    concatenation cells, Eq. 3 for residual cells) of ``nnmass.measure(model,
    batch.inputs[:1], allow_unclassified=True)``.

    NN-Mass is defined only where every merge of the network is classified into a
    cell; if the trace leaves any merge unclassified, the value is nan. Needs no
    data, labels or backward pass (the trace reads shapes only).
    """
    x, _ = batch_on(model, batch)
    report = measure(model, x[:1], allow_unclassified=True)
    return math.nan if report.unclassified else float(report.nn_mass)
