"""Where trials run: local worker processes or a Ray cluster.

Both take *units* (a list of trials: one trial, or a group trained as one batched
model) and yield each unit's rows as it finishes. Only the driver, which consumes
these rows, writes the store, so workers never contend for the database file.

Threads: on a CPU every trial runs with one torch thread, in worker processes,
Ray tasks and in the calling process alike; parallelism comes from ``--workers``
(one process per core). Sweeps are many small models, for which intra-op threads
cost more than they give (several times slower on a busy machine), and one
thread everywhere makes a trial give the same numbers whichever executor ran it.
"""
from __future__ import annotations

from functools import partial
from typing import Iterator

from ..threads import torch_threads
from ..validate import check_workers
from .grid import TrialSpec
from ..parallel.ray_tasks import RayCluster, results_in_ray
from ..parallel.worker_pool import results_in_workers
from .trial import base_row, finish, run_trial, run_trial_group

_DATA_CACHE: dict = {}  # datasets loaded in this process, reused by every unit it runs


def run_unit(unit: list[TrialSpec], device: str = "cpu", data_cache: dict | None = None) -> list[dict]:
    """Run one unit in this process: a single trial, or a group through ``train_many``."""
    cache = _DATA_CACHE if data_cache is None else data_cache
    with torch_threads(1, device):  # see the module docstring
        if len(unit) == 1:
            return [run_trial(unit[0], cache, device)]
        return run_trial_group(unit, cache, device)


def failed_rows(unit: list[TrialSpec], error: BaseException) -> list[dict]:
    """Rows for a unit whose worker died (the trial itself could not record it)."""
    import time
    now = time.perf_counter()
    return [finish({**base_row(t), "status": "failed", "error": f"{type(error).__name__}: {error}"}, now)
            for t in unit]


class LocalExecutor:
    """Run units on this machine.

    Args:
        workers: 1 runs in the calling process; more starts that many 'spawn'
            worker processes (at most 4 per core), which exit if this process dies.
    """

    def __init__(self, workers: int = 1):
        self.workers = check_workers("--workers", workers)

    def run(self, units: list[list[TrialSpec]], device: str = "cpu") -> Iterator[list[dict]]:
        if self.workers == 1:
            for unit in units:
                yield run_unit(unit, device)
            return
        yield from results_in_workers(partial(run_unit, device=device), units, self.workers, failed_rows)


class RayExecutor:
    """Run units as Ray tasks (:mod:`nnmass.parallel.ray_tasks`); the driver alone
    writes the store.

    Every node of a cluster needs nnmass (``pip install 'nnmass[ray]'``) and the
    dataset files at the same ``data_root``; the driver loads the data once too,
    to fail fast on a missing set.

    Args:
        address: a running cluster (``ray://host:10001`` or ``auto``); None starts a
            local instance for this sweep and stops it afterwards.
        num_cpus: CPUs of the local instance (ignored with ``address``).
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        self.address = address
        self.num_cpus = num_cpus

    def run(self, units: list[list[TrialSpec]], device: str = "cpu") -> Iterator[list[dict]]:
        yield from results_in_ray(partial(run_unit, device=device), units, RayCluster(self.address, self.num_cpus),
                                  failed_rows, device=device)
