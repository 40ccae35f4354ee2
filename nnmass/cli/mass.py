"""`nnmass mass MODEL`: NN-Mass, cells, params and MACs of a network.

NN-Mass (Eq. 2-3), cell densities, average degree, #params and MACs.
"""
from __future__ import annotations

from .common import add_device_arg, add_model_args, model_errors, print_json, resolve_spec


HELP = "NN-Mass of a model family, spec file or any PyTorch model"


def add_arguments(p) -> None:
    add_model_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--method", choices=("graph", "formula"), default=None,
                   help="closed form of a spec (default where one exists) or the traced graph of the module")
    p.add_argument("--input-shape", default=None, metavar="B,C,H,W",
                   help="input to trace at (module sources and --method graph; default: the spec's, "
                        "INPUT_SHAPE of a file, else 1,3,224,224)")
    p.add_argument("--shortcuts", choices=("identity", "all"), default=None,
                   help="residual blocks: projection shortcuts count too (all, the default and the "
                        "authors' rule) or identity shortcuts only")
    p.add_argument("--pool-links", choices=("yes", "no"), default="yes",
                   help="traced graphs: a long-range link through pooling alone counts (yes, default) or not")
    p.add_argument("--parallel", choices=("level", "layer"), default="level",
                   help="traced graphs: parallel layers of equal depth are one wider node (level, default) "
                        "or each a node for possible links (layer)")
    p.add_argument("--tracer", choices=("auto", "fx", "record"), default="auto",
                   help="graph method: torch.fx, recording one forward pass, or fx then recording (default)")
    add_device_arg(p, "where the recording tracer runs the forward pass (fx needs none)")
    p.add_argument("--allow-unclassified", action="store_true",
                   help="report merges that fit no cell rule and measure the rest, instead of exiting 2")


def run(args) -> int:
    from ..mass import spec_report
    from ..models.sources import is_module_source
    if is_module_source(args.model):
        report = _module_report(args)
    else:
        spec = resolve_spec(args)
        if args.input_shape and args.method != "graph":
            _refuse_input_shape(args.model, spec)
        if args.shortcuts is not None and hasattr(spec, "shortcuts"):
            spec = spec.replace(shortcuts=args.shortcuts)
        if args.method == "graph":
            report = _spec_graph_report(args, spec)
        else:
            report = spec_report(spec, args.model)
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.format())
    return 0


def _refuse_input_shape(model: str, spec) -> None:
    """A closed form reads its input size from the spec; ignoring --input-shape silently
    would report a different network than the one asked for."""
    from ..errors import UsageError
    from ..validate import shown
    keys = [k for k in ("input_dim", "in_channels", "input_size") if hasattr(spec, k)]
    raise UsageError(f"--input-shape applies when tracing a module (torchvision:, timm:, nb201:, file.py: or "
                     f"--method graph); the closed form of {shown(model)} takes its input from the spec: use "
                     + " or ".join(f"--set {k}=N" for k in keys))


def _module_report(args):
    from ..errors import UsageError
    from ..families import parse_sets
    from ..models.sources import model_from, parse_shape
    if args.method == "formula":
        raise UsageError(f"--method formula needs a model family or spec file; {args.model!r} has no closed "
                         "form (use --method graph)")
    model, shape, _ = model_from(args.model, parse_sets(args.sets))
    if args.input_shape:
        shape = parse_shape(args.input_shape)
    return _trace(args, model, shape, None)


def _spec_graph_report(args, spec):
    from ..models import build, input_shape
    from ..models.sources import parse_shape
    shape = parse_shape(args.input_shape) if args.input_shape else input_shape(spec)
    return _trace(args, build(spec, seed=0), shape, spec)


def _trace(args, model, shape, spec):
    import torch

    from ..mass import measure
    model = model.to(args.device)
    x = torch.zeros(shape, device=args.device)
    with model_errors(f"cannot trace {args.model} at input shape {','.join(map(str, shape))}"):
        report = measure(model, x, shortcuts=args.shortcuts or getattr(spec, "shortcuts", "all"),
                         pool_links=args.pool_links == "yes", parallel=args.parallel, method=args.tracer,
                         name=args.model, allow_unclassified=args.allow_unclassified)
    report.spec = spec.to_dict() if spec is not None else None
    return report
