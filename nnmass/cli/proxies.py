"""``nnmass proxies MODEL``: every training-free proxy of one network.

Scores a network at initialization with the zero-cost proxies of nnmass.proxies (params
macs nn_mass synflow snip grad_norm grasp fisher jacob_cov nwot zen zico meco), on a
batch of Gaussian inputs with random labels or of a dataset's training examples. Shared
passes are fused; the values equal each proxy's own function. A proxy undefined on the
network is nan (null in --json). Torch runs one thread on a CPU unless --threads says otherwise.
"""
from __future__ import annotations

from .common import (add_device_arg, format_table, inputs_data, int_at_least, model_errors, print_json, seed_type,
                     threads_type)


HELP = "training-free (zero-cost) proxies of a network at init"


def add_arguments(p) -> None:
    p.add_argument("model", metavar="MODEL",
                   help="anything `nnmass mass` takes (family, spec .json, torchvision:, timm:, file.py:F), "
                        "or SPACE:ARCH of a benchmark's space (nb201:, nb101:, nb301:/darts:, tnb-micro:, "
                        "tnb-macro:; --set task=...)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set one spec key (once per key; lists are comma-separated)")
    p.add_argument("--proxies", default="all", metavar="LIST|all",
                   help="comma-separated proxy names, or all (default)")
    p.add_argument("--batch", type=int_at_least(1, 65536), default=64, metavar="N",
                   help="samples in the batch (default 64, NASLib's; jacob_cov, nwot and zico need >= 2; "
                        "at most 2^26 numbers in all)")
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
    p.add_argument("--threads", type=threads_type, default=1, metavar="N",
                   help="torch threads on a CPU (default 1)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _network(args):
    """The module, one sample's shape and the dataset (or None) the batch comes from."""
    from ..families import parse_sets
    from ..models.network import network_for_data
    from ..models.sources import parse_shape

    data = inputs_data(args)
    model, shape, spec = network_for_data(args.model, parse_sets(args.sets), args.seed, data)
    if data is not None and spec is None:
        shape = (1, *data.input_shape)
    if args.input_shape:
        shape = parse_shape(args.input_shape)
    return model.to(args.device), tuple(shape[1:]), data


def _refuse_small_batch(names: list[str], batch: int) -> None:
    """One line when the batch is smaller than a named proxy needs (the registry's ``min_batch``)."""
    from ..errors import UsageError
    from ..proxies import PROXIES  # the package face loads every proxy into the registry
    from ..proxies.registry import min_batch
    small = [n for n in names if PROXIES[n].min_batch > batch]
    if small:
        least = min_batch(small)
        raise UsageError(f"--batch {batch} is too small for {', '.join(small)}: they compare samples and need at "
                         f"least {least}; give --batch {least} or more, or leave them out")


def _score(args, names, model, sample_shape, data):
    """The batch and the fused scores; a failure of the model itself is one line."""
    from ..errors import UsageError
    from ..proxies import gaussian_batch
    from ..proxies.data_batch import data_batch
    from ..parallel.heap import fit_heap_to
    from ..proxies.fused import score_fused
    from ..rank.scoring import logits_width

    with model_errors(f"cannot score {args.model} on inputs of shape {','.join(map(str, sample_shape))}"):
        classes = logits_width(model, sample_shape, args.device)
        if data is None:
            batch = gaussian_batch(sample_shape, batch_size=args.batch, num_classes=classes, seed=args.seed,
                                   device=args.device)
        else:
            if data.num_classes > classes:
                raise UsageError(f"{data.name} has {data.num_classes} classes but {args.model} returns "
                                 f"{classes} logits (set num_classes)")
            batch = data_batch(data, args.batch, seed=args.seed, sample_shape=sample_shape)
        fit_heap_to(model)
        return batch, score_fused(model, batch, names)


def run(args) -> int:
    from ..json_values import jsonable
    from ..proxies.combined import refuse_combinations
    from ..proxies.proxy_names import parse_proxy_names
    from ..threads import torch_threads
    from ..validate import check_input_elements

    refuse_combinations(args.proxies, "--proxies", "ranks networks against a population, and this scores one "
                        "network (use nnmass rank)")
    names = parse_proxy_names(args.proxies, "--proxies")
    _refuse_small_batch(names, args.batch)
    with torch_threads(args.threads, args.device):
        model, sample_shape, data = _network(args)
        check_input_elements("--batch", (args.batch, *sample_shape))
        batch, run = _score(args, names, model, sample_shape, data)
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
