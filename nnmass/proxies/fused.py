"""Fused scoring: the proxies of one network from as few passes as their definitions allow.

``score_fused(model, batch, names)`` gives exactly the values of ``run_proxies`` (a
test checks every proxy for equality), in less time. What is shared:

- **One data pass.** snip, grad_norm, fisher, grasp, jacob_cov, nwot and meco all
  start from the same train-mode forward pass of the whole batch on fresh stand-in
  tensors, with the model's randomness seeded by ``batch.seed``. That pass runs once,
  watched by fisher's, nwot's and meco's hooks. One backward pass of the loss gives
  the weight gradients (snip, grad_norm, and grasp's first pass) together with the
  layer-output gradients (fisher); a second backward pass through the same graph, of
  the summed logits to the input, gives jacob_cov's Jacobian.
- **grasp's second pass.** grasp's definition runs the batch twice: the gradient
  ``g``, then ``d(g^T dL/dW)/dW`` through a second forward pass. Where that second
  pass is bound to repeat the first one value for value (every module of a known,
  repeatable type, no hooks, no random draw in the first pass: see
  :mod:`nnmass.proxies.repeatable`), the shared pass's backward is taken with
  ``create_graph=True`` and grasp's Hessian-vector product runs through it, which
  saves a forward and a backward pass; the gradients of a ``create_graph`` backward
  are the plain backward's, bit for bit (a test checks the scores). Otherwise the
  second pass follows in the same run, as in :func:`nnmass.proxies.grasp`.
- The others run as their own functions, since their passes differ: ``params``
  (no pass), ``macs`` and ``nn_mass`` (eval mode, one sample), ``synflow``
  (``|theta|`` in float64, BatchNorm bypassed), ``zen`` (Gaussian weights) and
  ``zico`` (two half batches).

The formulas are not repeated here: each proxy module exposes the step that turns
its pass into a score (``saliency_sum``, ``LayerOutputs.fisher``, ...), and
both its own function and this module call it.

Memory: on large inputs, past a budget, the passes' large saved activations are
spilled to disk and read back bit for bit (:mod:`.spill`); the values are the same.

Seconds: each pass is timed; a pass that serves several proxies has its time split
evenly among them, so ``sum(run.seconds.values())`` is the wall time of the network.
"""
from __future__ import annotations

import math
import time
from contextlib import ExitStack, contextmanager
from typing import Iterable

import torch
from torch import nn

from .batch import ProxyBatch
from .common import (UndefinedScore, batch_on, hooked, logits_of, loss_of, run_on, saliency_sum, scored_layers,
                     stand_ins, weight_names)
from .fisher import LayerOutputs
from .grad_norm import grad_norm_from_gradients
from .grasp import grasp_from_gradient, grasp_from_graph
from .jacob_cov import correlation_score
from .meco import SmallestEigenvalues
from .nwot import CodeKernel, relu_modules
from .catalog import PROXIES, ProxyRun, parse_names
from .repeatable import generator_states, repeatable_modules, same_states
from .spill import spilling_for

#: The proxies served by the one shared data pass.
DATA_PASS = ("snip", "grad_norm", "fisher", "grasp", "jacob_cov", "nwot", "meco")
_LOSS_GRADIENTS = ("snip", "grad_norm", "fisher", "grasp")  # need dL/dW (and fisher dL/da)


class _Clock:
    """Per-proxy seconds: a timed step is charged to the proxies it serves, split evenly."""

    def __init__(self, names: Iterable[str]):
        self.seconds = {name: 0.0 for name in names}
        self.start = time.perf_counter()

    def charge(self, names: Iterable[str]) -> None:
        now = time.perf_counter()
        names = [n for n in names if n in self.seconds]
        for name in names:
            self.seconds[name] += (now - self.start) / len(names)
        self.start = now


