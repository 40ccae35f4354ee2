"""Work run as Ray tasks, yielded as each piece finishes: the one place nnmass starts
or joins Ray and checks an address.

Shared by sweeps (trials) and scoring (``rank``, ``search``, the studies). Only the
calling process, the driver, sees the results: it alone writes a store, so a task Ray
retries (its worker died) still gives one result, committed once. Items are taken
from their iterator only as tasks finish (a bounded number in flight), so a caller
may decide late what comes next, as :func:`.worker_pool.results_in_workers` allows,
and the driver never holds the whole space's tasks at once.
"""
from __future__ import annotations

import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, TypeVar

from ..errors import UsageError
from .worker_pool import init_worker

Item = TypeVar("Item")
Result = TypeVar("Result")
TASKS_PER_CPU = 2  # tasks in flight per CPU of the cluster: each CPU has its next task queued


@dataclass(frozen=True)
class RayCluster:
    """Where Ray tasks run.

    Attributes:
        address: a running cluster (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``);
            None starts a local instance for the run and stops it afterwards.
        num_cpus: CPUs of the local instance (ignored with ``address``).
    """

    address: str | None = None
    num_cpus: int | None = None


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


def check_executor_args(executor: str, address: str | None) -> RayCluster | None:
    """The command line's ``--executor``/``--ray-address``, checked before any work: the
    cluster to run on, or None for local processes."""
    if address and executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if address:
        check_ray_address(address)  # before any progress bar: a dead address fails in seconds
    return RayCluster(address) if executor == "ray" else None


@contextmanager
def ray_session(cluster: RayCluster):
    """Ray, started or joined for the block; within a session already open (a caller's),
    that one is used and left open."""
    try:
        import ray
    except ImportError:
        raise UsageError("the ray executor needs Ray: pip install 'nnmass[ray]'") from None
    started = not ray.is_initialized()
    if started:
        if cluster.address:
            check_ray_address(cluster.address)
        try:
            # "local": always a fresh instance of our own; with no address Ray would
            # join whatever cluster this machine last started.
            ray.init(address=cluster.address or "local", num_cpus=None if cluster.address else cluster.num_cpus,
                     include_dashboard=False, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as e:
            what = f"reach Ray at {cluster.address!r}" if cluster.address else "start a local Ray instance"
            raise UsageError(f"cannot {what}: {e}".splitlines()[0]) from None
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def _call(fn: Callable, item):
    init_worker()  # one torch thread, as in local workers
    return fn(item)


def results_in_ray(fn: Callable[[Item], Result], items: Iterable[Item], cluster: RayCluster,
                   on_error: Callable[[Item, BaseException], Result], *, device: str = "cpu",
                   cpus_per_task: int = 1) -> Iterator[Result]:
    """``fn(item)`` for every item as a Ray task, in the order they finish.

    ``fn`` must be picklable. An item whose task failed for good (it raised, or its
    worker died more often than Ray retries) yields ``on_error(item, error)``, so one
    failure never ends the run. A caller that stops early cancels the tasks in flight.
    """
    with ray_session(cluster) as ray:
        task = ray.remote(num_cpus=cpus_per_task, num_gpus=1 if str(device).startswith("cuda") else 0)(_call)
        limit = max(TASKS_PER_CPU * int(ray.cluster_resources().get("CPU", 1)) // cpus_per_task, 1)
        source = iter(items)
        running: dict = {}  # ref -> item
        try:
            while True:
                while len(running) < limit:
                    item = next(source, _END)
                    if item is _END:
                        break
                    running[task.remote(fn, item)] = item
                if not running:
                    return
                finished, _ = ray.wait(list(running), num_returns=1)
                for ref in finished:
                    item = running.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as e:  # noqa: BLE001 - a lost task fails its item, not the run
                        result = on_error(item, TaskFailed.of(e))
                    yield result
        finally:
            for ref in running:  # the caller stopped (Ctrl-C, an error): no task may go on
                ray.cancel(ref, force=True)


class TaskFailed(RuntimeError):
    """A Ray task that failed for good, in one line: the task's own exception where Ray
    passes it on (its first line), else the last line of Ray's text, which holds the
    remote traceback and ends with the exception."""

    @classmethod
    def of(cls, error: BaseException) -> "TaskFailed":
        cause = getattr(error, "cause", None)  # a RayTaskError carries the task's exception
        lines = [line.strip() for line in str(cause or error).splitlines() if line.strip()]
        cause = cause or error
        what = (lines[0] if cause is not error else lines[-1]) if lines else ""
        if not what.startswith(type(cause).__name__):
            what = f"{type(cause).__name__}: {what}" if what else type(cause).__name__
        return cls(what)


_END = object()
