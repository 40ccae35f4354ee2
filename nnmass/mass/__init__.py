"""The NN-Mass of a network, in one place: a spec or a traced graph goes to cells,
then to a :class:`MassReport`.

- :mod:`.closed_form`: the cells of a spec in closed form (Eq. 1-3);
  :func:`spec_report` is the closed-form report every command uses.
- :mod:`.mobilenet`: the MobileNetV2 cell rule, for specs and for array searches.
- :mod:`.graph`, :mod:`.layers`, :mod:`.cells`: a traced layer graph (pure data),
  its layers, and the cells found in it.
- :mod:`.traced`: ``measure(model, x)``, any ``nn.Module`` through :mod:`nnmass.trace`
  (torch; imported on first use, so this package stays torch-free).
"""
from ..lazy import lazy_exports
from .closed_form import spec_cells, spec_mass, spec_report
from .report import MassReport

_LAZY = {"measure": ".traced", "UnclassifiedError": ".traced"}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = ["MassReport", "UnclassifiedError", "measure", "spec_cells", "spec_mass", "spec_report"]
