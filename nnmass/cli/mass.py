"""`nnmass mass MODEL`: NN-Mass, cells, params and MACs of a network."""
from __future__ import annotations

from .common import add_model_args, print_json, resolve_spec


def add_parser(sub) -> None:
    p = sub.add_parser("mass", help="NN-Mass of a model family, spec file or any PyTorch model",
                       description="NN-Mass (Eq. 2-3), cell densities, average degree, #params and MACs.")
    add_model_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
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
    report = formula_report(resolve_spec(args), args.model)
    if args.json:
        print_json(report.to_dict())
    else:
        print(report.format())
    return 0
