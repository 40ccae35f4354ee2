"""`nnmass study NAME`: one of the paper's studies end to end (sweep, fits, report).

mnist-mlp: MLPs on 5,000 real MNIST digits (Fig. 3-4); cifar10-cnn: DenseNet-type CNNs
on CIFAR-10 from --data-root (Fig. 5); imagenet-zoo: torchvision's ImageNet models, no
training (Fig. 6); nb201-proxies: every training-free proxy on NASLib's NAS-Bench-201
sample, no training; suite-zero: every proxy on every task of the NB101, NB201, NB301 and
TransNAS-Bench-101 samples, no training; nb201-search: the architecture each score picks from
all of NB201. Rerunning with the same store resumes.
"""
from __future__ import annotations

from ..validate import MAX_BOOTSTRAP
from .common import add_batched_arg, add_device_arg, add_executor_args, int_at_least, seed_type, workers_type

STUDY_NAMES = ("mnist-mlp", "cifar10-cnn", "imagenet-zoo", "nb201-proxies", "suite-zero", "nb201-search")  # mirrors nnmass.studies.STUDIES
SCORING_STUDIES = ("nb201-proxies", "suite-zero", "nb201-search")  # score networks into a store, train nothing


HELP = "run one of the paper's studies: sweep, fits and report"


def add_arguments(p) -> None:
    p.add_argument("name", metavar="NAME", help="one of: " + ", ".join(STUDY_NAMES))
    p.add_argument("--quick", action="store_true", help="the few-minute version (mnist-mlp, nb201-proxies, suite-zero, nb201-search)")
    p.add_argument("--store", metavar="PATH", default=None,
                   help="results store (default ./nnmass-runs/<study>[-quick]/store.sqlite)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="report folder (default ./nnmass-runs/<study>[-quick]/report)")
    p.add_argument("--workers", type=workers_type, default=None, metavar="N",
                   help="parallel worker processes (default 1; nb201-proxies, suite-zero: the usable CPUs, at most 8)")
    add_executor_args(p, "networks are scored or trials train")
    add_device_arg(p, "where trials train")
    add_batched_arg(p)
    p.add_argument("--data-root", metavar="DIR", default=None, help="dataset folder (needed by cifar10-cnn)")
    p.add_argument("--datasets", metavar="LIST", default=None,
                   help="nb201-search: the NB201 datasets to run, comma-separated (default all three: "
                        "cifar10,cifar100,ImageNet16-120); a later run with more resumes from the store")
    p.add_argument("--tasks", metavar="LIST", default=None,
                   help="suite-zero: the spaces (nb101, nb201, nb301, tnb-micro, tnb-macro) or space/task labels "
                        "to run, comma-separated (default every task); a later run with more resumes from the store")
    p.add_argument("--limit", type=int_at_least(2), default=None, metavar="N",
                   help="suite-zero: rank N seeded architectures per task with every proxy (drawn as --quick draws "
                        "them; a larger N extends a smaller run's scores)")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="nb201-proxies, suite-zero, nb201-search: score only shard K of N (from 0) of the networks, "
                        "rank's partition, into this run's --store, and write no report; then `nnmass merge` the "
                        "shards' stores and run the study on the merged store (SLURM: "
                        "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)")
    p.add_argument("--bootstrap", type=int_at_least(0, MAX_BOOTSTRAP), default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=seed_type, default=0, metavar="S", help="seed of the bootstrap generator (default 0)")
    p.add_argument("--json", action="store_true", help="print the fit rows and paths as one JSON object")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress output")


