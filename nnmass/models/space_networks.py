"""The networks of the NAS benchmarks' spaces: each space (:mod:`nnmass.spaces`) says
which arguments its benchmark's network takes, torch-free; this module builds it."""
from __future__ import annotations

from typing import Any, Callable, Hashable, Mapping

from torch import nn

from .darts import build_darts
from .nb101 import build_nb101
from .nb201 import build_nb201
from .transnas import build_transnas

BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "nb201": build_nb201, "nb101": build_nb101, "nb301": build_darts,
    "tnb-micro": build_transnas, "tnb-macro": build_transnas,
}
"""Space name -> the builder :meth:`~nnmass.spaces.base.SearchSpace.network_args` feeds."""


def build_in_space(space, arch: Hashable, task: str | None = None,
                   sets: Mapping[str, Any] | None = None) -> nn.Module:
    """The network of ``arch`` in ``space`` for ``task`` (its default task for None), as
    the benchmark trained it.

    Raises:
        UsageError: an unknown task, ``--set`` key or value, one line.
    """
    return BUILDERS[space.name](**space.network_args(arch, task, sets))
