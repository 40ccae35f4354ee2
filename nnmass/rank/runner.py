"""``score_networks``: every network x every proxy into the score store, resumably.

The unit of work is one network with the proxies it still lacks under the setting;
its scores are written in one committed transaction as it finishes, by this driver
only (workers never touch the file). A rerun, after ``kill -9`` too, asks the store
what is there and scores only the rest, so no score is computed twice.

Workers: ``workers=1`` scores in the calling process; more starts that many 'spawn'
processes (as :class:`nnmass.sweep.executors.LocalExecutor` does). On a CPU each
scores with one torch thread: the networks are small, and one process per core
beats intra-op threads on them.
"""
from __future__ import annotations

import sys
import time
from functools import partial
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

from ..parallel.worker_pool import results_in_workers
from ..validate import check_int
from .scoring import ScoreSetting, Scored, score_network
from .store import ScoreStore

_CACHE: dict = {}  # batches and datasets of this process, reused by every network it scores


@dataclass(frozen=True)
class ScoringSummary:
    """What one ``score_networks`` call did."""

    networks: int  # distinct networks asked for
    reused: int  # networks whose every score was already stored
    scored: int  # networks scored now (some or all of their proxies)
    failed: int  # of those, networks whose scoring raised
    seconds: float
    first_error: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _score(network: str, names: list[str], setting: ScoreSetting, device: str) -> Scored:
    import torch

    threads = torch.get_num_threads()
    if not str(device).startswith("cuda"):
        torch.set_num_threads(1)  # see the module docstring
    try:
        return score_network(network, names, setting, device, _CACHE)
    finally:
        torch.set_num_threads(threads)


def _score_unit(unit: tuple[str, list[str]], setting: ScoreSetting, device: str) -> Scored:
    return _score(unit[0], unit[1], setting, device)


def _failed_unit(unit: tuple[str, list[str]], error: BaseException) -> Scored:
    """A network whose worker died: every proxy asked of it is nan, with the reason."""
    network, names = unit
    return Scored(network, {n: float("nan") for n in names}, {n: 0.0 for n in names},
                  f"{type(error).__name__}: {error}")


def _run(units: list[tuple[str, list[str]]], setting: ScoreSetting, device: str, workers: int) -> Iterator[Scored]:
    if workers == 1 or len(units) <= 1:
        for network, names in units:
            yield _score(network, names, setting, device)
        return
    yield from results_in_workers(partial(_score_unit, setting=setting, device=device), units, workers,
                                  _failed_unit)


def score_networks(networks: Sequence[str], names: Sequence[str], setting: ScoreSetting, store: ScoreStore, *,
                   workers: int = 1, device: str = "cpu", progress: bool = True, desc: str = "scoring"
                   ) -> ScoringSummary:
    """Score every network (canonical strings) with every named proxy, skipping what the
    store already holds under ``setting``.

    Args:
        workers: processes (1: this one).
        progress: a progress bar with ETA on stderr.
    """
    check_int("--workers", workers, 1)
    start = time.perf_counter()
    key = setting.key()
    done = store.done(key)
    distinct = list(dict.fromkeys(networks))
    units = [(n, [p for p in names if p not in done.get(n, set())]) for n in distinct]
    units = [(n, missing) for n, missing in units if missing]
    failed, first_error = 0, None
    if units:
        from tqdm import tqdm

        with tqdm(total=len(units), desc=desc, unit="net", file=sys.stderr, disable=not progress,
                  dynamic_ncols=True) as bar:
            for scored in _run(units, setting, device, workers):
                store.put(scored.network, key, scored.scores, scored.seconds, scored.error)
                if scored.error:
                    failed += 1
                    first_error = first_error or f"{scored.network}: {scored.error}"
                bar.update(1)
    return ScoringSummary(networks=len(distinct), reused=len(distinct) - len(units), scored=len(units),
                          failed=failed, seconds=time.perf_counter() - start, first_error=first_error)
