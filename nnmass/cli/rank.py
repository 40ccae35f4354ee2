"""``nnmass rank TABLE.csv``: how well each training-free proxy ranks a table's architectures.

Scores every architecture of TABLE (one row each, with its measured accuracy) with every
proxy, resumably in a SQLite score store (a killed run resumes; no score is computed
twice), then reports per proxy: Spearman and Kendall tau-b with the target, top-10%
precision, Spearman partial to log #params, 95% bootstrap intervals over architectures,
the number of distinct values and seconds per architecture. Statistics run over the
architectures where the proxy is defined (n).
"""
from __future__ import annotations

from ..validate import MAX_BOOTSTRAP
from .common import add_device_arg, add_executor_args, format_table, int_at_least, print_json, seed_type, threads_type, workers_type

DEFAULT_STORE = "nnmass-runs/rank/scores.sqlite"
SPACE_CHOICES = ("nb201", "nb101", "nb301", "darts", "tnb-micro", "tnb-macro", "model")  # rank.scoring.space_choices


HELP = "rank a table of architectures with every training-free proxy"


def add_arguments(p) -> None:
    p.add_argument("table", metavar="TABLE.csv", help="CSV with a header row, one row per architecture")
    p.add_argument("--arch-column", required=True, metavar="COL", help="the column naming each architecture")
    p.add_argument("--target", required=True, metavar="COL", help="the column of measured accuracies")
    p.add_argument("--space", choices=SPACE_CHOICES, default="model",
                   help="nb201, nb101, nb301 (= darts), tnb-micro, tnb-macro: the column holds that space's "
                        "architecture strings, in any of its forms; model (default): MODEL strings as "
                        "`nnmass mass` reads them")
    p.add_argument("--dataset", default=None, metavar="NAME",
                   help="keep the rows of this value of a 'dataset' column (TransNAS-Bench-101: or 'task'); with a "
                        "space it also sets the task (classes, input size, head): NB201 cifar10 (the default), "
                        "cifar100, ImageNet16-120 (16x16); TransNAS-Bench-101 one of its 7 tasks")
    p.add_argument("--duplicates", choices=("refuse", "mean"), default="refuse",
                   help="rows naming one architecture with different targets: refused (default), or one row "
                        "with their mean target (repeated runs, or NB101 specs that prune to one cell)")
    p.add_argument("--as-written", dest="canonical", action="store_false",
                   help="score each architecture as its string is written, instead of once per canonical "
                        "network (architectures computing the same function share one network and score)")
    p.add_argument("--proxies", default="all", metavar="LIST|all",
                   help="comma-separated proxy names or combinations (nn_mass+params, mass_size; see the "
                        "README), or all (default)")
    p.add_argument("--limit", type=int_at_least(1), default=None, metavar="N",
                   help="rank a seeded random subsample of N rows (a larger N keeps a superset)")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="score only shard K of N (counted from 0) of the networks, a fixed seeded partition: "
                        "one store per shard, then `nnmass merge` (SLURM: $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)")
    p.add_argument("--seed", type=seed_type, default=0, metavar="S",
                   help="seeds the weight init, the batch, each proxy's draws and --limit (default 0)")
    p.add_argument("--batch", type=int_at_least(1, 65536), default=16, metavar="N",
                   help="samples in the batch (default 16; jacob_cov, nwot and zico need 2 or more; "
                        "see the README on batch size)")
    p.add_argument("--inputs", default="gaussian", metavar="gaussian|DATASET",
                   help="N(0,1) inputs with random labels (default), or a dataset's training examples")
    p.add_argument("--data-root", default=None, metavar="DIR", help="folder of an on-disk dataset")
    p.add_argument("--workers", type=workers_type, default=1, metavar="N",
                   help="parallel processes, each with --threads torch threads, at most 4 per core (default 1)")
    p.add_argument("--threads", type=threads_type, default=1, metavar="N",
                   help="torch threads per scoring process on a CPU (default 1)")
    add_executor_args(p)
    p.add_argument("--store", default=DEFAULT_STORE, metavar="DB",
                   help=f"score store, created if missing (default {DEFAULT_STORE})")
    add_device_arg(p)
    p.add_argument("--bootstrap", type=int_at_least(0, MAX_BOOTSTRAP), default=1000, metavar="N",
                   help="bootstrap resamples (default 1000; 0 = no intervals)")
    p.add_argument("--plot", default=None, metavar="FILE.png",
                   help="write the figure (.png, .pdf, .svg, .jpg): each proxy's score against the target, "
                        "and rho with intervals")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows, one per proxy")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def setting_for(args, dataset: str | None):
    """The score setting of the command line (NB201: the dataset's classes and size)."""
    from ..rank.scoring import ScoreSetting
    common = dict(inputs=args.inputs, batch=args.batch, seed=args.seed, data_root=args.data_root)
    if args.space != "model":
        setting = ScoreSetting.for_space(args.space, dataset, **common)
        if args.inputs != "gaussian":  # the data decide the image size
            return ScoreSetting(space=setting.space, num_classes=setting.num_classes, input_shape=None,
                                task=setting.task, **common)
        return setting
    return ScoreSetting(space="model", num_classes=None, input_shape=None, **common)


