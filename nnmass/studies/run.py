"""Run a study end to end: sweep (resumable) -> fits -> report."""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..validate import check_device_available, check_int
from . import get_study, load_study_grid

RUNS_DIR = Path("nnmass-runs")  # default home of stores and reports, relative to the working folder


@dataclass
class StudyResult:
    """What a study produced: fit rows, their printable form, and where things are."""

    name: str
    fits: list[dict]
    summary: list[dict]
    report: Path | None  # None for a shard's run (``--shard``), which scores only
    store: Path | None = None
    seconds: float = 0.0
    sweep: dict = field(default_factory=dict)
    proxies: list[dict] = field(default_factory=list)  # printable proxy rank rows, when the grid has proxies
    shard: str | None = None  # "K/N" when this run scored one shard of the study's networks


def default_dir(name: str, quick: bool) -> Path:
    return RUNS_DIR / (f"{name}-quick" if quick else name)


def run_training_study(name: str, *, quick: bool = False, store: str | Path | None = None,
                       out: str | Path | None = None, workers: int = 1, device: str = "cpu",
                       batched: bool | None = None, data_root: str | None = None, progress: bool = True,
                       n_boot: int = 1000, seed: int = 0, command: str = "", grid=None, ray=None) -> StudyResult:
    """Sweep the study's grid into ``store`` (finished trials are kept, so a rerun
    resumes), fit, and write the report into ``out``.

    Args:
        batched: train the seeds of one dense-mlp shape as one model (None: on CUDA only).
        grid: a :class:`nnmass.sweep.grid.Grid` to run instead of the packaged one (tests).
        ray: a :class:`nnmass.parallel.ray_tasks.RayCluster` to train on instead of local processes.
    """
    from ..report import PAPER_R2, load_rows, summary_rows, sweep_proxy_rows, write_report
    from ..stats import fit_table
    from ..stats.proxy_fits import proxy_table
    from ..store import ResultStore
    from ..sweep import LocalExecutor, RayExecutor, run_sweep

    study = get_study(name)
    check_int("--workers", workers, 1)
    if study.needs_data_root and not data_root:
        raise UsageError(f"study {name} needs --data-root DIR, the folder holding the dataset files")
    if data_root is not None and not Path(data_root).expanduser().is_dir():
        raise UsageError(f"--data-root {data_root!r} is not an existing folder")
    check_device_available(device, "--device")
    grid = grid or load_study_grid(name, quick)
    if data_root is not None:
        grid = dataclasses.replace(grid, data_root=str(Path(data_root).expanduser()), **dict(study.with_data_root))
    home = default_dir(name, quick)
    store = Path(store) if store else home / "store.sqlite"
    out = Path(out) if out else home / "report"
    store.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with ResultStore(store) as db:
        executor = LocalExecutor(workers) if ray is None else RayExecutor(ray.address, ray.num_cpus)
        summary = run_sweep(grid, db, executor, device=device, batched=batched,
                            progress=progress)
        rows = [r for r in db.trials() if r["sweep"] == grid.name]
    if not rows:
        rows = load_rows(store)
    fits = fit_table(rows, n_boot=n_boot, seed=seed)
    proxies = proxy_table(rows, n_boot=n_boot, seed=seed)
    reference = PAPER_R2.get(study.reference, {})
    report = write_report(rows, out, f"nnmass study {name}" + (" --quick" if quick else ""),
                          extra={"table": fits, "proxy_table": proxies}, n_boot=n_boot, seed=seed, command=command,
                          reference=reference)
    return StudyResult(name, fits, summary_rows(fits, reference), report, store,
                       time.perf_counter() - start, summary.to_dict(), sweep_proxy_rows(proxies, "test_acc"))


def run_zoo_study(*, out: str | Path | None = None, names: list[str] | None = None, progress: bool = True,
                  n_boot: int = 1000, seed: int = 0, command: str = "") -> StudyResult:
    """The ImageNet zoo: measure every model (cached in ``out``/zoo.json), fit, report."""
    from .imagenet_models import zoo_fits, zoo_records
    from .imagenet_report import write_zoo_report, zoo_summary_rows
    from .wrn_paper import paper_records
    from ..render import prepare_out_dir

    out = prepare_out_dir(Path(out) if out else default_dir("imagenet-zoo", False) / "report")
    start = time.perf_counter()
    records = zoo_records(names, cache=out / "zoo.json", progress=progress) + paper_records()
    fits = zoo_fits(records, n_boot=n_boot, seed=seed)
    report = write_zoo_report(records, fits, out, command, n_boot, seed)
    return StudyResult("imagenet-zoo", fits, zoo_summary_rows(fits), report, None, time.perf_counter() - start,
                       {"models": len(records)})
