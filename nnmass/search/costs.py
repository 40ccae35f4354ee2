"""Parameters and MACs of a search's candidates, for the ``--max-params`` /
``--max-macs`` budget, before any score is computed.

Where a space's cost is a sum over its edges (every NB201 or TransNAS-Bench-101 micro
edge op has its own weights and work, whatever the other edges hold), the cost is a closed form: the cost of the
all-``none`` cell plus, per edge, what its op adds. The terms are measured once on
built networks (1 + edges x ops builds). Elsewhere each candidate is built and counted.
Counts follow the ``params`` and ``macs`` proxies: ``sum(p.numel())``, and the
multiply-accumulates of convolutions and matrix products for one sample.
"""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np

from ..spaces import SearchSpace

ADDITIVE_REFERENCE = {"nb201": "none", "tnb-micro": 0}
"""Spaces whose architectures are tuples of per-edge ops with additive costs, and the op
that adds nothing (the reference cell)."""


def network_costs(space: SearchSpace, arch: Hashable, task: str | None, sets=None) -> tuple[float, float]:
    """``(params, macs)`` of the network of ``arch``, built and counted by the ``params``
    and ``macs`` proxies themselves."""
    import torch

    from ..models.space_networks import build_in_space
    from ..proxies import gaussian_batch, macs, params

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the weights' values do not change either count
        model = build_in_space(space, arch, task, sets)
    t = space.task(task)
    batch = gaussian_batch(t.input_shape, batch_size=2, num_classes=t.num_classes, seed=0)  # only its shape is read
    return params(model, batch), macs(model, batch)


def _additive_terms(space: SearchSpace, ops: Sequence[str], reference: str, edges: int, task, sets):
    base = network_costs(space, (reference,) * edges, task, sets)
    terms = {}
    for edge in range(edges):
        for op in ops:
            if op != reference:
                arch = tuple(op if e == edge else reference for e in range(edges))
                cost = network_costs(space, arch, task, sets)
                terms[edge, op] = (cost[0] - base[0], cost[1] - base[1])
    return base, terms


def candidate_costs(space: SearchSpace, archs: Sequence[Hashable], task: str | None = None,
                    sets=None) -> tuple[np.ndarray, np.ndarray, str]:
    """``(params, macs, how)``: one value per architecture, and ``"closed form"`` or
    ``"built"``."""
    params, macs = np.empty(len(archs)), np.empty(len(archs))
    reference = ADDITIVE_REFERENCE.get(space.name)
    # The closed form builds 1 + edges x ops networks once: worth it for more candidates than that.
    if reference is not None and len(archs) > 4 * len(archs[0]) + 1:
        edges = len(archs[0])
        ops = sorted({op for arch in archs for op in arch} - {reference})
        base, terms = _additive_terms(space, ops, reference, edges, task, sets)
        for i, arch in enumerate(archs):
            added = [terms[e, op] for e, op in enumerate(arch) if op != reference]
            params[i] = base[0] + sum(t[0] for t in added)
            macs[i] = base[1] + sum(t[1] for t in added)
        return params, macs, "closed form"
    for i, arch in enumerate(archs):
        params[i], macs[i] = network_costs(space, arch, task, sets)
    return params, macs, "built"
