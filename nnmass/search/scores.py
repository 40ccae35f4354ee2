"""The scores a search ranks by: a proxy or a combination of proxies, computed for a
population of networks through the resumable score store of ``nnmass rank``."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import UsageError
from ..validate import shown

NAMED = {"mass_size": ("nn_mass", "params")}


def members(expression: str) -> tuple[str, ...]:
    """The proxies an expression needs (``synflow``, ``nn_mass+params``, ``mass_size``)."""
    from ..proxies.proxy_names import PROXY_NAMES
    if not isinstance(expression, str) or not expression.strip():
        raise UsageError(f"a score must be a proxy name or NAME+NAME..., got {shown(expression)}")
    text = expression.strip().lower()
    if text in NAMED:
        return NAMED[text]
    names = tuple(m.strip() for m in text.split("+"))
    for name in names:
        if name not in PROXY_NAMES:
            raise UsageError(f"score {shown(expression)}: unknown proxy {shown(name)}; valid: "
                             f"{', '.join(PROXY_NAMES + tuple(NAMED))}, or several joined by +")
    if len(set(names)) != len(names):
        raise UsageError(f"score {shown(expression)} names a proxy twice")
    return names


def combine(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Rank aggregation: the sum over members of log(rank / n), ascending ranks with ties
    averaged and undefined values ranked last; nan where every member is undefined."""
    from scipy.stats import rankdata
    arrays = [np.asarray(a, dtype=float) for a in arrays]
    if len(arrays) == 1:
        return arrays[0]
    n = arrays[0].size
    total = np.zeros(n)
    for a in arrays:
        filled = np.where(np.isfinite(a), a, -np.inf)
        total += np.log(rankdata(filled, method="average") / n)
    total[~np.any([np.isfinite(a) for a in arrays], axis=0)] = np.nan
    return total


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
    values = combine([scores[n] for n in names])
    return values, np.nansum([seconds[n] for n in names], axis=0), summary
