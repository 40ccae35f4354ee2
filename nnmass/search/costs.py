"""Parameters and MACs of a search's candidates, for the ``--max-params`` /
``--max-macs`` budget, before any score is computed.

Where a space's cost is a sum over its edges (every NB201 or TransNAS-Bench-101 micro
edge op has its own weights and work, whatever the other edges hold), the cost is a
closed form (:mod:`nnmass.spaces.additive`): the cost of the all-``none`` cell plus, per
edge, what its op adds, each term counted once on a built network. Elsewhere each
candidate is built and counted. Counts follow the ``params`` and ``macs`` proxies:
``sum(p.numel())``, and the multiply-accumulates of convolutions and matrix products
for one sample.
"""
from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np

from ..spaces import SearchSpace
from ..spaces.additive import AdditiveCount, is_additive, most_networks


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


def candidate_costs(space: SearchSpace, archs: Sequence[Hashable], task: str | None = None,
                    sets=None) -> tuple[np.ndarray, np.ndarray, str]:
    """``(params, macs, how)``: one value per architecture, and ``"closed form"`` or
    ``"built"``."""
    params, macs = np.empty(len(archs)), np.empty(len(archs))
    # The closed form builds up to most_networks(space) networks: worth it for more candidates than that.
    if is_additive(space) and len(archs) > most_networks(space):
        costs = AdditiveCount(space, lambda arch: network_costs(space, arch, task, sets))
        for i, arch in enumerate(archs):
            params[i], macs[i] = costs(arch)
        return params, macs, "closed form"
    for i, arch in enumerate(archs):
        params[i], macs[i] = network_costs(space, arch, task, sets)
    return params, macs, "built"
