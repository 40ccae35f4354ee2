"""`nnmass mass MODEL`: NN-Mass, cells, params and MACs of a network."""
from __future__ import annotations

from .common import add_model_args, print_json, resolve_spec


def add_parser(sub) -> None:
    p = sub.add_parser("mass", help="NN-Mass of a model family, spec file or any PyTorch model",
                       description="NN-Mass (Eq. 2-3), cell densities, average degree, #params and MACs.")
    add_model_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--method", choices=("graph", "formula"), default=None,
                   help="closed form of a spec (default where one exists) or the traced graph of the module")
    p.add_argument("--input-shape", default=None, metavar="B,C,H,W",
                   help="input to trace at (default: the spec's, INPUT_SHAPE of a file, else 1,3,224,224)")
    p.add_argument("--shortcuts", choices=("identity", "all"), default=None,
                   help="residual blocks: identity shortcuts only (default) or projections too")
    p.add_argument("--tracer", choices=("auto", "fx", "record"), default="auto",
                   help="graph method: torch.fx, recording one forward pass, or fx then recording (default)")
    p.add_argument("--device", default="cpu",
                   help="where the recording tracer runs the forward pass (cpu, cuda, cuda:1); fx needs none")
    p.add_argument("--allow-unclassified", action="store_true",
                   help="report merges that fit no cell rule and measure the rest, instead of exiting 2")
    p.set_defaults(func=run)


def formula_report(spec, model: str):
    """The closed-form :class:`MassReport` of ``spec``."""
    from ..cost import spec_cost
    from ..formula import spec_cells
    from ..massreport import MassReport
    from ..spec import DenseCNNSpec, DenseMLPSpec

    cells = spec_cells(spec)
    cost = spec_cost(spec)
    info = []
    if isinstance(spec, DenseMLPSpec):
        info = [{"tc": spec.tc}]
    elif isinstance(spec, DenseCNNSpec):
        info = [{"tc": t} for t in spec.tc]
    return MassReport(model=model, method="formula", cells=cells, params=cost.params, macs=cost.macs,
                      layers=cost.layers, cell_info=info, spec=spec.to_dict())


def run(args) -> int:
    from ..sources import is_module_source
    if is_module_source(args.model):
        report = _module_report(args)
    else:
        spec = resolve_spec(args)
        if args.shortcuts is not None and hasattr(spec, "shortcuts"):
            spec = spec.replace(shortcuts=args.shortcuts)
        if args.method == "graph":
            report = _spec_graph_report(args, spec)
        else:
            report = formula_report(spec, args.model)
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.format())
    return 0


def _module_report(args):
    from ..errors import UsageError
    from ..sources import load_module, parse_shape
    if args.method == "formula":
        raise UsageError(f"--method formula needs a model family or spec file; {args.model!r} has no closed "
                         "form (use --method graph)")
    if args.sets:
        raise UsageError("--set applies to model families and spec files, not to " + args.model)
    model, shape = load_module(args.model)
    if args.input_shape:
        shape = parse_shape(args.input_shape)
    return _trace(args, model, shape, None)


def _spec_graph_report(args, spec):
    from ..models import build, input_shape
    from ..sources import parse_shape
    shape = parse_shape(args.input_shape) if args.input_shape else input_shape(spec)
    return _trace(args, build(spec, seed=0), shape, spec)


def _trace(args, model, shape, spec):
    import torch

    from ..errors import UsageError
    from ..trace import measure
    try:
        device = torch.device(args.device)
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as e:
        raise UsageError(f"--device {args.device!r} is not available here ({str(e).splitlines()[0]}); "
                         "use cpu or an available cuda:N") from None
    model = model.to(device)
    x = torch.zeros(shape, device=device)
    try:
        report = measure(model, x, shortcuts=args.shortcuts or getattr(spec, "shortcuts", "identity"),
                         method=args.tracer, name=args.model, allow_unclassified=args.allow_unclassified)
    except UsageError:
        raise
    except Exception as e:  # the model itself failed on this input
        raise UsageError(f"cannot trace {args.model} at input shape {','.join(map(str, shape))}: "
                         f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    report.spec = spec.to_dict() if spec is not None else None
    return report
