"""meco: minimum eigenvalues of the channel correlations of one sample's feature maps."""
from __future__ import annotations

import torch
from torch import nn

from .batch import ProxyBatch
from .common import batch_on, finite_or_nan, hooked, run_on, stand_ins
from .registry import register_proxy


def min_correlation_eigenvalue(feature_map: torch.Tensor) -> torch.Tensor | None:
    """The smallest eigenvalue of the Pearson correlation between the rows (channels)
    of one sample's ``[C, ...]`` feature map, undefined entries set to 0; None for
    fewer than 2 channels or positions."""
    rows = feature_map.reshape(feature_map.shape[0], -1) if feature_map.dim() else feature_map.reshape(1, 1)
    if rows.shape[0] < 2 or rows.shape[1] < 2:
        return None  # a 1 x 1 or all-undefined (hence zero) correlation
    corr = torch.nan_to_num(torch.corrcoef(rows.double()), nan=0.0, posinf=0.0, neginf=0.0)
    try:
        return torch.linalg.eigvalsh(corr)[0]
    except torch.linalg.LinAlgError:
        return None


@register_proxy("meco", needs_data=True, needs_labels=False, needs_backward=False,
                samples="the first sample's feature maps (one forward of the batch)")
def meco(model: nn.Module, batch: ProxyBatch) -> float:
    """MeCo (Jiang, Wang, Bie, "MeCo: Zero-Shot NAS with One Data and Single Forward
    Pass via Minimum Eigenvalue of Correlation", NeurIPS 2023)::

        meco = sum over modules of lambda_min(P(f(X)))

    ``f(X)`` is a module's output for one input ``X``, as a ``C x (H W)`` matrix, and
    ``P`` its Pearson correlation matrix across channels. Convention of the official
    code's NAS-Bench-201 scorer (HamsterMimi/MeCo, ``correlation/NAS_Bench_201.py``,
    ``get_score``, whose batch defaults to 1): one forward pass of the batch in train
    mode, and each module's output for the first sample is scored; the other samples
    enter only through BatchNorm's batch statistics. With a batch of one this is the
    paper's single-input score; ``nnmass rank`` and the NB201 study run it at their
    batch of 16 (BatchNorm on a 1 x 1 feature map needs a second sample anyway). The
    repository's ``foresight/pruners/measures/meco.py`` differs: it scores one random
    1 x 3 x 64 x 64 input of its own. Every module is hooked (containers and
    the network itself included, so a container's output counts again), undefined
    correlation entries are set to 0 and non-finite results dropped; outputs with
    fewer than 2 channels or 2 positions (flattened vectors, logits) add 0.
    Eigenvalues in float64 (``eigvalsh``; the matrix is symmetric).

    Needs data (the first sample's maps; the batch's statistics), no labels, no
    backward pass, one forward pass.
    """
    x, _ = batch_on(model, batch)
    smallest = SmallestEigenvalues()
    with run_on(model, stand_ins(model), seed=batch.seed) as forward, \
            hooked(list(model.modules()), smallest.record), torch.no_grad():
        forward(x)
    return smallest.meco()


class SmallestEigenvalues:
    """``lambda_min`` of each module output's first sample, gathered by a forward hook
    on every module (:meth:`record`)."""

    def __init__(self):
        self.values: list[torch.Tensor] = []

    def record(self, module, inputs, output):
        if isinstance(output, (tuple, list)):
            output = next((o for o in output if isinstance(o, torch.Tensor)), None)
        if isinstance(output, torch.Tensor) and output.dim() >= 1:
            with torch.no_grad():
                value = min_correlation_eigenvalue(output[0].detach())
            if value is not None:
                self.values.append(value)

    def meco(self) -> float:
        """The sum of the finite values (0 when no output had 2 channels and 2 positions)."""
        if not self.values:
            return 0.0
        values = torch.stack(self.values)
        return finite_or_nan(values[torch.isfinite(values)].sum())
