"""``nnmass ldi``: singular values of the layerwise Jacobians at initialization (Definition 2).

Singular values of J_i = D_i W_i (W_i with its skip columns, D_i = diag(phi'(h_i)) per
sample) for every layer of a model at initialization, over a batch of Gaussian or real
inputs. The layer reading the raw input is left out unless --include-input-layer. CNNs:
the exact Jacobian rows at --positions sampled output positions per layer, BatchNorm in
eval mode (running statistics). ResNet, MobileNetV2, VGG, DenseNet and the NB101,
NB201 and TransNAS-Bench-101 networks: a layer is a conv (or hidden linear) with the
BatchNorm, residual adds (other operands fixed) and activation its output flows into;
the classifier is left out. MODEL is anything ``nnmass mass`` takes; a network whose
layers have no exact J_i (DARTS, factorized reductions, ...) is refused in one line.
"""
from __future__ import annotations

from ..validate import MAX_LDI_BATCH, check_input_elements
from .common import (add_device_arg, add_model_args, format_table, inputs_data, int_at_least, model_errors, print_json,
                     resolve_spec, seed_type)


DEFAULT_POSITIONS = 16
HELP = "layerwise dynamical isometry: Jacobian singular values at init"


def add_arguments(p) -> None:
    add_model_args(p, help="anything `nnmass mass` takes: a family, a spec .json file, torchvision:NAME, timm:NAME, "
                          "file.py:FACTORY or SPACE:ARCH (nb101:, nb201:, tnb-macro:, ...; --set task=...); "
                          "LDI applies to the networks listed in the README")
    p.add_argument("--batch", type=int_at_least(1, MAX_LDI_BATCH), default=64,
                   help=f"inputs in the batch, up to {MAX_LDI_BATCH} (default 64)")
    p.add_argument("--seed", type=seed_type, default=0,
                   help="seeds the weight init, the inputs and the CNN positions (default 0)")
    add_device_arg(p)
    p.add_argument("--inputs", default="gaussian", metavar="gaussian|DATASET",
                   help="N(0,1) inputs, or training examples of a dataset (e.g. digits, mnist-5k)")
    p.add_argument("--data-root", default=None, help="folder of an on-disk dataset")
    p.add_argument("--positions", type=int_at_least(1), default=None,
                   help=f"CNNs: output positions sampled per conv layer, at most (a layer with fewer gives all "
                        f"of its own; default {DEFAULT_POSITIONS})")
    p.add_argument("--include-input-layer", action="store_true",
                   help="also measure the layer that reads the raw input")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    from ..families import parse_sets
    from ..models.sources import is_module_source
    from ..spec import DenseMLPSpec

    import torch

    from ..ldi import check_measurable, measure
    from ..ldi.inputs import dataset_batch, gaussian_inputs, gaussian_of_shape
    from ..models.network import network_for_data

    if is_module_source(args.model):  # built (and refused if LDI does not apply) before any data is read
        model, shape, spec = network_for_data(args.model, parse_sets(args.sets), args.seed)
        check_measurable(model)
        data = inputs_data(args)
    else:
        resolve_spec(args)  # a bad family or spec file is refused before any data is read
        data = inputs_data(args)
        # Input sizes follow the data unless the user fixed them (then they must match).
        model, shape, spec = network_for_data(args.model, parse_sets(args.sets), args.seed, data)
    from ..models.dense import DenseMLP
    if args.positions is not None and isinstance(model, DenseMLP):
        from ..errors import UsageError
        raise UsageError("--positions applies to CNNs; an MLP's layer Jacobians are measured whole")
    model = model.to(args.device)
    if data is not None:
        x = dataset_batch(data, args.batch, args.seed, args.device)
    elif spec is not None:
        x = gaussian_inputs(spec, args.batch, args.seed, args.device)
    else:
        check_input_elements("--batch", (args.batch, *shape[1:]))
        x = gaussian_of_shape(shape[1:], args.batch, args.seed, args.device)
    with model_errors(f"cannot measure {args.model} on inputs of shape {','.join(map(str, x.shape[1:]))}"):
        report = measure(model, x, include_input_layer=args.include_input_layer,
                         positions=args.positions or DEFAULT_POSITIONS,
                         generator=torch.Generator().manual_seed(args.seed),
                         progress=_progress_bar() if args.progress and not isinstance(spec, DenseMLPSpec) else None)
    mass = _nn_mass(model, spec, tuple(x.shape[1:]), args.device)
    if args.json:
        print_json({"model": args.model, "spec": spec.to_dict() if spec is not None else None, "inputs": args.inputs,
                    "seed": args.seed, "device": args.device, "nn_mass": mass, **report.to_dict()})
        return 0
    columns = ["layer", "mean", "std", "min", "max", "count"]
    rows = [{"layer": l["name"], **{c: l[c] for c in columns[1:]}} for l in report.layers]
    rows.append({"layer": "overall", **{c: getattr(report, c) for c in columns[1:]}})
    print(format_table(rows, columns))
    shown_mass = "n/a" if mass is None else format(mass, "g")
    print(f"\nnn_mass {shown_mass}  ({report.method}, batch {report.batch}, inputs {args.inputs}, "
          f"seed {args.seed}, device {args.device})")
    return 0


def _nn_mass(model, spec, sample_shape, device) -> float | None:
    """The spec's closed form, or for a module source the traced graph's NN-Mass, as
    ``nnmass mass MODEL`` reports it by default (None where that graph has merges no
    cell rule classifies: the spectra already measured are still reported)."""
    if spec is not None:
        from ..mass import spec_mass
        return spec_mass(spec)
    import torch

    from ..mass import UnclassifiedError, measure
    try:
        return measure(model, torch.zeros((1, *sample_shape), device=device)).nn_mass
    except UnclassifiedError:
        return None


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
