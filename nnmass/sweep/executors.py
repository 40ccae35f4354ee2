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

import socket
from functools import partial
from typing import Iterator

from ..errors import UsageError
from ..threads import torch_threads
from ..validate import check_workers
from .grid import TrialSpec
from ..parallel.worker_pool import init_worker, results_in_workers
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


def _ray_unit(unit: list[TrialSpec], device: str) -> list[dict]:
    init_worker()
    return run_unit(unit, device)


class RayExecutor:
    """Run units as Ray tasks; the driver alone writes the store.

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
        try:
            import ray
        except ImportError:
            raise UsageError("the ray executor needs Ray: pip install 'nnmass[ray]'") from None
        started = not ray.is_initialized()
        if started:
            if self.address:
                check_ray_address(self.address)
            try:
                # "local": always a fresh instance of our own; with no address Ray would
                # join whatever cluster this machine last started.
                ray.init(address=self.address or "local", num_cpus=None if self.address else self.num_cpus,
                         include_dashboard=False, log_to_driver=False)
            except (ConnectionError, ValueError, RuntimeError) as e:
                what = f"reach Ray at {self.address!r}" if self.address else "start a local Ray instance"
                raise UsageError(f"cannot {what}: {e}".splitlines()[0]) from None
        try:
            task = ray.remote(num_cpus=1, num_gpus=1 if str(device).startswith("cuda") else 0)(_ray_unit)
            refs = {task.remote(unit, device): unit for unit in units}
            pending = list(refs)
            while pending:
                finished, pending = ray.wait(pending, num_returns=1)
                for ref in finished:
                    try:
                        yield ray.get(ref)
                    except Exception as e:  # noqa: BLE001 - a lost task fails its unit, not the sweep
                        yield failed_rows(refs[ref], e)
        finally:
            if started:
                ray.shutdown()


def check_ray_address(address: str, timeout: float = 5.0) -> None:
    """Refuse an address nothing answers on, in seconds: ``ray.init`` would keep
    retrying it for minutes. ``auto`` (read from this machine's Ray session) is
    left to Ray, which fails fast when there is none."""
    if address == "auto":
        return
    host, sep, port = address.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--ray-address must be HOST:PORT, ray://HOST:PORT or auto, got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as e:
        raise UsageError(f"cannot reach Ray at {address!r}: nothing answers on {host}:{port} "
                         f"({e.strerror or e}); start it with `ray start --head` or fix the address") from None
