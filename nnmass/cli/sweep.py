"""``nnmass sweep GRID --store PATH``: run (or resume) a grid of trials into a store.

Build, measure (NN-Mass, params, MACs, LDI at init) and train every trial of a grid
file; rerun the same command to resume (finished trials are skipped, failed ones
retried). Exits 1 if a trial failed.
"""
from __future__ import annotations

from .common import add_batched_arg, add_device_arg, add_executor_args, workers_type


HELP = "run a grid of trials into a results store (resumable)"


def add_arguments(p) -> None:
    p.add_argument("grid", metavar="GRID", help="grid file (.yaml or .json)")
    p.add_argument("--store", required=True, metavar="PATH", help="SQLite results store (created if absent)")
    p.add_argument("--workers", type=workers_type, default=1, metavar="N",
                   help="parallel local worker processes, at most 4 per core (default 1: run in this process)")
    add_executor_args(p, "trials run")
    add_device_arg(p, "where trials train")
    p.add_argument("--data-root", metavar="DIR", default=None,
                   help="dataset folder (overrides the grid's data_root)")
    p.add_argument("--download", action="store_true",
                   help="let torchvision download an on-disk dataset into the data root first")
    add_batched_arg(p)
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args) -> int:
    import dataclasses
    import sys
    from pathlib import Path

    from ..errors import UsageError
    from ..sweep.grid import load_grid
    from ..store import ResultStore
    from .common import format_table, print_json

    from .common import executor_cluster
    cluster = executor_cluster(args, args.workers)  # before the progress bar: a dead address fails in seconds
    grid = load_grid(args.grid)
    data_root = args.data_root if args.data_root is not None else grid.data_root
    if data_root is not None:
        root = Path(data_root).expanduser()
        if not root.is_dir():
            raise UsageError(f"data root {data_root!r} is not an existing folder; give --data-root DIR "
                             "or data_root in the grid")
        if root != Path(grid.data_root or ""):
            grid = dataclasses.replace(grid, data_root=str(root))

    from ..sweep import LocalExecutor, RayExecutor, prepare, run_sweep

    # A missing dataset or a bad training setting stops us here, before the store exists.
    prepare(grid.trials(), args.device, args.download)

    executor = (RayExecutor(cluster.address, num_cpus=cluster.num_cpus) if cluster is not None
                else LocalExecutor(args.workers))
    with ResultStore(args.store) as store:
        summary = run_sweep(grid, store, executor, device=args.device, batched=args.batched,
                            progress=args.progress)
    if args.json:
        print_json({**summary.to_dict(), "store": str(args.store)})
    else:
        row = {"trials": summary.total, "done now": summary.done, "skipped": summary.skipped,
               "diverged": summary.diverged, "failed": summary.failed, "wall s": round(summary.seconds, 1)}
        print(format_table([row]))
    if summary.failed:
        # Exit 1 so scripts notice; the rows keep the errors and a rerun retries them.
        print(f"nnmass: {summary.failed} trial(s) failed; their error column says why "
              f"(nnmass export {args.store} --csv FILE); rerun the same command to retry them",
              file=sys.stderr)
        return 1
    return 0
