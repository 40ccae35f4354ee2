"""The NAS-Bench-Suite-Zero study: every proxy and NN-Mass on every task of the shipped
samples of NB101, NB201, NB301 (DARTS) and TransNAS-Bench-101 micro and macro, ranked
against each task's validation metric and checked against NASLib's own scores.

Settings are fixed so the study is one command: a batch of :data:`BATCH` Gaussian inputs
with uniform random labels at each task's input size, weights and batch from seed
:data:`SEED`. ``--quick`` ranks :data:`QUICK_ARCHS` architectures per NB101/NB201/NB301
task and :data:`QUICK_TNB_ARCHS` per TransNAS-Bench-101 task, the latter with the
data-free scores and NN-Mass only (those networks cost 40-100 times an NB201 one on a
CPU); the subsets are drawn by ``PCG64(QUICK_SEED)``, the same on every run. Each task's
metric is as NASLib stores it, higher better (``room_layout`` is a loss NASLib negates).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files.writing import write_text_atomically
from .nb201_proxies import NASLIB_NAMES, naslib_values
from .scoring_setup import peak_memory_mb, prepare_scoring_study

BATCH = 16
SEED = 0
QUICK_ARCHS = 100
QUICK_TNB_ARCHS = 20
QUICK_SEED = 0
DATA_FREE = ("params", "macs", "nn_mass", "synflow", "zen")
"""The scores that read no input values: what ``--quick`` computes on TransNAS-Bench-101."""

NB201_TASKS = ("cifar10", "cifar100", "ImageNet16-120")


@dataclass(frozen=True)
class SuiteTask:
    """One task of the study: a space and one of its tasks."""

    space: str
    task: str

    @property
    def label(self) -> str:
        return f"{self.space}/{self.task}"

    @property
    def heavy(self) -> bool:
        """TransNAS-Bench-101's networks: 40-100 times an NB201 network on a CPU."""
        return self.space.startswith("tnb-")


def suite_tasks() -> list[SuiteTask]:
    """Every task of the shipped samples, in NAS-Bench-Suite-Zero's order of spaces."""
    from ..spaces.samples import sample_tasks
    tasks = [SuiteTask("nb101", "cifar10")]
    tasks += [SuiteTask("nb201", t) for t in NB201_TASKS]
    tasks += [SuiteTask("nb301", "cifar10")]
    tasks += [SuiteTask(space, t) for space in ("tnb-micro", "tnb-macro") for t in sample_tasks(space)]
    return tasks


def select_tasks(spec: str) -> list[SuiteTask]:
    """``--tasks``: comma-separated spaces (every task of each) or ``space/task`` labels,
    in the study's order, each once."""
    from ..errors import UsageError
    every = suite_tasks()
    spaces = list(dict.fromkeys(t.space for t in every))
    chosen = set()
    for item in (part.strip() for part in spec.split(",")):
        matched = {t.label for t in every if item in (t.space, t.label)}
        if not matched:
            raise UsageError(f"--tasks: unknown task {item!r}; give a space ({', '.join(spaces)}) "
                             f"or a space/task label such as {every[-1].label}")
        chosen |= matched
    return [t for t in every if t.label in chosen]


def task_rows(task: SuiteTask) -> list[dict]:
    """The sample's rows of a task: ``arch``, ``val_accuracy`` and ``naslib_<metric>``."""
    if task.space == "nb201":
        from .nb201_data import load_nb201_sample
        return load_nb201_sample(task.task)
    from ..spaces.samples import load_naslib_sample
    return load_naslib_sample(task.space, task.task)


def task_table(task: SuiteTask, quick: bool, limit: int | None = None):
    """The :class:`nnmass.rank.table.RankTable` of a task: the quick subset with ``quick``,
    ``limit`` architectures drawn the same way with ``limit`` (a larger limit keeps a
    superset; ``--limit 20`` on TransNAS-Bench-101 is the quick subset). NB201's subsets are
    the same architectures on its three datasets."""
    from ..rank.scoring import canonical_network
    from ..rank.table import RankTable, subsample

    rows = task_rows(task)
    count = limit or ((QUICK_TNB_ARCHS if task.heavy else QUICK_ARCHS) if quick else None)
    if count:
        pool = task_rows(SuiteTask("nb201", "cifar10")) if task.space == "nb201" else rows
        keep = {pool[i]["arch"] for i in subsample(len(pool), count, QUICK_SEED)}
        rows = [r for r in rows if r["arch"] in keep]
    return RankTable([canonical_network(r["arch"], task.space, canonical=False) for r in rows],
                     np.array([r["val_accuracy"] for r in rows], dtype=float), rows, task.task, task.label)


