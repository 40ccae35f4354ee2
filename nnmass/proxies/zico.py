"""zico: inverse coefficient of variation of the gradients across batches."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .batch import ProxyBatch
from .common import batch_on, finite_or_nan, loss_of, needs_weights, run_on, stand_ins, weight_names
from .registry import register_proxy

#: The official code scores two mini-batches (``--maxbatch 2``); here, two halves of one.
SPLITS = 2


def zico_from_gradients(per_split: list[list[torch.Tensor | None]]) -> float:
    """``sum_l log sum_w mean|g_w| / std(g_w)`` over layers (population std across the
    splits, weights of zero std left out, layers with nothing left skipped); nan if
    every layer is skipped."""
    total, defined = 0.0, False
    for grads in zip(*per_split):
        if any(g is None for g in grads):
            continue
        stacked = torch.stack([g.reshape(-1) for g in grads]).double()
        std = population_std(stacked)
        varying = std != 0
        ratio = float((stacked.abs().mean(0)[varying] / std[varying]).sum())
        if ratio > 0:
            total += math.log(ratio)
            defined = True
    return finite_or_nan(total) if defined else math.nan


def population_std(rows: torch.Tensor) -> torch.Tensor:
    """``rows.std(0, correction=0)``, value for value, in a few whole-row operations.

    torch's CPU kernel runs Welford's update for each column in turn, which over a
    gradient's two rows costs about 20x the arithmetic. Here the same updates (the
    order of ``WelfordOps::reduce`` in torch's ``SharedReduceOps.h``) run a row at a
    time across all columns, in float64 as there, and the square root is numpy's,
    correctly rounded like the kernel's (torch's vectorised one is not, by an ulp at
    times). On other devices torch's own kernel runs.
    """
    if rows.device.type != "cpu" or rows.dtype != torch.float64:
        return rows.std(0, correction=0)
    values = rows.detach().numpy()
    mean = np.zeros(values.shape[1:])
    m2 = np.zeros(values.shape[1:])
    with np.errstate(all="ignore"):  # inf and nan propagate as in the kernel
        for count, row in enumerate(values, start=1):
            delta = row - mean
            mean = mean + delta / float(count)
            m2 = m2 + delta * (row - mean)
        return torch.from_numpy(np.sqrt(m2 / float(len(values))))


@register_proxy("zico", needs_data=True, needs_labels=True, needs_backward=True,
                samples="the whole batch, in 2 halves (>= 2 samples)", min_batch=SPLITS)
def zico(model: nn.Module, batch: ProxyBatch) -> float:
    """ZiCo (Li, Yang, Bhardwaj, Marculescu, "ZiCo: Zero-shot NAS via inverse
    Coefficient of Variation on Gradients", ICLR 2023)::

        zico = sum_l log( sum_{w in layer l} E[|dL/dw|] / sqrt(Var[dL/dw]) )

    with mean and variance over mini-batches. Convention of SLDGroup/ZiCo
    ``compute_zico.py``: the layers are conv and linear weights, the statistics are
    over two mini-batches (here the two halves of the batch, each its own forward
    and backward pass in train mode), the std is the population std, weights whose
    gradient does not vary are left out and a layer with nothing left is skipped.
    Where every layer is skipped the value is nan (the official code returns 0), and
    so is a batch of one sample (there are no two halves).

    Needs data and labels, two backward passes, the whole batch (at least 2 samples).
    """
    x, y = batch_on(model, batch)
    tensors = stand_ins(model)
    weights = needs_weights([tensors[name] for name in weight_names(model)])
    per_split = []
    with run_on(model, tensors, seed=batch.seed) as forward:
        for xs, ys in zip(x.tensor_split(SPLITS), y.tensor_split(SPLITS)):
            per_split.append(torch.autograd.grad(loss_of(forward(xs), ys), weights, allow_unused=True))
    return zico_from_gradients(per_split)
