"""``nnmass proxies MODEL``: every training-free proxy of one network.

Scores a network at initialization with the zero-cost proxies of nnmass.proxies (params
macs nn_mass synflow snip grad_norm grasp fisher jacob_cov nwot zen zico meco), on a
batch of Gaussian inputs with random labels or of a dataset's training examples. Shared
passes are fused; the values equal each proxy's own function. A proxy undefined on the
network is nan (null in --json).
"""
from __future__ import annotations

from .common import add_device_arg, format_table, int_at_least, print_json, seed_type


HELP = "training-free (zero-cost) proxies of a network at init"


def add_arguments(p) -> None:
    p.add_argument("model", metavar="MODEL",
                   help="anything `nnmass mass` takes (family, spec .json, torchvision:, timm:, file.py:F), "
                        "or nb201:ARCH (--set num_classes=N)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set one spec key (once per key; lists are comma-separated)")
    p.add_argument("--proxies", default="all", metavar="LIST|all",
                   help="comma-separated proxy names, or all (default)")
    p.add_argument("--batch", type=int_at_least(1, 65536), default=64, metavar="N",
                   help="samples in the batch (default 64, NASLib's; zico needs >= 2)")
    p.add_argument("--seed", type=seed_type, default=0, metavar="S",
                   help="seeds the weight init, the batch and each proxy's own draws (default 0)")
    p.add_argument("--inputs", default="gaussian", metavar="gaussian|DATASET",
                   help="N(0,1) inputs with uniform random labels (default), or training examples of a "
                        "dataset (mnist-5k, digits, synthetic; cifar10 etc. with --data-root)")
    p.add_argument("--data-root", default=None, metavar="DIR", help="folder of an on-disk dataset")
    p.add_argument("--input-shape", default=None, metavar="B,C,H,W",
                   help="input shape (the batch entry is ignored; default: the model's own, e.g. "
                        "1,3,32,32 for nb201:, or the dataset's)")
    add_device_arg(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _network(args):
    """The module, one sample's shape and the dataset (or None) the batch comes from."""
    import torch

    from ..families import FAMILIES, parse_sets
    from ..models import build, input_shape
    from ..models.sources import model_from, parse_shape

    sets = parse_sets(args.sets)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(args.seed)  # module sources (nb201:, torchvision:, ...) init from the global generator
        model, shape, spec = model_from(args.model, sets, args.seed)
    data = None
    if args.inputs != "gaussian":
        from ..data import load_dataset
        data = load_dataset(args.inputs, root=args.data_root, device=args.device)
        if spec is not None:
            from ..train.adapt import fit_spec_to_data
            fixed = set(sets) if args.model in FAMILIES else set(spec.to_dict())
            fitted = fit_spec_to_data(spec, data, fixed)
            if fitted != spec:
                spec, model, shape = fitted, build(fitted, seed=args.seed), input_shape(fitted)
        else:
            shape = (1, *data.input_shape)
    if args.input_shape:
        shape = parse_shape(args.input_shape)
    return model.to(args.device), tuple(shape[1:]), data


def run(args) -> int:
    from ..errors import UsageError
    from ..rank.combined import refuse_combinations
    from ..rank.names import parse_proxy_names
    refuse_combinations(args.proxies, "--proxies", "ranks networks against a population, and this scores one "
                        "network (use nnmass rank)")
    names = parse_proxy_names(args.proxies, "--proxies")
    if "zico" in names and args.batch < 2:
        raise UsageError("zico splits the batch in two halves: give --batch 2 or more, or leave zico out")

    from ..proxies import gaussian_batch
    from ..proxies.data_batch import data_batch
    from ..proxies.fused import score_fused
    from ..rank.report import jsonable
    from ..rank.scoring import logits_width

    model, sample_shape, data = _network(args)
    try:
        classes = logits_width(model, sample_shape, args.device)
        if data is None:
            batch = gaussian_batch(sample_shape, batch_size=args.batch, num_classes=classes, seed=args.seed,
                                   device=args.device)
        else:
            if data.num_classes > classes:
                raise UsageError(f"{data.name} has {data.num_classes} classes but {args.model} returns "
                                 f"{classes} logits (set num_classes)")
            batch = data_batch(data, args.batch, seed=args.seed, sample_shape=sample_shape)
        run = score_fused(model, batch, names)
    except UsageError:
        raise
    except Exception as e:  # the model itself failed on this input
        raise UsageError(f"cannot score {args.model} on inputs of shape {','.join(map(str, sample_shape))}: "
                         f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    settings = {"model": args.model, "proxies": list(names), "batch": args.batch, "seed": args.seed,
                "inputs": args.inputs, "input_shape": list(sample_shape), "num_classes": batch.num_classes,
                "device": str(args.device)}
    if args.json:
        print_json(jsonable({**settings, "scores": run.scores, "seconds": run.seconds, "undefined": run.undefined}))
        return 0
    rows = [{"proxy": n, "score": run.scores[n], "seconds": round(run.seconds[n], 4)} for n in names]
    print(format_table(rows, floatfmt=".6g"))
    print(f"\n{args.model}: batch {args.batch} x {','.join(map(str, sample_shape))} of {args.inputs} inputs, "
          f"{batch.num_classes} classes, seed {args.seed}, {args.device}; {sum(run.seconds.values()):.2f} s"
          + (f"; undefined (nan): {', '.join(run.undefined)}" if run.undefined else ""))
    return 0
