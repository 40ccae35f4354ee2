"""``score_networks``: every network x every proxy into the score store, resumably.

The unit of work is one network with the proxies it still lacks under the setting;
its scores are written in one committed transaction as it finishes, by this driver
only (workers never touch the file). A rerun, after ``kill -9`` too, asks the store
what is there and scores only the rest, so no score is computed twice. Runs on one
store at once share the work through the store's claims (see :mod:`.store`): a
network is claimed just before it is handed to a worker, and one another run holds
is left to it and looked at again at the end.

Workers: ``workers=1`` scores in the calling process; more starts that many 'spawn'
processes (as :class:`nnmass.sweep.executors.LocalExecutor` does). On a CPU each
scores with one torch thread unless ``threads`` says otherwise: the networks are
small, and one process per core beats intra-op threads on them.
"""
from __future__ import annotations

import sys
import time
from functools import partial
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, Sequence

from ..parallel.worker_pool import results_in_workers
from ..threads import torch_threads
from ..validate import check_int
from .scoring import ScoreSetting, Scored, score_network
from .identity import network_keys
from .store import ScoreStore, run_id

CLAIM_POLL_SECONDS = 0.5  # how often a run waiting on another run's networks looks again
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


def _score(network: str, names: list[str], setting: ScoreSetting, device: str, threads: int = 1) -> Scored:
    with torch_threads(threads, device):  # see the module docstring
        return score_network(network, names, setting, device, _CACHE)


def _score_unit(unit: tuple[str, list[str]], setting: ScoreSetting, device: str, threads: int = 1) -> Scored:
    return _score(unit[0], unit[1], setting, device, threads)


def _failed_unit(unit: tuple[str, list[str]], error: BaseException) -> Scored:
    """A network whose worker died: every proxy asked of it is nan, with the reason."""
    network, names = unit
    return Scored(network, {n: float("nan") for n in names}, {n: 0.0 for n in names},
                  f"{type(error).__name__}: {error}")


def _run(units: Iterable[tuple[str, list[str]]], setting: ScoreSetting, device: str, workers: int,
         threads: int) -> Iterator[Scored]:
    if workers == 1:
        for network, names in units:
            yield _score(network, names, setting, device, threads)
        return
    yield from results_in_workers(partial(_score_unit, setting=setting, device=device, threads=threads), units,
                                  workers, _failed_unit)


def _claimed(units: list[tuple[str, list[str]]], store: ScoreStore, key: str, run: str,
             elsewhere: list, finished: list, ids: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """The units this run claims, one at a time as it is ready for them, with the proxies
    they still lack; those another live run holds go to ``elsewhere``, those it has
    finished meanwhile to ``finished``."""
    for network, names in units:
        missing = store.claim(ids[network], key, run, names)
        if missing is None:
            elsewhere.append((network, names))
        elif missing:
            yield network, missing
        else:
            finished.append(network)  # stored by another run since this one started


def score_networks(networks: Sequence[str], names: Sequence[str], setting: ScoreSetting, store: ScoreStore, *,
                   workers: int = 1, device: str = "cpu", progress: bool = True, desc: str = "scoring",
                   threads: int = 1) -> ScoringSummary:
    """Score every network (canonical strings) with every named proxy, skipping what the
    store already holds under ``setting``.

    A network another run on the same store is scoring is left to it and looked at
    again once this run's own work is done: its scores are then read back, or, if that
    run stopped without them, scored here.

    Args:
        workers: processes (1: this one).
        threads: torch threads of each process on a CPU (see the module docstring).
        progress: a progress bar with ETA on stderr.
    """
    check_int("--workers", workers, 1)
    check_int("--threads", threads, 1)
    start = time.perf_counter()
    key = setting.key()
    done = store.done(key)
    ids = network_keys(networks, setting.space)  # what each network is stored under
    distinct = list(ids)
    units = [(n, [p for p in names if p not in done.get(ids[n], set())]) for n in distinct]
    units = [(n, missing) for n, missing in units if missing]
    failed, scored_here, first_error = 0, 0, None
    run = run_id()
    if units:
        from tqdm import tqdm

        workers = min(workers, len(units))
        with tqdm(total=len(units), desc=desc, unit="net", file=sys.stderr, disable=not progress,
                  dynamic_ncols=True) as bar:
            try:
                elsewhere: list = []
                finished: list = []
                todo: Iterable = _claimed(units, store, key, run, elsewhere, finished, ids)
                while True:
                    for scored in _run(todo, setting, device, workers, threads):
                        store.put(ids[scored.network], key, scored.scores, scored.seconds, scored.error, run)
                        scored_here += 1
                        if scored.error:
                            failed += 1
                            first_error = first_error or f"{scored.network}: {scored.error}"
                        bar.update(1)
                    bar.update(len(finished))
                    finished.clear()
                    if not elsewhere:
                        break
                    todo, settled_now = _left_by_others(elsewhere, store, key, run, ids)
                    bar.update(settled_now)
                    if not todo and elsewhere:
                        time.sleep(CLAIM_POLL_SECONDS)
            finally:
                store.release(run)
    return ScoringSummary(networks=len(distinct), reused=len(distinct) - scored_here, scored=scored_here,
                          failed=failed, seconds=time.perf_counter() - start, first_error=first_error)


def _left_by_others(elsewhere: list, store: ScoreStore, key: str, run: str, ids: dict[str, str]
                    ) -> tuple[list, int]:
    """Of the units other runs held: those now free and still missing, claimed for this
    run (taken out of ``elsewhere``), and how many the other runs finished."""
    settled = store.settled(key)
    todo, finished, waiting = [], 0, []
    for network, names in elsewhere:
        if all(p in settled.get(ids[network], set()) for p in names):
            finished += 1  # scored (or failed) by the run that held it
            continue
        missing = store.claim(ids[network], key, run, names)
        if missing is None:
            waiting.append((network, names))
        elif missing:
            todo.append((network, missing))
        else:
            finished += 1
    elsewhere[:] = waiting
    return todo, finished
