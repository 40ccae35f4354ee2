"""grasp: gradient signal preservation, -theta * (H g) summed."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .batch import ProxyBatch
from .common import batch_on, finite_or_nan, loss_of, needs_weights, run_on, stand_ins, weight_names
from .registry import register_proxy
from .repeatable import generator_states, repeatable_modules, same_states


@register_proxy("grasp", needs_data=True, needs_labels=True, needs_backward=True,
                samples="the whole batch (two passes)")
def grasp(model: nn.Module, batch: ProxyBatch) -> float:
    """Gradient signal preservation (Wang, Zhang, Grosse, "Picking winning tickets
    before training by preserving gradient flow", ICLR 2020), summed as a NAS proxy by
    Abdelfattah et al. (ICLR 2021)::

        g = dL/dW,   Hg = d(g_stop^T dL/dW)/dW,   grasp = -sum_l sum W_l * (Hg)_l

    ``H`` is the Hessian of the loss with respect to the conv and linear weights and
    ``g`` the gradient, taken as a constant (temperature 1, one iteration). Convention
    of zero-cost-nas and NASLib: the gradient and the Hessian-vector product come from
    two forward passes on the same batch, the sign is negative (their "-theta Hg"),
    the sum is signed (no absolute value), BatchNorm kept, train mode.

    Where the second forward pass is bound to repeat the first value for value (see
    :mod:`nnmass.proxies.repeatable`: known module types, no hooks, no random draw),
    both passes are one: its backward is taken with ``create_graph=True``, whose
    gradient is the plain backward's bit for bit, and the Hessian-vector product runs
    through it. The value is the two-pass value; one forward and one backward pass
    fewer.

    Needs data and labels, a double backward pass, the whole batch. Ops without a
    second derivative in torch (e.g. hardsigmoid, CPU flash attention as of torch
    2.14) raise torch's error.
    """
    x, y = batch_on(model, batch)
    tensors = stand_ins(model)
    weights = needs_weights([tensors[name] for name in weight_names(model)])
    fold = repeatable_modules(model)
    with run_on(model, tensors, seed=batch.seed) as forward:
        before = generator_states(x.device) if fold else None
        loss = loss_of(forward(x), y)
        fold = fold and same_states(before, generator_states(x.device))
        grad = torch.autograd.grad(loss, weights, allow_unused=True, create_graph=fold)
        if fold:
            return grasp_from_graph(weights, [None if g is None else g.detach() for g in grad], grad)
        return grasp_from_gradient(forward, x, y, weights, grad)


def grasp_from_gradient(forward: Callable, x: torch.Tensor, y: torch.Tensor, weights: list[torch.Tensor],
                        grad) -> float:
    """The second pass of grasp: ``-sum W * (H g)`` given the first pass's gradient ``g``.

    ``forward`` is the model on its stand-ins (inside ``run_on``, so a second forward
    draws the model's randomness after the first, as in :func:`grasp`)."""
    grad_graph = torch.autograd.grad(loss_of(forward(x), y), weights, create_graph=True, allow_unused=True)
    return grasp_from_graph(weights, grad, grad_graph)


def grasp_from_graph(weights: list[torch.Tensor], grad, grad_graph) -> float:
    """``-sum W * (H g)`` from the gradient ``g`` (taken as a constant) and the second
    pass's gradient ``grad_graph``, computed with ``create_graph=True``; one backward
    pass through ``grad_graph``'s graph gives the Hessian-vector product."""
    used = [i for i, (g, h) in enumerate(zip(grad, grad_graph)) if g is not None and h is not None]
    if not used:
        return 0.0
    inner = sum((grad[i].detach() * grad_graph[i]).sum() for i in used)
    if not inner.requires_grad:  # a network linear in its weights has no curvature here
        return 0.0
    hess_grad = torch.autograd.grad(inner, [weights[i] for i in used], allow_unused=True)
    with torch.no_grad():
        return finite_or_nan(-sum((weights[i] * hg).sum() for i, hg in zip(used, hess_grad) if hg is not None))
