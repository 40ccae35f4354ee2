"""``score_networks``: every network x every proxy into the score store, resumably;
``score_jobs``: the same for several settings (a study's tasks) in one pass.

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

import math
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
    """What one ``score_networks`` call (or one job of a ``score_jobs`` pass) did."""

    networks: int  # distinct networks asked for
    reused: int  # networks whose every score was already stored
    scored: int  # networks scored now (some or all of their proxies)
    failed: int  # of those, networks whose scoring raised
    seconds: float  # wall time of the call (of the whole pass, for a job of a shared pass)
    first_error: str | None = None
    scoring_seconds: float = 0.0  # the proxies' own seconds over the networks scored now, summed

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScoringJob:
    """Networks to score with proxies under one setting: one part of a ``score_jobs`` pass."""

    networks: Sequence[str]
    names: Sequence[str]
    setting: ScoreSetting


# A unit of work: (job index, network, the proxies it still lacks, the job's setting).
Unit = tuple[int, str, list[str], ScoreSetting]


def _score_unit(unit: Unit, device: str, threads: int = 1) -> tuple[int, Scored]:
    job, network, names, setting = unit
    with torch_threads(threads, device):  # see the module docstring
        return job, score_network(network, names, setting, device, _CACHE)


def _failed_unit(unit: Unit, error: BaseException) -> tuple[int, Scored]:
    """A network whose worker died: every proxy asked of it is nan, with the reason."""
    job, network, names, _ = unit
    return job, Scored(network, {n: float("nan") for n in names}, {n: 0.0 for n in names},
                       f"{type(error).__name__}: {error}")


def _run(units: Iterable[Unit], device: str, workers: int, threads: int,
         ray: RayCluster | None) -> Iterator[tuple[int, Scored]]:
    score = partial(_score_unit, device=device, threads=threads)
    if ray is not None:
        yield from results_in_ray(score, units, ray, _failed_unit, device=device, cpus_per_task=threads)
        return
    if workers == 1:
        for unit in units:
            yield score(unit)
        return
    yield from results_in_workers(score, units, workers, _failed_unit)


class _Job:
    """One job's bookkeeping during a pass: where its networks are stored and what it did."""

    def __init__(self, index: int, job: ScoringJob, store: ScoreStore):
        self.index, self.setting, self.names = index, job.setting, list(job.names)
        self.key = job.setting.key()
        self.ids = network_keys(job.networks, job.setting.space)  # what each network is stored under
        done = store.done(self.key, set(self.ids.values()))  # of these networks only: a store may hold a space
        self.units = [(index, n, missing, self.setting) for n in self.ids
                      for missing in [[p for p in self.names if p not in done[self.ids[n]]]
                                      if self.ids[n] in done else self.names] if missing]
        self.scored = self.failed = 0
        self.scoring_seconds = 0.0
        self.first_error: str | None = None

    def record(self, scored: Scored) -> None:
        self.scored += 1
        self.scoring_seconds += sum(s for s in scored.seconds.values()
                                    if isinstance(s, (int, float)) and math.isfinite(s))
        if scored.error:
            self.failed += 1
            self.first_error = self.first_error or f"{scored.network}: {scored.error}"

    def summary(self, seconds: float) -> ScoringSummary:
        return ScoringSummary(networks=len(self.ids), reused=len(self.ids) - self.scored, scored=self.scored,
                              failed=self.failed, seconds=seconds, first_error=self.first_error,
                              scoring_seconds=self.scoring_seconds)


def _claimed(units: Iterable[Unit], store: ScoreStore, jobs: list[_Job], run: str,
             elsewhere: list, finished: list) -> Iterator[Unit]:
    """The units this run claims, one at a time as it is ready for them, with the proxies
    they still lack; those another live run holds go to ``elsewhere``, those it has
    finished meanwhile to ``finished``."""
    for unit in units:
        index, network, names, setting = unit
        job = jobs[index]
        missing = store.claim(job.ids[network], job.key, run, names)
        if missing is None:
            elsewhere.append(unit)
        elif missing:
            yield index, network, missing, setting
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
    return score_jobs([ScoringJob(networks, names, setting)], store, workers=workers, device=device,
                      progress=progress, desc=desc, threads=threads, ray=ray)[0]


def score_jobs(jobs: Sequence[ScoringJob], store: ScoreStore, *, workers: int = 1, device: str = "cpu",
               progress: bool = True, desc: str = "scoring", threads: int = 1,
               ray: RayCluster | None = None) -> list[ScoringSummary]:
    """:func:`score_networks` for several settings in one pass: one pool of workers (or
    one Ray session) and one progress bar over every job's networks, so a study of many
    tasks starts its processes once and no worker waits at the end of each task. One
    summary per job, in order; each gives the pass's wall time and its own networks'
    scoring seconds."""
    check_int("--workers", workers, 1)
    check_int("--threads", threads, 1)
    start = time.perf_counter()
    parts = [_Job(i, job, store) for i, job in enumerate(jobs)]
    units, seen = [], set()
    for part in parts:
        for unit in part.units:
            stored_as = (part.key, part.ids[unit[1]])
            if stored_as not in seen:  # a network two jobs share under one setting is scored by the first only
                seen.add(stored_as)
                units.append(unit)
    total = sum(len(part.ids) for part in parts)
    run = run_id()
    if units:
        workers = min(workers, len(units))
        session = ray_session(ray) if ray is not None else nullcontext()  # one Ray session for every pass below
        with session, ScoringProgress(total, total - len(units), desc, progress) as bar:
            try:
                elsewhere: list = []
                finished: list = []
                todo: Iterable = _claimed(units, store, parts, run, elsewhere, finished)
                while True:
                    for index, scored in _run(todo, device, workers, threads, ray):
                        part = parts[index]
                        store.put(part.ids[scored.network], part.key, scored.scores, scored.seconds, scored.error,
                                  run)
                        part.record(scored)
                        bar.scored(scored.seconds)
                    bar.settled_elsewhere(len(finished))
                    finished.clear()
                    if not elsewhere:
                        break
                    todo, settled_now = _left_by_others(elsewhere, store, parts, run)
                    bar.settled_elsewhere(settled_now)
                    if not todo and elsewhere:
                        time.sleep(CLAIM_POLL_SECONDS)
            finally:
                store.release(run)
    seconds = time.perf_counter() - start
    return [part.summary(seconds) for part in parts]


def _left_by_others(elsewhere: list, store: ScoreStore, jobs: list[_Job], run: str) -> tuple[list, int]:
    """Of the units other runs held: those now free and still missing, claimed for this
    run (taken out of ``elsewhere``), and how many the other runs finished."""
    todo, finished, waiting = [], 0, []
    held: dict[int, set[str]] = {}  # job index -> the store keys of its units other runs held
    for index, network, _, _ in elsewhere:
        held.setdefault(index, set()).add(jobs[index].ids[network])
    settled = {index: store.settled(jobs[index].key, keys) for index, keys in held.items()}
    for unit in elsewhere:
        index, network, names, setting = unit
        job = jobs[index]
        if all(p in settled[index].get(job.ids[network], set()) for p in names):
            finished += 1  # scored (or failed) by the run that held it
            continue
        missing = store.claim(job.ids[network], job.key, run, names)
        if missing is None:
            waiting.append(unit)
        elif missing:
            todo.append((index, network, missing, setting))
        else:
            finished += 1
    elsewhere[:] = waiting
    return todo, finished
