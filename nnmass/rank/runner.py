"""``score_networks``: every network x every proxy into the score store, resumably.

The unit of work is one network with the proxies it still lacks under the setting;
its scores are written in one committed transaction as it finishes, by this driver
only (workers never touch the file). A rerun, after ``kill -9`` too, asks the store
what is there and scores only the rest, so no score is computed twice. Runs on one
store at once share the work through the store's claims (see :mod:`.store`): a
network is claimed just before it is handed to a worker, and one another run holds
is left to it and looked at again at the end.

Workers: ``workers=1`` scores in the calling process; more starts that many 'spawn'
processes (as :class:`nnmass.sweep.executors.LocalExecutor` does); with ``ray`` each
unit is a Ray task (:mod:`nnmass.parallel.ray_tasks`), its scores coming back to this
driver, which stores them once even when Ray retried the task. On a CPU each
scores with one torch thread unless ``threads`` says otherwise: the networks are
small, and one process per core beats intra-op threads on them.

Memory does not grow with the space: networks are built one at a time in whichever
process scores them and dropped with their scores returned, units are handed out
only as workers free up, and each result is stored as it comes, so the driver holds
the networks' names and the proxies they lack, nothing more per network.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from functools import partial
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, Sequence

from ..parallel.ray_tasks import RayCluster, ray_session, results_in_ray
from ..parallel.worker_pool import results_in_workers
from ..threads import torch_threads
from ..validate import check_int
from .scoring import ScoreSetting, Scored, score_network
from .identity import network_keys
from .progress import ScoringProgress
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
         threads: int, ray: RayCluster | None) -> Iterator[Scored]:
    score = partial(_score_unit, setting=setting, device=device, threads=threads)
    if ray is not None:
        yield from results_in_ray(score, units, ray, _failed_unit, device=device, cpus_per_task=threads)
        return
    if workers == 1:
        for network, names in units:
            yield _score(network, names, setting, device, threads)
        return
    yield from results_in_workers(score, units, workers, _failed_unit)


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
                   threads: int = 1, ray: RayCluster | None = None) -> ScoringSummary:
    """Score every network (canonical strings) with every named proxy, skipping what the
    store already holds under ``setting``.

    A network another run on the same store is scoring is left to it and looked at
    again once this run's own work is done: its scores are then read back, or, if that
    run stopped without them, scored here.

    Args:
        workers: processes (1: this one); ignored with ``ray``.
        threads: torch threads of each process on a CPU (see the module docstring).
        progress: a progress bar on stderr: distinct networks done of those asked for,
            the time left, and the proxy taking most of the time.
        ray: score as tasks on this Ray cluster instead of local processes.
    """
    check_int("--workers", workers, 1)
    check_int("--threads", threads, 1)
    start = time.perf_counter()
    key = setting.key()
    ids = network_keys(networks, setting.space)  # what each network is stored under
    distinct = list(ids)
    done = store.done(key, set(ids.values()))  # of these networks only: a store may hold a whole space
    names = list(names)
    units = [(n, missing) for n in distinct
             for missing in [[p for p in names if p not in done[ids[n]]] if ids[n] in done else names] if missing]
    del done
    failed, scored_here, first_error = 0, 0, None
    run = run_id()
    if units:
        workers = min(workers, len(units))
        session = ray_session(ray) if ray is not None else nullcontext()  # one Ray session for every pass below
        with session, ScoringProgress(len(distinct), len(distinct) - len(units), desc, progress) as bar:
            try:
                elsewhere: list = []
                finished: list = []
                todo: Iterable = _claimed(units, store, key, run, elsewhere, finished, ids)
                while True:
                    for scored in _run(todo, setting, device, workers, threads, ray):
                        store.put(ids[scored.network], key, scored.scores, scored.seconds, scored.error, run)
                        scored_here += 1
                        if scored.error:
                            failed += 1
                            first_error = first_error or f"{scored.network}: {scored.error}"
                        bar.scored(scored.seconds)
                    bar.settled_elsewhere(len(finished))
                    finished.clear()
                    if not elsewhere:
                        break
                    todo, settled_now = _left_by_others(elsewhere, store, key, run, ids)
                    bar.settled_elsewhere(settled_now)
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
    settled = store.settled(key, {ids[network] for network, _ in elsewhere})
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
