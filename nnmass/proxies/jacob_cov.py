"""jacob_cov: how uncorrelated the input Jacobians of a batch are."""
from __future__ import annotations

import math

import torch
from torch import nn

from .batch import ProxyBatch
from .common import batch_on, finite_or_nan, logits_of, run_on, stand_ins
from .registry import register_proxy

#: Keeps the logarithm finite for (near) zero eigenvalues, as in the references.
EIG_EPS = 1e-5


def correlation_score(jacobians: torch.Tensor) -> float:
    """``-sum_i (log(v_i + k) + 1 / (v_i + k))`` over the eigenvalues ``v`` of the
    correlation matrix of the rows of ``jacobians`` ``[N, D]`` (float64)."""
    corr = torch.atleast_2d(torch.corrcoef(jacobians.double()))
    if not bool(torch.isfinite(corr).all()):  # a constant row: the correlation is undefined
        return math.nan
    try:
        eig = torch.linalg.eigvalsh(corr)
    except torch.linalg.LinAlgError:
        return math.nan
    return finite_or_nan(-(torch.log(eig + EIG_EPS) + 1.0 / (eig + EIG_EPS)).sum())


@register_proxy("jacob_cov", needs_data=True, needs_labels=False, needs_backward=True,
                samples="the whole batch", min_batch=2)
def jacob_cov(model: nn.Module, batch: ProxyBatch) -> float:
    """Jacobian covariance (Mellor, Turner, Storkey, Crowley, "Neural architecture
    search without training", arXiv v1, 2020; the score of zero-cost-nas and NASLib's
    ``jacov``)::

        J_n = d(sum of all logits of the batch)/d x_n       (flattened, one row per sample)
        C   = corrcoef(J)                                    (N x N)
        jacob_cov = -sum_i (log(v_i + 1e-5) + 1 / (v_i + 1e-5)),  v = eig(C)

    Convention of the references: the Jacobian is the gradient of the summed logits
    (``y.backward(ones)``), BatchNorm kept in train mode, so batch statistics couple
    the samples. Eigenvalues in float64 (``eigvalsh``: ``C`` is symmetric). nan where a
    row is constant (its correlation is undefined) and for one sample (the 1 x 1
    correlation is 1 whatever the network).

    Needs data, no labels, one backward pass to the input, the whole batch (>= 2 samples).
    """
    x, _ = batch_on(model, batch)
    x = x.clone().requires_grad_(True)
    with run_on(model, stand_ins(model), seed=batch.seed) as forward:
        (jac,) = torch.autograd.grad(logits_of(forward(x)).sum(), x)
    return correlation_score(jac.reshape(len(x), -1))