def check_paths(args) -> None:
    """Refuse, before any work, a store or figure that is the table, and a figure that
    is the store or one of SQLite's files beside it (it would replace the scores)."""
    import os
    from pathlib import Path

    from ..errors import UsageError
    from ..files.writing import FIGURE_SUFFIXES, check_output, same_file
    from ..store.opening import side_files

    table = Path(os.path.realpath(args.table))
    if any(same_file(table, side) for side in side_files(args.store)):
        raise UsageError(f"--store {args.store!r} is the table {args.table!r} or one of its files; "
                         "give the score store its own file")
    if args.plot is not None:
        check_output(args.plot, "--plot", [*side_files(args.store), args.table], FIGURE_SUFFIXES,
                     guarding="the score store or the table")


def run(args) -> int:
    import sys
    from pathlib import Path

    from ..errors import UsageError
    from ..json_values import jsonable
    from ..proxies.combined import Combination, members_to_score, parse_scores
    from ..proxies.proxy_names import check_batch_for
    from ..rank.report import printable_rows
    from ..rank.table import read_table, subsample
    from ..validate import check_input_elements, shown

    from .common import check_data_root, executor_cluster
    cluster = executor_cluster(args, args.workers)  # a bad or dead --ray-address fails here, in seconds
    check_data_root(args)
    names = list(parse_scores(args.proxies, "--proxies"))
    check_batch_for(members_to_score(names), args.batch)
    check_paths(args)
    if args.inputs != "gaussian":
        from ..data import DATASETS
        if args.inputs not in DATASETS:
            raise UsageError(f"--inputs must be gaussian or a dataset ({', '.join(DATASETS)}), got {args.inputs!r}")
    table = read_table(args.table, args.arch_column, args.target, space=args.space, dataset=args.dataset,
                       canonical=args.canonical, conflicts=args.duplicates)
    if table.duplicates:
        print(f"nnmass: note: table {args.table!r} repeats {table.duplicates} row(s) of an architecture "
              f"{'(targets averaged)' if args.duplicates == 'mean' else 'with the same target'}; each architecture "
              "is counted once", file=sys.stderr)
    if args.limit is not None:  # else every row: no copy of the table
        table = table.subset(subsample(len(table), args.limit, args.seed))
    if args.shard is not None:
        from ..rank.table import in_shard, parse_shard
        k, n = parse_shard(args.shard)
        table = table.subset(in_shard(table.networks, (k, n), args.seed))
        if not len(table):
            raise UsageError(f"shard {k}/{n} holds none of the table's networks; use fewer shards")
    combined = [n.expression for n in names if isinstance(n, Combination)]
    if combined and len(table) < 2:
        raise UsageError(f"--proxies: {combined[0]} is a combined score, ranked over the table's rows; it needs "
                         f"at least 2 rows, the table has {len(table)}")
    setting = setting_for(args, table.dataset)
    store_path = Path(args.store)
    if args.store == DEFAULT_STORE:
        store_path.parent.mkdir(parents=True, exist_ok=True)
    if setting.input_shape is not None:  # NB201 on Gaussian inputs: the batch's size is known now
        check_input_elements("--batch", (setting.batch, *setting.input_shape))

    from ..rank.ranking import rank_networks
    from ..rank.store import ScoreStore

    with ScoreStore(store_path) as store:
        altered = store.altered_rows(setting.key())
        if altered:
            print(f"nnmass: note: score store {str(store_path)!r} has {len(altered)} row(s) altered by hand (text "
                  f"where a number belongs), e.g. {altered[0][1]} of {shown(altered[0][0])}; they are scored "
                  "again", file=sys.stderr)
        result = rank_networks(table, names, setting, store, workers=args.workers, device=args.device,
                               progress=args.progress, n_boot=args.bootstrap, seed=args.seed,
                               threads=args.threads, ray=cluster)
    summary = result.summary
    failed = len(result.errors)
    if failed == len(set(table.networks)):
        raise UsageError(f"every network failed to score; first: {next(iter(result.errors.items()))[1]} "
                         f"({next(iter(result.errors))})")
    if args.plot:
        from ..plots.proxies import plot_proxy_ranking
        plot_proxy_ranking({n: result.scores[n] for n in result.names}, table.target, result.rows, args.plot,
                           target_label=args.target, title=f"{Path(args.table).name}: {len(table)} architectures")
    note = (f"{len(table)} rows, {summary.networks} networks: {summary.scored} scored now, {summary.reused} "
            f"already in {store_path} ({summary.seconds:.1f} s)"
            + (f"; {failed} failed, e.g. {next(iter(result.errors))}: {next(iter(result.errors.values()))}"
               if failed else ""))
    if args.json:
        print_json(jsonable(result.rows))
        if failed:
            print(f"nnmass rank: {note}", file=sys.stderr)
        return 0
    print(format_table(printable_rows(result.rows)))
    print(f"\n{note}")
    print(f"setting: {setting.key()}")
    if args.plot:
        print(f"figure: {args.plot}")
    return 0
