"""The result of measuring NN-Mass, whether by closed form or from a traced graph.
Pure data (no torch), so both paths print and serialise the same way."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..table import format_table, human
from ..topology import CellTopology, total_mass


@dataclass
class MassReport:
    """NN-Mass of one network, cell by cell.

    Attributes:
        model: what was measured (a family name, spec file or ``torchvision:NAME``).
        method: ``"formula"`` (closed form of a spec) or ``"graph"`` (traced module).
        cells: the cells found, in network order.
        params, macs, layers: size of the network (MACs per input sample; see ``nnmass.cost``).
        cell_info: extra per-cell fields (``tc`` of a spec, first/last node of a traced cell).
        unclassified: graph nodes that could not be classified, by name.
        spec: the spec record when the network came from one.
        input_shape: the input the counts refer to.
        degree: empirical degree statistics of a traced DenseNet-type graph, if computed.
    """

    model: str
    method: str
    cells: list[CellTopology]
    params: int
    macs: int | None
    layers: int
    cell_info: list[dict] = field(default_factory=list)
    unclassified: list[str] = field(default_factory=list)
    spec: dict | None = None
    input_shape: tuple | None = None
    degree: dict | None = None

    @property
    def nn_mass(self) -> float:
        return total_mass(self.cells)

    def cell_rows(self) -> list[dict]:
        rows = []
        for i, cell in enumerate(self.cells):
            row = cell.to_dict()
            if i < len(self.cell_info):
                row.update(self.cell_info[i])
            rows.append(row)
        return rows

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "method": self.method,
            "nn_mass": self.nn_mass,
            "params": self.params,
            "macs": self.macs,
            "layers": self.layers,
            "num_cells": len(self.cells),
            "cells": self.cell_rows(),
            "unclassified": list(self.unclassified),
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "degree": self.degree,
            "spec": self.spec,
        }

    def summary_row(self) -> dict:
        return {"model": self.model, "method": self.method, "nn_mass": round(self.nn_mass, 4),
                "cells": len(self.cells), "params": human(self.params),
                "macs": human(self.macs) if self.macs is not None else "-", "layers": self.layers}

    def format(self) -> str:
        """A readable report: the summary, then one row per cell."""
        lines = [format_table([self.summary_row()])]
        if self.cells:
            cols = ["name", "kind", "width", "depth", "tc", "density", "mass", "average_degree",
                    "first", "last"]
            rows = self.cell_rows()
            cols = [c for c in cols if any(c in r for r in rows)]
            lines += ["", format_table(rows, cols)]
        if self.degree:
            d = self.degree
            lines += ["", f"average degree: traced {d['empirical']:.4g}  vs  Prop. 1 w + m/2 = {d['prop1']:.4g}"]
        if self.unclassified:
            lines += ["", "not classified: " + ", ".join(self.unclassified)]
        return "\n".join(lines)
