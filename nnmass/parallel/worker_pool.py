"""Work spread over spawned worker processes, yielded as each piece finishes.

Shared by sweeps (trials) and ``nnmass rank`` (proxy scores). Workers are spawned
(forking after torch or CUDA has started is unsafe), run torch on one thread each
(so N workers use N cores, not N x all of them), and exit if the process that
started them dies (:mod:`.parent_watch`).
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterator, Sequence, TypeVar

from .parent_watch import exit_with_parent

Item = TypeVar("Item")
Result = TypeVar("Result")


def results_in_workers(fn: Callable[[Item], Result], items: Sequence[Item], workers: int,
                       on_error: Callable[[Item, BaseException], Result]) -> Iterator[Result]:
    """``fn(item)`` for every item in ``workers`` processes, in the order they finish.

    ``fn`` must be picklable (a module-level function or a ``functools.partial`` of
    one). An item whose worker raised or died yields ``on_error(item, error)``, so one
    failure never ends the run."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(workers, max(len(items), 1)), mp_context=ctx,
                               initializer=init_worker, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(fn, item): item for item in items}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                try:
                    yield fut.result()
                except Exception as e:  # noqa: BLE001 - a dead worker fails its item, not the run
                    yield on_error(futures[fut], e)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def init_worker(parent_pid: int | None = None) -> None:
    """One torch thread; with ``parent_pid``, exit when that process is gone."""
    if parent_pid is not None:
        exit_with_parent(parent_pid)  # a run killed with kill -9 takes its workers with it
    import torch
    torch.set_num_threads(1)
