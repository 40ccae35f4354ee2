"""A pool of processes for ranking statistics: one row (a proxy's bootstrap) per task.

Once the scores are stored, a ranking's time is its bootstrap, and its rows are
independent. Workers are spawned, as the scoring workers are, and exit with their
parent; ``nnmass.rank.statistics.rank_table`` gives each row one BLAS thread wherever it
runs (BLAS threads of several processes on the same cores also slowed the rows).
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from .parent_watch import exit_with_parent


@contextmanager
def statistics_pool(workers: int) -> Iterator[Executor | None]:
    """``workers`` processes for ``rank_table``'s rows; ``None``, this process, for one
    worker. Gone when the block ends: at once, queued rows dropped, if it ends by an
    exception (Ctrl-C included)."""
    if workers <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=exit_with_parent, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:  # Ctrl-C or an error: no row still queued may run on
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

