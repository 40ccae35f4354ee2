"""Worker processes exit when the sweep that started them dies.

A sweep killed with ``kill -9``, as the out-of-memory killer does, cannot tell its
workers to stop: they would train on forever, and so would multiprocessing's
resource tracker, which waits until every process holding its pipe has exited.
So each worker watches its parent from a daemon thread and exits as soon as it is
re-parented (its parent's pid is gone). Polling is used rather than Linux's
``PR_SET_PDEATHSIG``, which fires when the *thread* that spawned the worker ends,
not the process, and exists on Linux only.
"""
from __future__ import annotations

import os
import threading
import time

POLL_SECONDS = 0.5  # how long an orphaned worker may outlive its parent


def exit_with_parent(parent_pid: int) -> None:
    """Start watching ``parent_pid`` (the process that spawned this one); when it is
    gone, end this process at once: its results could no longer be stored anyway."""
    if os.getppid() != parent_pid:  # died while this worker was starting
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="nnmass-parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(POLL_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)  # no cleanup: the parent that would want it is dead
