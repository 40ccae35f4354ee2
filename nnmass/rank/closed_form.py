"""Proxies a space gives in closed form: ``macs`` on NB201 and TransNAS-Bench-101 micro.

The ``macs`` proxy counts by running the network once under a dispatch mode that sees
every op, which costs a forward pass of Python dispatch (15-30 ms an NB201 network,
2-3% of scoring it with every proxy), while the count of a cell in these spaces is a
sum over its edges (:mod:`nnmass.spaces.additive`). So a process that scores many
networks of a setting counts each term once, by the ``macs`` proxy itself, on a
network built and fed as every scored network is, and gives each network the sum of
its terms: the same whole number the proxy gives on it
(``tests/test_rank_closed_form.py``). The terms cost up to 1 + edges x (ops - 1)
counts, so a process counts its first that many networks of a setting directly and
sums terms only after: a short run (a study's 20 networks of a task) costs what it
did. The seconds stored are those of the sum, and of the terms it counted first.
"""
from __future__ import annotations

import time
from typing import Callable

from ..spaces.additive import AdditiveCount, is_additive, most_networks


def closed_form_scores(network: str, names, setting, cache: dict,
                       counted_macs: Callable[[str], float]) -> tuple[dict, dict]:
    """``(scores, seconds)`` of ``macs``, where ``names`` asks for it and ``setting``'s space
    gives it in closed form; empty otherwise. ``counted_macs(text)`` is the
    ``macs`` proxy on the network of an architecture string, built and fed as a scored
    network is; the terms it counts are kept in ``cache`` (one per process and setting)."""
    if "macs" not in names or setting.space == "model":
        return {}, {}
    from ..spaces import get_space
    space = get_space(setting.space)
    if not is_additive(space):
        return {}, {}
    seen = ("networks seen", setting)
    cache[seen] = cache.get(seen, 0) + 1
    if cache[seen] <= most_networks(space):  # a short run counts each network, as the terms would cost as much
        return {}, {}
    start = time.perf_counter()
    key = ("additive macs", setting)
    if key not in cache:
        cache[key] = AdditiveCount(space, lambda arch: (counted_macs(space.format(arch)),))
    (value,) = cache[key](space.parse(network))
    return {"macs": value}, {"macs": time.perf_counter() - start}
