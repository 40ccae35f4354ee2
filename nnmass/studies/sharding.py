"""``--shard K/N`` for the studies that score networks (``nb201-proxies``, ``suite-zero``,
``nb201-search``): this process scores only shard K of N of every task's networks, the
partition of ``nnmass rank --shard``, into its own store, and writes no report. A
study's statistics need every network, so the report comes from the same study run on
the shards' stores merged (``nnmass merge``), which then scores nothing."""
from __future__ import annotations

import time
from pathlib import Path

from ..errors import UsageError
from ..rank.runner import ScoringJob, score_jobs
from ..rank.store import ScoreStore
from ..rank.table import in_shard
from .run import StudyResult


def score_shard(name: str, jobs: dict[str, ScoringJob], store: Path, shard: tuple[int, int], *, workers: int,
                device: str, progress: bool, ray=None) -> StudyResult:
    """Score shard ``(K, N)`` of each job's networks (partitioned with the job's weight
    seed, as ``rank --shard`` with ``--seed`` does); one summary row per task."""
    k, n = shard
    mine = {label: ScoringJob([job.networks[i] for i in in_shard(job.networks, shard, job.setting.seed)],
                              job.names, job.setting) for label, job in jobs.items()}
    if not any(job.networks for job in mine.values()):
        raise UsageError(f"shard {k}/{n} holds none of study {name}'s networks; use fewer shards")
    start = time.perf_counter()
    with ScoreStore(store) as db:
        summaries = score_jobs(list(mine.values()), db, workers=workers, device=device, progress=progress,
                               desc=f"{name} shard {k}/{n}", ray=ray)
    rows = [{"task": label, "networks": s.networks, "scored now": s.scored, "reused": s.reused, "failed": s.failed}
            for label, s in zip(mine, summaries)]
    return StudyResult(name, rows, rows, None, store, time.perf_counter() - start, shard=f"{k}/{n}")
