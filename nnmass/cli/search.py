"""``nnmass search SPACE``: choose the architecture to train from a benchmark's space,
by a training-free score.

Candidates come from the whole space (--all), a seeded uniform sample (--samples N,
the zero-shot protocol), or aging evolution with the score as fitness (--strategy
evolution). A params/MACs budget filters them before any scoring; --screen EXPR
--keep F scores every candidate with a cheap score first and the --score only on the
best fraction F. A score is a proxy or a combination (NAME+NAME, mass_size). Scores go
into the score store of `nnmass rank`: a killed search resumes, and a later rank or
search with the same setting recomputes nothing. With --table, the chosen
architectures' measured targets and the regret against the table's best are given.
"""
from __future__ import annotations

from ..table import human
from .common import (add_device_arg, add_executor_args, format_table, int_at_least, number_type, print_json,
                     refuse_without, seed_type, workers_type)

SPACE_NAMES = ("nb201", "nb101", "nb301", "darts", "tnb-micro", "tnb-macro")  # nnmass.spaces.space_names
DEFAULT_STORE = "nnmass-runs/rank/scores.sqlite"  # shared with `nnmass rank`

HELP = "pick the architecture to train from a space (nb201, nb101, nb301, tnb-*) by a training-free score"


def add_arguments(p) -> None:
    p.add_argument("space", metavar="SPACE", choices=SPACE_NAMES, help=f"one of: {', '.join(SPACE_NAMES)}")
    p.add_argument("--score", default="mass_size", metavar="EXPR",
                   help="a proxy, or proxies joined by + (rank aggregation), or mass_size (default)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every architecture of the space (nb201, tnb-*)")
    which.add_argument("--samples", type=int_at_least(1, 10_000_000), metavar="N",
                       help="N distinct architectures drawn uniformly (random), or evolution's budget")
    p.add_argument("--strategy", choices=("random", "evolution"), default="random",
                   help="random: uniform draws (default); evolution: aging evolution with the score as fitness")
    p.add_argument("--screen", metavar="EXPR", help="score every candidate with this cheap score first")
    p.add_argument("--keep", type=number_type(0, 1, open_lo=True), metavar="FRACTION",
                   help="with --screen: the best fraction that gets --score")
    p.add_argument("--max-params", metavar="N", help="most parameters (4M, 1.5e6, ...)")
    p.add_argument("--max-macs", metavar="N", help="most multiply-accumulates per sample (400M, ...)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="a setting of the space's networks (see `nnmass space SPACE`)")
    p.add_argument("--dataset", metavar="NAME", help="the task: NB201 cifar10 (default), cifar100, "
                   "ImageNet16-120; TransNAS-Bench-101 one of its 7 tasks")
    p.add_argument("--table", metavar="CSV", help="measured targets of the space's architectures")
    p.add_argument("--arch-column", metavar="COL", help="with --table (default arch)")
    p.add_argument("--target", metavar="COL", help="with --table (default val_accuracy)")
    p.add_argument("--top", type=int_at_least(1, 1000), default=10, metavar="K", help="architectures listed (10)")
    p.add_argument("--seed", type=seed_type, default=0, metavar="S",
                   help="seeds the draws, the weight init, the batch and each proxy's draws (default 0)")
    p.add_argument("--batch", type=int_at_least(2, 65536), default=16, metavar="N", help="batch size (16)")
    p.add_argument("--workers", type=workers_type, default=1, metavar="N", help="scoring processes (1)")
    add_executor_args(p)
    p.add_argument("--store", default=DEFAULT_STORE, metavar="DB", help=f"score store (default {DEFAULT_STORE})")
    add_device_arg(p)
    p.add_argument("--out", metavar="FILE.json", help="write the best as a model file (for mass, proxies)")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="score only shard K of N (from 0) of the candidates (--all, --samples), rank's partition: "
                        "one store per shard, then `nnmass merge` and the same search on the merged store")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def _plan(args, space):
    from ..errors import UsageError
    from ..rank.table import parse_shard
    from ..search.run import SearchPlan
    from ..search.scores import members
    from ..validate import parse_count

    members(args.score)
    if args.screen is not None:
        members(args.screen, "--screen")
    if args.all and args.strategy == "evolution":
        raise UsageError("--strategy evolution needs --samples N (its budget), not --all")
    if not args.all and args.samples is None:
        raise UsageError("give --all or --samples N")
    refuse_without(args.table is not None, (("--arch-column", args.arch_column), ("--target", args.target)),
                   "names a column of --table", "name columns of --table", "add --table CSV")
    return SearchPlan(space=space, score=args.score, strategy="all" if args.all else args.strategy,
                      samples=args.samples, screen=args.screen, keep=args.keep,
                      max_params=None if args.max_params is None else parse_count(args.max_params, "--max-params"),
                      max_macs=None if args.max_macs is None else parse_count(args.max_macs, "--max-macs"),
                      seed=args.seed, shard=None if args.shard is None else parse_shard(args.shard))


