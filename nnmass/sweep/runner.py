"""``run_sweep``: grid x seeds -> trials -> executor -> store, resumable.

Resuming is by key: trials whose key already holds a finished row (done or
diverged) are skipped, failed ones run again. Rows are written by this driver as
each unit finishes, one committed transaction each, so stopping it at any point
(even ``kill -9``) loses no finished trial and a rerun does none twice.

Batching: with ``batched`` (the default on CUDA), dense-mlp trials that differ
only in seed are trained together as one batched model by ``train_many``; on a
CPU one-by-one is the default, since it gives each trial the exact numbers of a
single run and the CPU gains little from batching tiny models.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass

from .grid import Grid, TrialSpec
from ..errors import UsageError
from ..spec.data_fit import fit_spec_to_data
from ..store import ResultStore
from .executors import _DATA_CACHE
from .trial import load_data, make_train_config


@dataclass(frozen=True)
class SweepSummary:
    """What one ``run_sweep`` call did."""

    total: int  # trials in the grid
    skipped: int  # already finished in the store (before, or by another sweep meanwhile)
    done: int  # finished now with status done
    diverged: int
    failed: int
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def prepare(trials: list[TrialSpec], device: str = "cpu", download: bool = False) -> None:
    """Fail fast, before any training: load each dataset once (fetching it first with
    ``download``) and build the training config of each distinct setting.

    Raises:
        UsageError: a missing dataset, an unknown or out-of-range training setting, a
            proxy_batch larger than the training set.
    """
    seen = set()
    for t in trials:
        sig = (t.dataset, t.data_root, t.pixels, t.family, t.epochs, repr(sorted(t.train.items())))
        if sig in seen:
            continue
        seen.add(sig)
        data = load_data(t, _DATA_CACHE, device, download)
        try:
            make_train_config(t, device)
        except UsageError as e:
            settings = ", ".join(f"{k}={v!r}" for k, v in sorted(t.train.items()))[:160]
            raise UsageError(f"sweep {t.sweep!r}, training settings {settings or 'the defaults'}: {e}") from None
        fit_spec_to_data(t.spec, data)  # e.g. a torchvision family on 1-channel digits
        if t.proxies and t.proxy_batch > data.size("train"):  # else every trial would fail alike
            raise UsageError(f"proxy_batch {t.proxy_batch} is more than the {data.size('train'):,} training "
                             f"examples of {t.dataset}; use at most {data.size('train'):,}")


def plan_units(trials: list[TrialSpec], batched: bool) -> list[list[TrialSpec]]:
    """Units of work: one trial each, or (batched) dense-mlp trials grouped by
    everything but their seed, in first-seen order."""
    if not batched:
        return [[t] for t in trials]
    groups: dict[tuple, list[TrialSpec]] = {}
    for t in trials:
        if t.family != "dense-mlp":
            groups[("single", t.key)] = [t]
            continue
        shape = {k: v for k, v in t.spec.to_dict().items() if k not in ("seed", "skips")}
        sig = (repr(sorted(shape.items())), t.dataset, t.data_root, t.pixels, t.epochs,
               repr(sorted(t.train.items())), repr(sorted(t.ldi.items())))
        groups.setdefault(sig, []).append(t)
    return list(groups.values())


def run_sweep(grid: Grid, store: ResultStore, executor, *, device: str = "cpu",
              batched: bool | None = None, progress: bool = True) -> SweepSummary:
    """Run every trial of ``grid`` not yet finished in ``store``.

    Args:
        executor: a :class:`LocalExecutor` or :class:`RayExecutor`.
        device: ``cpu`` or ``cuda``.
        batched: group seeds into batched models; None means on CUDA only.
        progress: a progress bar with ETA on stderr.
    """
    start = time.perf_counter()
    trials = grid.trials()
    finished = store.done_keys()
    pending = [t for t in trials if t.key not in finished]
    counts: Counter = Counter()
    if pending:
        prepare(pending, device)
        if batched is None:
            batched = str(device).startswith("cuda")
        units = plan_units(pending, batched)
        from tqdm import tqdm

        with tqdm(total=len(pending), desc=grid.name, unit="trial", file=sys.stderr,
                  disable=not progress, dynamic_ncols=True) as bar:
            for rows in executor.run(units, device):
                for row in rows:
                    # False: another sweep on the same store finished this key first.
                    counts[row["status"] if store.put(row) else "taken"] += 1
                bar.update(len(rows))
                bar.set_postfix(done=counts["done"], diverged=counts["diverged"], failed=counts["failed"])
    skipped = len(trials) - len(pending) + counts["taken"]
    return SweepSummary(total=len(trials), skipped=skipped, done=counts["done"],
                        diverged=counts["diverged"], failed=counts["failed"],
                        seconds=time.perf_counter() - start)
