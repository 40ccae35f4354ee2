"""Work spread over spawned worker processes, yielded as each piece finishes.

Shared by sweeps (trials) and ``nnmass rank`` (proxy scores). Workers are spawned
(forking after torch or CUDA has started is unsafe), run torch on one thread each
(so N workers use N cores, not N x all of them), and exit if the process that
started them dies (:mod:`.parent_watch`).
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterable, Iterator, Sized, TypeVar

from .parent_watch import exit_with_parent

Item = TypeVar("Item")
Result = TypeVar("Result")


def results_in_workers(fn: Callable[[Item], Result], items: Iterable[Item], workers: int,
                       on_error: Callable[[Item, BaseException], Result]) -> Iterator[Result]:
    """``fn(item)`` for every item in ``workers`` processes, in the order they finish.

    ``fn`` must be picklable (a module-level function or a ``functools.partial`` of
    one). Items are taken from ``items`` only as workers free up, so an iterator may
    decide late what comes next. An item whose worker raised yields
    ``on_error(item, error)``, so one failure never ends the run. A worker that dies
    (``os._exit``, a crash, the OOM killer) breaks the whole pool: the pool is rebuilt,
    and the items it was running are run again one at a time, so the one that kills
    its worker fails alone (:class:`WorkerDied`) and the others go on. Ctrl-C ends the
    workers at once."""
    ctx = multiprocessing.get_context("spawn")
    if isinstance(items, Sized):
        workers = min(workers, max(len(items), 1))
    source = iter(items)
    suspects: deque = deque()  # items running when a worker died: each runs alone next
    unsent: deque = deque()  # items a broken pool refused before they started: not suspects
    running: dict = {}  # future -> item
    pool = None
    idle_rebuilds = 0  # pools rebuilt with nothing running: workers that cannot even start

    def submit(item, queue: deque) -> bool:
        """Hand ``item`` to the pool; a pool already broken (a worker died since the last
        look) refuses it, and it goes back to the front of ``queue``."""
        try:
            running[pool.submit(fn, item)] = item
            return True
        except BrokenProcessPool:
            queue.appendleft(item)
            return False

    try:
        while True:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                           initargs=(os.getpid(),))
            sent = True
            if suspects:
                if not running:
                    sent = submit(suspects.popleft(), suspects)
            else:
                while sent and len(running) < workers:
                    item = unsent.popleft() if unsent else next(source, _END)
                    if item is _END:
                        break
                    sent = submit(item, unsent)
            if not running:
                if sent:
                    return
                idle_rebuilds += 1
                if idle_rebuilds > MAX_IDLE_REBUILDS:
                    raise BrokenProcessPool("worker processes die before they run anything")
                pool.shutdown(wait=True)
                pool = None
                continue
            idle_rebuilds = 0
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            broken = []
            for fut in finished:
                item = running.pop(fut)
                try:
                    yield fut.result()
                except BrokenProcessPool:
                    broken.append(item)
                except Exception as e:  # noqa: BLE001 - a failed item is reported, the run goes on
                    yield on_error(item, e)
            if broken:  # every other running item went down with the pool
                wait(running)
                for fut, item in running.items():
                    error = fut.exception()
                    if error is None:
                        yield fut.result()
                    elif isinstance(error, BrokenProcessPool):
                        broken.append(item)
                    else:
                        yield on_error(item, error)
                running.clear()
                pool.shutdown(wait=True)
                pool = None
                if len(broken) == 1:
                    yield on_error(broken[0], WorkerDied("its worker process died while working on it"))
                else:
                    suspects.extend(broken)
    except BaseException:  # Ctrl-C or the caller stopped: no worker may go on
        if pool is not None:
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


MAX_IDLE_REBUILDS = 3  # a pool that breaks this often with nothing running cannot start workers


class WorkerDied(RuntimeError):
    """The worker process ended while running an item (``os._exit``, a crash, a kill)."""


_END = object()


def init_worker(parent_pid: int | None = None) -> None:
    """One torch thread; with ``parent_pid``, exit when that process is gone."""
    if parent_pid is not None:
        exit_with_parent(parent_pid)  # a run killed with kill -9 takes its workers with it
    import torch
    torch.set_num_threads(1)