def _targets(args, space_name: str, dataset):
    """canonical arch -> target of the --table, the table's best, and whether higher is better."""
    from ..rank.table import read_table
    from ..spaces import get_space

    table = read_table(args.table, args.arch_column or "arch", args.target or "val_accuracy", space=space_name,
                       dataset=dataset,
                       canonical=False)  # targets belong to architectures as written
    higher = get_space(space_name).task(table.dataset or dataset).higher_is_better
    targets: dict[str, list[float]] = {}
    for network, value in zip(table.networks, table.target):
        targets.setdefault(network, []).append(float(value))
    mean = {n: sum(v) / len(v) for n, v in targets.items()}
    best = max(mean.values()) if higher else min(mean.values())
    return mean, best, higher


def run(args) -> int:
    from pathlib import Path

    from ..errors import UsageError
    from ..families import parse_sets
    from ..rank.scoring import ScoreSetting
    from ..rank.store import ScoreStore
    from ..search.run import run_search
    from ..spaces import get_space
    from .common import executor_cluster

    cluster = executor_cluster(args, args.workers)  # a bad or dead --ray-address fails here, in seconds
    space = get_space(args.space)
    plan = _plan(args, space)
    sets = parse_sets(args.sets)
    task = args.dataset or sets.pop("task", None)
    space.check_settings(task, sets)  # a bad --set fails here, before the store is touched
    targets = _targets(args, space.name, task) if args.table else None
    if args.out:
        from ..files.writing import check_output
        check_output(args.out, "--out", protect=[args.store], suffixes=("json",))
    setting = ScoreSetting.for_space(space.name, task, batch=args.batch, seed=args.seed, sets=sets or None)
    store_path = Path(args.store)
    if args.store == DEFAULT_STORE:
        store_path.parent.mkdir(parents=True, exist_ok=True)
    with ScoreStore(store_path) as store:
        result = run_search(plan, setting, store, task=space.task(task).name, workers=args.workers,
                            device=args.device, progress=args.progress, top=args.top, ray=cluster)
    if not result.archs:
        raise UsageError("no candidate was scored")
    top = []
    for i, arch in enumerate(result.archs[:args.top]):
        row = {"arch": arch, "score": float(result.scores[i]), "params": float(result.params[i]),
               "macs": float(result.macs[i]), "canonical": space.canonical_key(space.parse(arch))}
        if targets is not None:
            row["target"] = targets[0].get(arch)
        top.append(row)
    out = {"space": space.name, "score": args.score, "strategy": result.strategy, "task": space.task(task).name,
           "candidates": result.candidates, "evaluated": result.evaluated, "seconds": result.seconds,
           "stages": [s.to_dict() for s in result.stages], "failed": result.failed,
           "computed": result.computed, "top": top, "shard": args.shard,
           "setting": setting.key(), "store": str(store_path)}
    if targets is not None:
        chosen, best, higher = top[0].get("target"), targets[1], targets[2]
        out["best_in_table"] = best
        out["regret"] = None if chosen is None else (best - chosen if higher else chosen - best)
    if args.out:
        from ..models.model_file import write_model_file
        write_model_file(args.out, f"{space.prefixes[0]}:{result.archs[0]}",
                         {"task": space.task(task).name, **sets})
        out["out"] = args.out
    if args.json:
        from ..json_values import jsonable
        print_json(jsonable(out))
        return 0
    print(_text(out))
    return 0


def _text(out: dict) -> str:
    from ..table import number_text
    lines = [f"search {out['space']} ({out['task']}) by {out['score']}, {out['strategy']}: "
             f"{out['candidates']:,} candidates, {out['evaluated']:,} scored ({out['computed']:,} networks computed now, "
             f"the rest from the store), {out['seconds']:.1f} s"]
    for s in out["stages"]:
        lines.append(f"  {s['stage']:<10} saw {s['seen']:>7,}  kept {s['kept']:>7,}  {s['seconds']:8.1f} s  {s['detail']}")
    rows = [{"rank": i + 1, "score": number_text(r["score"], ".5g"), "params": human(r["params"]),
             "macs": human(r["macs"]), **({"target": number_text(r.get("target"), ".2f")} if "best_in_table" in out
                                         else {}), "arch": r["arch"]} for i, r in enumerate(out["top"])]
    lines += ["", format_table(rows)]
    if "best_in_table" in out:
        lines.append(f"\ntable's best {out['best_in_table']:.2f}; chosen {number_text(out['top'][0].get('target'), '.2f')}; "
                     f"regret {number_text(out['regret'], '.2f')}")
    if out["failed"]:
        lines.append(f"{out['failed']} network(s) failed to score (see `nnmass rank` on the same store)")
    if "out" in out:
        lines.append(f"wrote {out['out']}")
    return "\n".join(lines)
