"""The registry of proxies: a plain dict from name to record, filled as the proxy
modules are imported (``nnmass.proxies`` imports them all)."""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

from torch import nn

from .batch import ProxyBatch
from .common import UndefinedScore
from .proxy_names import parse_proxy_names, unknown_proxy

ProxyFn = Callable[[nn.Module, ProxyBatch], float]


@dataclass(frozen=True)
class Proxy:
    """One registered proxy.

    Attributes:
        name: the registry name.
        function: ``function(model, batch) -> float``.
        needs_data: reads the values of ``batch.inputs`` (else only their shape).
        needs_labels: reads ``batch.targets``.
        needs_backward: runs a backward pass.
        samples: which samples it uses, in words.
        min_batch: the fewest samples it is defined on (smaller batches give nan;
            ``nnmass proxies`` refuses them).
        needs_weights: scores the network's parameters; nan on a network without any.
    """

    name: str
    function: ProxyFn
    needs_data: bool
    needs_labels: bool
    needs_backward: bool
    samples: str
    min_batch: int = 1
    needs_weights: bool = True

    def undefined_on(self, model: nn.Module, batch: ProxyBatch) -> bool:
        """True where the score has no meaning before anything runs: a batch under
        ``min_batch``, or a network without parameters for a proxy that scores them."""
        return batch.size < self.min_batch or (self.needs_weights and next(model.parameters(), None) is None)


#: name -> record, in registration order.
PROXIES: dict[str, Proxy] = {}


def register_proxy(name: str, *, needs_data: bool, needs_labels: bool, needs_backward: bool,
                   samples: str, min_batch: int = 1, needs_weights: bool = True) -> Callable[[ProxyFn], ProxyFn]:
    """Decorator: register ``function`` under ``name``; a name is registered once only.

    The registered (and returned) function gives nan where the proxy is undefined:
    :meth:`Proxy.undefined_on` before it runs, or an :class:`UndefinedScore` raised
    while it runs."""
    def add(function: ProxyFn) -> ProxyFn:
        if name in PROXIES:
            raise ValueError(f"a proxy is already registered under the name {name!r}")

        @functools.wraps(function)
        def scored(model: nn.Module, batch: ProxyBatch) -> float:
            if PROXIES[name].undefined_on(model, batch):
                return math.nan
            try:
                return function(model, batch)
            except UndefinedScore:
                return math.nan

        PROXIES[name] = Proxy(name, scored, needs_data, needs_labels, needs_backward, samples, min_batch,
                              needs_weights)
        return scored
    return add


def min_batch(names: Iterable[str]) -> int:
    """The fewest samples every named proxy is defined on."""
    return max((PROXIES[n].min_batch for n in names), default=1)


def names() -> list[str]:
    """Every registered name, in registration order."""
    return list(PROXIES)


def get(name: str) -> Proxy:
    """The record registered under ``name``.

    Raises:
        UsageError: ``name`` is not a proxy, in the words of ``parse_proxy_names``.
    """
    if name not in PROXIES or name == "all":
        raise unknown_proxy(name, "proxy", tuple(PROXIES))
    return PROXIES[name]


def parse_names(spec: str | Iterable[str]) -> list[str]:
    """``"synflow,snip"`` (or a list of names) as a list of names, in the given order
    without repeats; ``"all"`` is every proxy (``parse_proxy_names`` as a list)."""
    items = spec if isinstance(spec, str) else list(spec)
    return list(parse_proxy_names(items, valid=tuple(PROXIES)))


@dataclass
class ProxyRun:
    """The scores of one model on one batch, with each proxy's wall time.

    Attributes:
        scores: name -> value (nan where undefined, see ``nnmass.proxies``).
        seconds: name -> wall-clock seconds of that proxy.
    """

    scores: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def undefined(self) -> list[str]:
        """The names whose value is nan."""
        return [name for name, value in self.scores.items() if math.isnan(value)]


def run_proxies(model: nn.Module, batch: ProxyBatch, names: str | Iterable[str] = "all") -> ProxyRun:
    """Score ``model`` on ``batch`` with each named proxy, timing each."""
    run = ProxyRun()
    for name in parse_names(names):
        start = time.perf_counter()
        run.scores[name] = float(PROXIES[name].function(model, batch))
        run.seconds[name] = time.perf_counter() - start
    return run


def score_all(model: nn.Module, batch: ProxyBatch, names: str | Iterable[str] = "all") -> dict[str, float]:
    """name -> score of ``model`` on ``batch`` (``run_proxies`` without the timings)."""
    return run_proxies(model, batch, names).scores
