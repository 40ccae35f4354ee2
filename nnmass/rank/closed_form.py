"""Proxies a space gives in closed form: ``macs`` on NB201 and TransNAS-Bench-101 micro.

The ``macs`` proxy counts by running the network once under a dispatch mode that sees
every op, which costs a forward pass of Python dispatch (about 15-30 ms an NB201
network, 3% of scoring it with every proxy), while the count of a cell in these spaces
is a sum over its edges (:mod:`nnmass.spaces.additive`). So here each term is counted
once per process and setting, by the ``macs`` proxy itself, on a network built and fed
as every scored network is (:func:`.scoring.build_network`, :func:`.scoring.make_batch`),
and a network's value is the sum of its terms: the same whole number the proxy gives
on it (``tests/test_rank_closed_form.py``). Its seconds are those of the sum, and of the
terms it counted first.
"""
from __future__ import annotations

import time
from typing import Callable

from ..spaces.additive import AdditiveCount, is_additive

CLOSED_FORM = ("macs",)
"""The proxies given in closed form where the space allows it."""


def closed_form_scores(network: str, names, setting, cache: dict,
                       counted_macs: Callable[[str], float]) -> tuple[dict, dict]:
    """``(scores, seconds)`` of the proxies of ``names`` that ``setting``'s space gives in
    closed form (none outside the additive spaces). ``counted_macs(text)`` is the
    ``macs`` proxy on the network of an architecture string, built and fed as a scored
    network is; the terms it counts are kept in ``cache`` (one per process and setting)."""
    wanted = [n for n in names if n in CLOSED_FORM]
    if not wanted or setting.space == "model":
        return {}, {}
    from ..spaces import get_space
    space = get_space(setting.space)
    if not is_additive(space):
        return {}, {}
    start = time.perf_counter()
    key = ("additive macs", setting)
    if key not in cache:
        cache[key] = AdditiveCount(space, lambda arch: (counted_macs(space.format(arch)),))
    (value,) = cache[key](space.parse(network))
    return {"macs": value}, {"macs": time.perf_counter() - start}
