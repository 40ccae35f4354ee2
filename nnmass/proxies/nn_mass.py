"""nn_mass: NN-Mass of the traced network."""
from __future__ import annotations

import math

from torch import nn

from .. import measure
from .batch import ProxyBatch
from .common import batch_on, in_mode
from .registry import register_proxy


@register_proxy("nn_mass", needs_data=False, needs_labels=False, needs_backward=False,
                samples="one sample's shape (traced)", needs_weights=False)
def nn_mass(model: nn.Module, batch: ProxyBatch) -> float:
    """NN-Mass (Bhardwaj, Li, Marculescu, "How does topology influence gradient
    propagation and model performance of deep networks with DenseNet-type skip
    connections?", CVPR 2021)::

        nn_mass = sum over cells of volume * density      (Eq. 2 concatenation, Eq. 3 addition)

    as ``nnmass.measure(model, batch.inputs[:1], allow_unclassified=True).nn_mass``
    (the rule and its conventions are in ``nnmass.topology``). NN-Mass is defined only
    where every merge of the network is classified into a cell; if the trace leaves
    any merge unclassified the value is nan. The trace runs with the model in eval
    mode (flags restored).

    Needs no data, labels or backward pass: the trace reads one sample's shape.
    """
    x, _ = batch_on(model, batch)
    with in_mode(model, False):  # the tracer puts back any buffer a module writes
        report = measure(model, x[:1], allow_unclassified=True)
    return math.nan if report.unclassified else float(report.nn_mass)
