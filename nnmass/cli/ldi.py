"""``nnmass ldi``: singular values of the layerwise Jacobians at initialization (Definition 2).

Singular values of J_i = D_i W_i (W_i with its skip columns, D_i = diag(phi'(h_i)) per
sample) for every layer of a model at initialization, over a batch of Gaussian or real
inputs. The layer reading the raw input is left out unless --include-input-layer. CNNs:
the exact Jacobian rows at --positions sampled output positions per layer, BatchNorm in
eval mode (running statistics). ResNet, MobileNetV2, VGG, DenseNet: a layer is a conv
(or hidden linear) with the BatchNorm, residual add (other operand fixed) and activation
its output flows into; the classifier is left out.
"""
from __future__ import annotations

from ..validate import MAX_LDI_BATCH
from .common import (add_device_arg, add_model_args, format_table, inputs_data, int_at_least, print_json, resolve_spec,
                     seed_type)


HELP = "layerwise dynamical isometry: Jacobian singular values at init"


def add_arguments(p) -> None:
    add_model_args(p)
    p.add_argument("--batch", type=int_at_least(1, MAX_LDI_BATCH), default=64,
                   help=f"inputs in the batch, up to {MAX_LDI_BATCH} (default 64)")
    p.add_argument("--seed", type=seed_type, default=0,
                   help="seeds the weight init, the inputs and the CNN positions (default 0)")
    add_device_arg(p)
    p.add_argument("--inputs", default="gaussian", metavar="gaussian|DATASET",
                   help="N(0,1) inputs, or training examples of a dataset (e.g. digits, mnist-5k)")
    p.add_argument("--data-root", default=None, help="folder of an on-disk dataset")
    p.add_argument("--positions", type=int_at_least(1), default=16,
                   help="CNNs: output positions sampled per conv layer (default 16)")
    p.add_argument("--include-input-layer", action="store_true",
                   help="also measure the layer that reads the raw input")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    from ..families import parse_sets
    from ..spec import DenseMLPSpec

    resolve_spec(args)  # a family or spec file (no module source), refused before any data is read

    import torch

    from ..ldi import measure
    from ..mass import spec_mass
    from ..ldi.inputs import dataset_batch, gaussian_inputs
    from ..models.network import network_for_data

    data = inputs_data(args)
    # Input sizes follow the data unless the user fixed them (then they must match).
    model, _, spec = network_for_data(args.model, parse_sets(args.sets), args.seed, data)
    model = model.to(args.device)
    if data is None:
        x = gaussian_inputs(spec, args.batch, args.seed, args.device)
    else:
        x = dataset_batch(data, args.batch, args.seed, args.device)
    report = measure(model, x, include_input_layer=args.include_input_layer, positions=args.positions,
                 generator=torch.Generator().manual_seed(args.seed),
                 progress=_progress_bar() if args.progress and not isinstance(spec, DenseMLPSpec) else None)
    mass = spec_mass(spec)
    if args.json:
        print_json({"model": args.model, "spec": spec.to_dict(), "inputs": args.inputs, "seed": args.seed,
                    "device": args.device, "nn_mass": mass, **report.to_dict()})
        return 0
    columns = ["layer", "mean", "std", "min", "max", "count"]
    rows = [{"layer": l["name"], **{c: l[c] for c in columns[1:]}} for l in report.layers]
    rows.append({"layer": "overall", **{c: getattr(report, c) for c in columns[1:]}})
    print(format_table(rows, columns))
    print(f"\nnn_mass {mass:g}  ({report.method}, batch {report.batch}, inputs {args.inputs}, "
          f"seed {args.seed}, device {args.device})")
    return 0


def _progress_bar():
    """A per-layer progress bar on stderr when it is a terminal (CNN layers run one at a time)."""
    import sys

    from tqdm import tqdm
    bar = None

    def update(done, total):
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="layer", file=sys.stderr, desc="ldi", leave=False, disable=None)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
    return update