def run(args) -> int:
    import shlex
    import sys

    from ..errors import UsageError
    from ..json_values import jsonable
    from ..studies import get_study
    from ..studies.run import run_training_study, run_zoo_study
    from .common import format_table, print_json

    from contextlib import nullcontext

    from ..parallel.ray_tasks import ray_session
    from .common import executor_cluster

    get_study(args.name)
    if args.out is not None:  # the default folder is made with its parents; a given one must be placeable
        from ..files.writing import check_output_folder
        check_output_folder(args.out, "--out")
    datasets = _datasets(args)
    tasks = _tasks(args)
    _check_limit(args)
    shard = _shard(args)
    cluster = executor_cluster(args, args.workers)  # a bad or dead --ray-address fails here, in seconds
    command = "nnmass " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["study"] else \
        "nnmass study " + args.name + (" --quick" if args.quick else "")
    if args.name == "imagenet-zoo":
        unused = [flag for flag, given in (("--quick", args.quick), ("--store", args.store),
                                           ("--data-root", args.data_root), ("--workers", args.workers is not None),
                                           ("--device", args.device != "cpu"),
                                           ("--batched", args.batched is not None),
                                           ("--executor ray", cluster is not None)) if given]
        if unused:
            raise UsageError(f"study imagenet-zoo trains nothing (it takes --out, --bootstrap, --seed, --json); "
                             f"drop {', '.join(unused)}")
        result = run_zoo_study(out=args.out, progress=args.progress, n_boot=args.bootstrap, seed=args.seed,
                               command=command)
    elif args.name in SCORING_STUDIES:
        from ..studies.nb201_proxies import run_nb201_proxy_study
        from ..studies.nb201_search import run_nb201_search_study
        from ..studies.suite_zero import run_suite_zero_study
        unused = [flag for flag, given in (("--data-root", args.data_root), ("--batched", args.batched is not None))
                  if given]
        if unused:
            raise UsageError(f"study {args.name} scores the shipped samples on Gaussian inputs and trains nothing; "
                             f"drop {', '.join(unused)}")
        runner = {"nb201-proxies": run_nb201_proxy_study, "suite-zero": run_suite_zero_study,
                  "nb201-search": run_nb201_search_study}[args.name]
        # Each was refused above for a study it does not apply to; only those given are passed.
        extra = {k: v for k, v in (("datasets", datasets), ("tasks", tasks), ("limit", args.limit),
                                   ("shard", shard)) if v is not None}
        with ray_session(cluster) if cluster is not None else nullcontext():  # one Ray session for every task
            result = runner(quick=args.quick, store=args.store, out=args.out, workers=args.workers,
                            device=args.device, progress=args.progress, n_boot=args.bootstrap,
                            seed=args.seed, command=command, ray=cluster, **extra)
    else:
        result = run_training_study(args.name, quick=args.quick, store=args.store, out=args.out,
                                    workers=args.workers or 1, device=args.device, batched=args.batched,
                                    data_root=args.data_root,
                                    progress=args.progress, n_boot=args.bootstrap, seed=args.seed, command=command,
                                    ray=cluster)
    if result.shard is not None:
        return _shard_done(args, result)
    if args.json:
        print_json({"study": result.name, "fits": jsonable(result.fits), "report": str(result.report),
                    "store": None if result.store is None else str(result.store),
                    "seconds": round(result.seconds, 1), "sweep": result.sweep,
                    **({"proxies": result.proxies} if result.proxies else {})})
    else:
        print(format_table(result.summary))
        if result.proxies:
            print("\nTest accuracy against each predictor at init (rank correlation, best first):")
            print(format_table(result.proxies))
        print(f"report: {result.report}")
        if result.store is not None:
            print(f"store: {result.store}")
    return 0


def _datasets(args) -> list[str] | None:
    """``--datasets`` as a list, checked by NB201's space (its tasks are the datasets),
    for nb201-search only."""
    if args.datasets is None:
        return None
    from ..errors import UsageError
    from ..spaces import get_space
    if args.name != "nb201-search":
        raise UsageError(f"--datasets applies to study nb201-search only, not {args.name}")
    space = get_space("nb201")
    try:
        return list(dict.fromkeys(space.task(d.strip()).name for d in args.datasets.split(",")))
    except UsageError as e:
        raise UsageError(f"--datasets: {e}") from None


def _shard_done(args, result) -> int:
    """A shard's run: what it scored, and how the study's report follows."""
    from .common import format_table, print_json
    if args.json:
        print_json({"study": result.name, "shard": result.shard, "scoring": result.fits, "report": None,
                    "store": str(result.store), "seconds": round(result.seconds, 1)})
        return 0
    print(format_table(result.summary))
    print(f"shard {result.shard}: scores in {result.store}; once every shard has run, `nnmass merge --into "
          f"ALL.sqlite SHARD.sqlite...` and `nnmass study {args.name} --store ALL.sqlite` (with this run's other "
          "options) writes the report, scoring nothing")
    return 0


def _shard(args) -> tuple[int, int] | None:
    """``--shard K/N`` as ``(K, N)``, for the studies that score networks."""
    if args.shard is None:
        return None
    from ..errors import UsageError
    from ..rank.table import parse_shard
    if args.name not in SCORING_STUDIES:
        raise UsageError(f"--shard applies to the studies that score networks ({', '.join(SCORING_STUDIES)}), "
                         f"not {args.name}")
    return parse_shard(args.shard)


def _check_limit(args) -> None:
    """``--limit`` draws the full study's subsets; ``--quick`` has its own."""
    from ..errors import UsageError
    if args.limit is None:
        return
    if args.name != "suite-zero":
        raise UsageError(f"--limit applies to study suite-zero only, not {args.name}")
    if args.quick:
        raise UsageError("--limit is for the full study (every proxy); --quick draws its own subsets: drop one")


def _tasks(args) -> list | None:
    """``--tasks`` as :class:`nnmass.studies.suite_zero.SuiteTask` list, for suite-zero only."""
    if args.tasks is None:
        return None
    from ..errors import UsageError
    from ..studies.suite_zero import select_tasks
    if args.name != "suite-zero":
        raise UsageError(f"--tasks applies to study suite-zero only, not {args.name}")
    return select_tasks(args.tasks)
