"""`nnmass train MODEL --dataset D`: train one model and report per-epoch numbers.

Train MODEL on a dataset. Input size and classes come from the dataset unless set with
--set. --seed seeds the weight init and the batch order (the spec's own seed fixes its
skip links).
"""
from __future__ import annotations

import argparse
import sys


HELP = "train a model on a dataset, per-epoch loss and accuracy"


def add_arguments(p) -> None:
    from ..data.names import DATASETS
    from .common import add_device_arg, add_model_args, int_at_least, number_type, seed_type
    add_model_args(p)
    p.add_argument("--dataset", default="mnist-5k", metavar="NAME",
                   help=f"one of: {', '.join(DATASETS)} (default mnist-5k)")
    p.add_argument("--data-root", metavar="DIR", help="folder holding an on-disk dataset")
    p.add_argument("--download", action="store_true", help="let torchvision download the dataset into --data-root")
    p.add_argument("--split-seed", type=seed_type, default=0, help="seed of the embedded sets' train/test split")
    p.add_argument("--epochs", type=int_at_least(1), help="epochs (default depends on the dataset)")
    p.add_argument("--seed", type=seed_type, default=0, help="weight-init and batch-order seed (default 0)")
    add_device_arg(p, "where it trains")
    p.add_argument("--batch-size", type=int_at_least(1), help="training batch size")
    p.add_argument("--lr", type=number_type(), help="peak learning rate")
    p.add_argument("--optimizer", choices=("sgd", "adam"), help="default: adam for MLPs, sgd for CNNs")
    p.add_argument("--momentum", type=number_type(), help="SGD momentum (default 0.9)")
    p.add_argument("--weight-decay", type=number_type(), help="L2 weight decay")
    p.add_argument("--schedule", choices=("cosine", "constant"), help="learning-rate schedule (default cosine)")
    p.add_argument("--label-smoothing", type=number_type(), help="label smoothing (default 0)")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                   help="bf16 mixed precision (default: on for CUDA)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    from ..data import load_dataset
    from ..errors import UsageError
    from ..families import parse_sets
    from ..mass import spec_mass
    from ..models.network import network_for_data
    from ..train import default_config, train
    from .common import format_table, print_json, resolve_spec

    resolve_spec(args)  # a bad MODEL or --set is refused before the data set is read
    data = load_dataset(args.dataset, root=args.data_root, download=args.download, device=args.device,
                        split_seed=args.split_seed)
    model, _, spec = network_for_data(args.model, parse_sets(args.sets), args.seed, data)
    config = default_config(args.dataset, spec.family, args.epochs, args.device, seed=args.seed,
                            batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
                            momentum=args.momentum, weight_decay=args.weight_decay, schedule=args.schedule,
                            label_smoothing=args.label_smoothing, amp=args.amp)
    if args.momentum is not None and config.optimizer != "sgd":
        raise UsageError(f"--momentum is SGD's; {args.model} trains with {config.optimizer} here "
                         "(add --optimizer sgd or drop --momentum)")
    examples = data.size("train")
    if args.batch_size is not None and args.batch_size > examples:
        raise UsageError(f"--batch-size {args.batch_size:,} is more than the {examples:,} training examples "
                         f"of {data.name}; valid: 1..{examples:,}")
    params = sum(p.numel() for p in model.parameters())
    mass = float(spec_mass(spec))
    print(f"training {args.model} ({params:,} params, NN-Mass {mass:.4g}) on {data.name} "
          f"[{data.size('train')} train / {data.size('test')} test] for {config.epochs} epochs, "
          f"{config.optimizer} lr {config.lr:g}, device {config.device}", file=sys.stderr)
    result = train(model, data, config, progress=lambda rec: _print_epoch(rec, config.epochs))
    if args.json:
        print_json({"spec": spec.to_dict(), "dataset": data.name, "nn_mass": mass, "params": params,
                    **result.to_dict()})
        return 0
    print(format_table(result.history, ["epoch", "train_loss", "train_acc", "test_loss", "test_acc"]))
    status = "DIVERGED (loss became NaN/inf)" if result.diverged else "done"
    print(f"{status}: test accuracy {result.test_acc:.4f} after {len(result.history)} epochs "
          f"in {result.seconds:.1f}s")
    return 0


def _print_epoch(rec: dict, epochs: int) -> None:
    print(f"epoch {rec['epoch']}/{epochs}  train loss {rec['train_loss']:.4f} acc {rec['train_acc']:.4f}"
          f"  test loss {rec['test_loss']:.4f} acc {rec['test_acc']:.4f}", file=sys.stderr, flush=True)