def _data_pass(model: nn.Module, batch: ProxyBatch, wanted: list[str], clock: _Clock) -> dict[str, float]:
    """The scores of the wanted ``DATA_PASS`` proxies from one forward pass."""
    x, y = batch_on(model, batch)
    if "jacob_cov" in wanted:
        x = x.clone().requires_grad_(True)
    tensors = stand_ins(model)
    weights = [tensors[name] for name in weight_names(model)]
    kept, kernel, smallest = LayerOutputs(), CodeKernel(len(x), x.device), SmallestEigenvalues()
    hooks = [(scored_layers(model), kept.keep, False)] if "fisher" in wanted else []
    if "nwot" in wanted:
        hooks.append((relu_modules(model), kernel.count, True))
    if "meco" in wanted:
        hooks.append((list(model.modules()), smallest.record, False))
    backward = [n for n in _LOSS_GRADIENTS if n in wanted]
    fold_grasp = "grasp" in wanted and repeatable_modules(model)
    scores: dict[str, float] = {}
    if backward and not weights:  # nothing to score: undefined, as in each proxy's function
        scores.update((n, math.nan) for n in backward)
        backward = []
    fold_grasp = fold_grasp and "grasp" in backward
    graph_grads = None  # the weight gradients with their graph, where grasp's pass is folded in
    clock.charge([])  # the stand-ins and hooks above are charged to no one (microseconds)
    with run_on(model, tensors, seed=batch.seed) as forward:
        before = generator_states(x.device) if fold_grasp else None
        with _hooks(hooks):
            output = forward(x) if (backward or "jacob_cov" in wanted) else _no_grad(forward, x)
        fold_grasp = fold_grasp and same_states(before, generator_states(x.device))
        clock.charge(wanted)
        if backward:
            try:
                loss = loss_of(output, y)
            except UndefinedScore:  # one logit
                scores.update((n, math.nan) for n in backward)
                backward = []
        if backward:
            targets = weights + kept.outputs
            grads = torch.autograd.grad(loss, targets, allow_unused=True,
                                        retain_graph="jacob_cov" in wanted or fold_grasp,
                                        create_graph=fold_grasp)
            del loss  # a grasp of its own needs no part of this graph
            graph_grads = grads[:len(weights)]
            grads = [None if g is None else g.detach() for g in grads]
            weight_grads, output_grads = grads[:len(weights)], grads[len(weights):]
            clock.charge(backward)
        if "jacob_cov" in wanted:
            (jac,) = torch.autograd.grad(logits_of(output).sum(), x, retain_graph=fold_grasp)
            scores["jacob_cov"] = correlation_score(jac.reshape(len(x), -1))
            clock.charge(["jacob_cov"])
        del output  # frees the graph before grasp builds its own (a folded grasp keeps it)
        if "snip" in backward:
            scores["snip"] = saliency_sum(weights, weight_grads)
            clock.charge(["snip"])
        if "grad_norm" in backward:
            scores["grad_norm"] = grad_norm_from_gradients(weight_grads)
            clock.charge(["grad_norm"])
        if "fisher" in backward:
            scores["fisher"] = kept.fisher(output_grads)
            clock.charge(["fisher"])
        kept.outputs.clear()  # the activations fisher read: freed before grasp's pass
        grads = output_grads = None
        if "grasp" in backward:
            if fold_grasp:
                scores["grasp"] = grasp_from_graph(weights, weight_grads, graph_grads)
            else:
                xg = x.detach() if "jacob_cov" in wanted else x
                scores["grasp"] = grasp_from_gradient(forward, xg, y, weights, weight_grads)
            clock.charge(["grasp"])
        del graph_grads
    if "nwot" in wanted:
        scores["nwot"] = kernel.nwot()
    if "meco" in wanted:
        scores["meco"] = smallest.meco()
    clock.charge([n for n in ("nwot", "meco") if n in wanted])
    return scores


def _no_grad(forward, x):
    with torch.no_grad():
        return forward(x)


@contextmanager
def _hooks(specs):
    """Several ``hooked`` blocks as one context (those entered are removed if a later one fails)."""
    with ExitStack() as stack:
        for modules, hook, pre in specs:
            stack.enter_context(hooked(modules, hook, pre=pre))
        yield


def score_fused(model: nn.Module, batch: ProxyBatch, names: str | Iterable[str] = "all") -> ProxyRun:
    """Score ``model`` on ``batch`` with each named proxy, sharing passes (see the module
    docstring); the values equal those of :func:`nnmass.proxies.run_proxies`."""
    wanted = parse_names(names)
    clock = _Clock(wanted)
    scores = {n: math.nan for n in wanted if PROXIES[n].undefined_on(model, batch)}
    shared = [n for n in wanted if n in DATA_PASS and n not in scores]
    with spilling_for(batch.inputs):  # large saved activations go to disk past the memory budget
        for name in wanted:
            if name in scores:  # undefined here, or served by the data pass already
                continue
            if name in shared:
                scores.update(_data_pass(model, batch, shared, clock))
            else:
                clock.charge([])
                scores[name] = float(PROXIES[name].function(model, batch))
                clock.charge([name])
    return ProxyRun(scores={n: scores[n] for n in wanted}, seconds=clock.seconds)
