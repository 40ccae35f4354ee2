"""`nnmass design SPACE`: pick a network by its closed-form NN-Mass under a #Params/MACs
budget, without training or search (the paper's Sec. 4, Tables 1-2).

Enumerate a candidate space in closed form and choose the highest NN-Mass within the
budget, or with --match the fewest MACs (then params) reaching a model's NN-Mass.
Numbers take 4e6, 4M, 400M, 1.5G, 250k.
"""
from __future__ import annotations

import sys

from ..errors import UsageError
from ..validate import MAX_DESIGN_CHUNK, MAX_INPUT_SIZE
from .common import add_device_arg, int_at_least, refuse_without, seed_type

SPACE_NAMES = ("dense-cnn", "dense-mlp", "mobilenet_v2")  # nnmass.design.SPACES, without importing it
TRAIN_DATASET = "mnist-5k"  # --train's default data set


HELP = "choose a compressed network by NN-Mass under a params/MACs budget"


def add_arguments(p) -> None:
    p.add_argument("space", metavar="SPACE", help=f"one of: {', '.join(SPACE_NAMES)}")
    p.add_argument("--range", dest="ranges", action="append", default=[], metavar="KEY=LO:HI[:STEP]|a,b,c",
                   help="range of one key (once per key); per-cell/stage keys also take KEY.i "
                        "(e.g. blocks.6=1:2); see --list-keys")
    p.add_argument("--range-file", metavar="FILE", help="YAML/JSON mapping KEY: range (--range wins)")
    p.add_argument("--list-keys", action="store_true", help="print the space's keys and default ranges, then exit")
    p.add_argument("--max-params", metavar="N", help="most parameters")
    p.add_argument("--max-macs", metavar="N", help="most multiply-accumulates per input")
    p.add_argument("--input-size", type=int_at_least(1, MAX_INPUT_SIZE), metavar="N",
                   help="image side of the candidates (CNN spaces)")
    p.add_argument("--match", metavar="MODEL", help="reach this model's NN-Mass (family or spec .json)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set one key of the --match model")
    p.add_argument("--top", type=int_at_least(1), default=10, metavar="K", help="candidates to list (default 10)")
    p.add_argument("--seed", type=seed_type, default=0, help="seed of the chosen spec's skip links (default 0)")
    p.add_argument("--chunk-size", type=int_at_least(1, MAX_DESIGN_CHUNK), default=2**20, metavar="N", help="candidates evaluated at once")
    p.add_argument("--out", metavar="FILE", help="write the chosen spec as JSON (for mass, train, sweep)")
    p.add_argument("--plot", metavar="FILE", help="save the Pareto front figure (png, pdf, svg)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    t = p.add_argument_group("verify by training")
    t.add_argument("--train", action="store_true", help="train the chosen network once")
    t.add_argument("--dataset", metavar="NAME", help=f"dataset for --train (default {TRAIN_DATASET})")
    t.add_argument("--data-root", metavar="DIR", help="folder holding an on-disk dataset")
    t.add_argument("--epochs", type=int_at_least(1), help="epochs for --train (default depends on the dataset)")
    add_device_arg(t, "where --train trains")


def run(args) -> int:
    from ..design import SPACES, design, parse_range_args, read_range_file, resolve_space
    from ..files.writing import FIGURE_SUFFIXES, check_output
    from ..validate import parse_count
    from .design_output import report_json, report_text

    if args.space not in SPACES:
        raise UsageError(f"unknown design space {args.space!r}; valid: {', '.join(SPACES)}")
    if args.sets and args.match is None:
        raise UsageError("--set applies to the --match model; give --match MODEL")
    refuse_without(args.train,
                   (("--dataset", args.dataset), ("--data-root", args.data_root), ("--epochs", args.epochs)),
                   "applies to --train", "apply to --train", "add --train")
    if args.list_keys:
        print(_keys_table(SPACES[args.space]))
        return 0
    ranges = read_range_file(args.range_file) if args.range_file is not None else {}
    ranges.update(parse_range_args(args.ranges))
    max_params = parse_count(args.max_params, "--max-params") if args.max_params is not None else None
    max_macs = parse_count(args.max_macs, "--max-macs") if args.max_macs is not None else None
    # Output paths first: a search may take minutes, and its result must have somewhere to go.
    if args.out is not None:
        check_output(args.out, "--out")
    if args.plot is not None:
        check_output(args.plot, "--plot", suffixes=FIGURE_SUFFIXES)
    match = _match(args) if args.match is not None else None
    space = resolve_space(args.space, ranges, args.input_size)
    result = design(space, max_params=max_params, max_macs=max_macs,
                    match_mass=match["nn_mass"] if match else None, top_k=args.top,
                    chunk_size=args.chunk_size, progress=_progress(space.size, args.chunk_size))
    spec, spec_error = _chosen_spec(result, args.seed)
    if spec is not None and args.out:
        from ..families import dump_spec
        dump_spec(spec, args.out)
    if args.plot:
        from .design_plot import plot_design
        plot_design(result, args.plot)
    trained = _train(spec, args) if args.train and spec is not None else None
    if args.json:
        from .common import print_json
        print_json(report_json(result, spec, match, trained, spec_error))
    else:
        print(report_text(result, spec, match, trained, out=args.out if spec is not None else None,
                          plot=args.plot, spec_error=spec_error))
    return 0 if spec is not None else 1


def _match(args) -> dict:
    from ..families import parse_sets, spec_for
    from ..mass import spec_mass
    spec = spec_for(args.match, parse_sets(args.sets))
    mass = float(spec_mass(spec))
    if mass <= 0:
        raise UsageError(f"--match {args.match} has NN-Mass 0 (no skip connections); match a model with skips")
    return {"model": args.match, "sets": list(args.sets), "nn_mass": mass}


def _chosen_spec(result, seed: int):
    """The best candidate as a full spec, its closed-form cost checked against the search's;
    or why it cannot be built (too many skip candidates to sample), so the search's
    results are still printed."""
    if result.best is None:
        return None, None
    from ..cost import spec_cost
    from ..design import spec_of
    try:
        spec = spec_of(result.space, result.best, seed=seed)
    except UsageError as e:
        return None, str(e)
    cost = spec_cost(spec)
    if (cost.params, cost.macs) != (result.best.params, result.best.macs):
        raise RuntimeError(f"cost of the chosen spec ({cost.params}, {cost.macs}) differs from the "
                           f"search's ({result.best.params}, {result.best.macs})")
    return spec, None


def _progress(total: int, chunk_size: int):
    """A progress bar on stderr when the space takes several chunks."""
    if total <= 4 * chunk_size:
        return None
    from tqdm import tqdm
    bar = tqdm(total=total, unit="cand", unit_scale=True, file=sys.stderr, desc="design", leave=False)

    def update(done, total_):
        bar.update(done - bar.n)
        if done >= total_:
            bar.close()
    return update


def _train(spec, args) -> dict:
    from ..data import load_dataset
    from ..models import build
    from ..train import default_config, fit_spec_to_data, train
    from ..spec.data_fit import DATA_KEYS
    dataset = args.dataset or TRAIN_DATASET
    data = load_dataset(dataset, root=args.data_root, device=args.device)
    # The designed numbers hold only for the designed shapes: refuse to adapt them.
    spec = fit_spec_to_data(spec, data, fixed=DATA_KEYS,
                            advice="design for it with --range {key}={value}")
    config = default_config(dataset, spec.family, args.epochs, args.device, seed=args.seed)
    print(f"training the chosen {spec.family} on {data.name} for {config.epochs} epochs", file=sys.stderr)
    result = train(build(spec, seed=args.seed), data, config)
    return {"dataset": data.name, **result.to_dict()}


def _keys_table(definition) -> str:
    from ..design import make_space
    space = make_space(definition)
    lines = [f"{definition.name}: {definition.summary}; default space {space.size:,} candidates"]
    for k in definition.keys:
        if k.fixed:
            lines.append(f"  {k.name:<12} fixed {space.fixed[k.name]!r}  ({k.bounds_text()}) {k.help}")
        elif k.per is None:
            values = next(a.values for a in space.axes if a.name == k.name)
            lines.append(f"  {k.name:<12} {_short(values)}  ({k.bounds_text()}) {k.help}")
        else:
            for a in space.axes:
                if a.key == k.name:
                    lines.append(f"  {a.name:<12} {_short(a.values)}  ({k.bounds_text()}) {k.help}")
    return "\n".join(lines)


def _short(values) -> str:
    text = ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
    return text if len(text) <= 48 else text[:45] + "..."

