"""NN-Mass of a spec in closed form (Eq. 1-3), with no module built. Pure numpy.

:func:`spec_cells` gives the cells of any spec in the general form of
:class:`~nnmass.topology.CellTopology`; :func:`spec_report` adds the closed-form
cost, as the :class:`~nnmass.mass.report.MassReport` every caller prints or stores.
"""
from __future__ import annotations

from functools import singledispatch

from ..spec import DenseCNNSpec, DenseMLPSpec, DenseNetSpec, MobileNetV2Spec, ResNetSpec, Spec, VGGSpec
from ..topology import CellTopology, total_mass
from .mobilenet import inverted_residual_cell
from .report import MassReport


@singledispatch
def spec_cells(spec: Spec) -> list[CellTopology]:
    """The cells of ``spec``, each in the general form of :class:`CellTopology`."""
    raise TypeError(f"no closed form for {type(spec).__name__}")


@spec_cells.register
def _(spec: DenseMLPSpec) -> list[CellTopology]:
    # Count the links that were sampled: equal to Eq. 1's sum by construction.
    actual = sum(len(s) for s in spec.skips)
    return [CellTopology("concat", (spec.width,) * spec.depth, actual, "cell0")]


@spec_cells.register
def _(spec: DenseCNNSpec) -> list[CellTopology]:
    return [CellTopology("concat", (w,) * d, sum(len(s) for s in skips), f"cell{c}")
            for c, (w, d, skips) in enumerate(zip(spec.widths, spec.depth, spec.skips))]


@spec_cells.register
def _(spec: MobileNetV2Spec) -> list[CellTopology]:
    # Only identity residuals are cells.
    return [inverted_residual_cell(b.inp, b.hidden, f"features.{b.index}")
            for b in spec.inverted_residuals() if b.identity]


@spec_cells.register
def _(spec: ResNetSpec) -> list[CellTopology]:
    cells = []
    for b in spec.residual_blocks():
        if b.projection and spec.shortcuts == "identity":
            continue
        widths = (b.inp, b.inner, b.inner, b.out) if spec.block == "bottleneck" else (b.inp, b.inner, b.out)
        cells.append(CellTopology("add", widths, min(b.inp, b.out), f"layer{b.stage + 1}.{b.index}"))
    return cells


@spec_cells.register
def _(spec: DenseNetSpec) -> list[CellTopology]:
    cells, features = [], spec.num_init_features
    for b, n in enumerate(spec.block_config):
        widths = (features,) + (spec.growth_rate,) * n
        # Every dense layer reads all earlier nodes: density 1.
        full = CellTopology("concat", widths, 0).possible
        cells.append(CellTopology("concat", widths, full, f"features.denseblock{b + 1}"))
        features = (features + n * spec.growth_rate) // 2  # transition halves
    return cells


@spec_cells.register
def _(spec: VGGSpec) -> list[CellTopology]:
    return []


def spec_mass(spec: Spec) -> float:
    """NN-Mass of ``spec``: the sum of its cells' masses."""
    return total_mass(spec_cells(spec))


def spec_report(spec: Spec, model: str | None = None) -> MassReport:
    """The closed-form :class:`MassReport` of ``spec``: cells, NN-Mass, params, MACs.

    Args:
        spec: any spec.
        model: the report's label (default: the spec's family).
    """
    from ..cost import spec_cost

    cost = spec_cost(spec)
    info = []
    if isinstance(spec, DenseMLPSpec):
        info = [{"tc": spec.tc}]
    elif isinstance(spec, DenseCNNSpec):
        info = [{"tc": t} for t in spec.tc]
    return MassReport(model=model or spec.family, method="formula", cells=spec_cells(spec), params=cost.params,
                      macs=cost.macs, layers=cost.layers, cell_info=info, spec=spec.to_dict())