def task_proxies(task: SuiteTask, quick: bool) -> list[str]:
    """The scores a task gets: all of them, or the data-free ones on a quick heavy task;
    then each combination of the study (``mass_size``, ``ensemble``, ...) whose members
    are all scored there."""
    from ..proxies.combined import STUDY_COMBINATIONS, members_to_score
    from ..proxies.proxy_names import PROXY_NAMES
    proxies = list(DATA_FREE) if quick and task.heavy else list(PROXY_NAMES)
    return proxies + [c for c in STUDY_COMBINATIONS if set(members_to_score([c])) <= set(proxies)]


def agreement(result, n_boot: int, seed: int) -> dict:
    """Our proxy -> Spearman with NASLib's score of the same networks, where NASLib has one."""
    from .nb201_proxies import agreement_row
    out = {}
    for name, theirs in NASLIB_NAMES.items():
        column = f"naslib_{theirs}"
        if name in result.scores and result.table.rows and column in result.table.rows[0]:
            out[name] = agreement_row(result.scores[name], naslib_values(result.table.rows, theirs), n_boot, seed)
    return out


def run_suite_zero_study(*, quick: bool = False, store: str | Path | None = None, out: str | Path | None = None,
                         workers: int | None = None, device: str = "cpu", progress: bool = True,
                         n_boot: int = 1000, seed: int = 0, command: str = "", tasks: list | None = None,
                         limit: int | None = None, shard: tuple[int, int] | None = None, ray=None):
    """Score, rank and report every task; returns a :class:`nnmass.studies.run.StudyResult`.

    Args:
        workers: scoring processes (default: the usable CPUs, at most 8).
        seed: the bootstrap generator's seed.
        tasks: the :class:`SuiteTask` list to run instead of every task (``--tasks``).
        limit: rank this many architectures per task, every proxy (``--limit``; not with ``quick``).
        shard: ``(K, N)``: score only shard K of N of the networks, no report (``--shard``).
        ray: a :class:`nnmass.parallel.ray_tasks.RayCluster` to score on instead of local processes.
    """
    from ..rank.ranking import rank_tables
    from ..json_values import jsonable
    from ..rank.scoring import ScoreSetting
    from ..rank.store import ScoreStore
    from .run import StudyResult
    from .suite_zero_report import write_suite_report

    workers, store, out = prepare_scoring_study("suite-zero", quick, store, out, workers, device, shard)
    tasks = tasks or suite_tasks()
    tables = {task.label: (task_table(task, quick, limit), task_proxies(task, quick),
                           ScoreSetting.for_space(task.space, task.task, batch=BATCH, seed=SEED)) for task in tasks}
    if shard is not None:
        from ..rank.ranking import scoring_jobs
        from .sharding import score_shard
        return score_shard("suite-zero", scoring_jobs(tables), store, shard, workers=workers, device=device,
                           progress=progress, ray=ray)
    start = time.perf_counter()
    with ScoreStore(store) as db:
        # Every task's networks in one scoring pass: the workers start once, and none idles at a task's end.
        results = rank_tables(tables, db, workers=workers, device=device, progress=progress,
                              n_boot=n_boot, seed=seed, desc="suite-zero", ray=ray)
    agree = {label: agreement(result, n_boot, seed) for label, result in results.items()}
    seconds = time.perf_counter() - start
    record = {"quick": quick, "limit": limit, "batch": BATCH, "seed": SEED, "quick_archs": QUICK_ARCHS,
              "quick_tnb_archs": QUICK_TNB_ARCHS, "data_free": list(DATA_FREE), "workers": workers, "device": device,
              "executor": "local" if ray is None else "ray",
              "seconds": seconds, "peak_memory_mb": peak_memory_mb(),
              "tasks": [t.label for t in tasks], "study_tasks": len(suite_tasks()),
              "scoring": {label: r.summary.to_dict() for label, r in results.items()},
              "networks": {label: len(set(r.table.networks)) for label, r in results.items()},
              "rank": {label: r.rows for label, r in results.items()}, "agreement": agree,
              "errors": {label: r.errors for label, r in results.items() if r.errors}}
    report = write_suite_report(results, record, out, command, n_boot, seed)
    write_text_atomically(out / "results.json", "--out", json.dumps(jsonable(record), indent=2) + "\n")
    summary = [{"task": label, "proxy": row["proxy"], "n": row["n"], "rho": row["spearman"],
                "rho ours vs NASLib": agree[label].get(row["proxy"], {}).get("spearman", float("nan"))}
               for label, r in results.items() for row in r.rows]
    return StudyResult("suite-zero", jsonable([{**row, "task": label} for label, r in results.items()
                                              for row in r.rows]),
                       summary, report, store, seconds, {"workers": workers, "peak_memory_mb": record["peak_memory_mb"],
                                                         "scoring": record["scoring"]})
