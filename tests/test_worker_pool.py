"""The worker pool: a worker that dies fails only its item, also when the pool breaks
while the caller is still busy with an earlier result (the next hand-over then meets a
broken pool)."""
import sys
import time
from pathlib import Path

from nnmass.parallel.worker_pool import WorkerDied, results_in_workers

sys.path.insert(0, str(Path(__file__).parent))  # spawned workers import worker_items from here
import worker_items  # noqa: E402


def test_a_pool_that_breaks_between_hand_overs_fails_only_the_dying_item():
    items = [("exit", 1.0), ("ok", 1), ("ok", 2), ("ok", 3), ("ok", 4)]
    got, failed = [], []
    for result in results_in_workers(worker_items.run, items, 2,
                                     lambda item, error: failed.append((item, type(error))) or None):
        if result is not None:
            got.append(result)
            if result == 1:
                time.sleep(3)  # the first item's worker dies meanwhile: the pool is broken
    assert sorted(got) == [1, 2, 3, 4]
    assert failed == [(("exit", 1.0), WorkerDied)]
