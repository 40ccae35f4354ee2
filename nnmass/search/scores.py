"""The scores a search ranks by: a proxy or a combination of proxies, computed for a
population of networks through the resumable score store of ``nnmass rank``."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from ..proxies.combined import parse_score


def members(expression: str, flag: str = "--score") -> tuple[str, ...]:
    """The proxies a score needs: a proxy name, or a combination (``nn_mass+params``,
    ``mass_size``, ``ensemble``; :mod:`nnmass.proxies.combined`).

    Raises:
        UsageError: not a proxy or a combination, one line naming ``flag``.
    """
    parsed = parse_score(expression, flag)
    return (parsed,) if isinstance(parsed, str) else parsed.members


def values(expression: str, scores: Mapping[str, np.ndarray]) -> np.ndarray:
    """The score of each network of the population: a proxy's own values, or a
    combination ranked over the population (``scores``: proxy -> aligned values)."""
    parsed = parse_score(expression, "--score")
    return np.asarray(scores[parsed], dtype=float) if isinstance(parsed, str) else parsed.combine(scores)


def population_scores(networks: Sequence[str], expression: str, setting, store, *, workers: int = 1,
                      device: str = "cpu", progress: bool = True, desc: str = "scoring", ray=None):
    """``(values, seconds per network, summary)`` of ``expression`` over ``networks``
    (architecture strings of ``setting.space``), scoring only what the store lacks. Each
    is scored as its canonical network (``nnmass.rank.scoring.canonical_network``), so
    strings computing the same function share one network and one score. With ``ray``
    (a :class:`nnmass.parallel.ray_tasks.RayCluster`) networks are scored as Ray tasks."""
    from ..rank.ranking import stored_arrays
    from ..rank.runner import score_networks
    from ..rank.scoring import canonical_network

    names = list(members(expression))
    canonical = [canonical_network(n, setting.space) for n in networks]
    summary = score_networks(canonical, names, setting, store, workers=workers, device=device,
                             progress=progress, desc=desc, ray=ray)
    scores, seconds, _ = stored_arrays(store, setting, canonical, names)
    return values(expression, scores), np.nansum([seconds[n] for n in names], axis=0), summary
