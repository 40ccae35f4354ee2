"""What the studies that score networks (``nb201-proxies``, ``suite-zero``,
``nb201-search``) share: how many processes, where the store and the report go, and
the peak memory they report."""
from __future__ import annotations

import resource
import sys
from pathlib import Path

from ..render import prepare_out_dir
from ..validate import check_device_available, check_int, cpu_cores
from .run import default_dir

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """The CPUs this process may use, at most :data:`MAX_DEFAULT_WORKERS`."""
    return max(1, min(cpu_cores(), MAX_DEFAULT_WORKERS))


def prepare_scoring_study(name: str, quick: bool, store, out, workers: int | None,
                          device: str, shard: tuple[int, int] | None = None) -> tuple[int, Path, Path | None]:
    """``(workers, store, out)``: the checked worker count, the score store's path
    (its folder made) and the report folder (made; None for a shard's run, which
    writes no report), by default under ``nnmass-runs/<name>[-quick]/``."""
    workers = default_workers() if workers is None else check_int("--workers", workers, 1)
    check_device_available(device, "--device")
    home = default_dir(name, quick)
    store = Path(store) if store else home / "scores.sqlite"
    out = None if shard is not None else prepare_out_dir(Path(out) if out else home / "report")
    store.parent.mkdir(parents=True, exist_ok=True)
    return workers, store, out


def peak_memory_mb() -> dict:
    """Peak resident memory so far, in MB (``getrusage`` ru_maxrss): this process, and the
    largest of its finished child processes (the workers)."""
    per_mb = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return {"parent": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / per_mb,
            "largest_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / per_mb}
