"""The search spaces of NAS benchmarks: NAS-Bench-201 (``nb201``), NAS-Bench-101
(``nb101``), the DARTS space of NAS-Bench-301 (``nb301``, also ``darts``) and
TransNAS-Bench-101's micro and macro spaces (``tnb-micro``, ``tnb-macro``).

Each space is a :class:`~nnmass.spaces.base.SearchSpace` in its own module, imported
when first asked for; this package imports no torch.
"""
from __future__ import annotations

from importlib import import_module

from ..errors import UsageError
from ..validate import shown
from .base import SearchSpace, Task

__all__ = ["SearchSpace", "Task", "SPACE_MODULES", "space_names", "get_space", "split_model"]

SPACE_MODULES = {
    "nb201": "nb201",
    "nb101": "nb101",
    "nb301": "darts",
    "darts": "darts",
    "tnb-micro": "transnas_micro",
    "tnb-macro": "transnas_macro",
}
"""Space name -> module of this package holding it (as ``SPACE``). ``darts`` and
``nb301`` are one space: either name reads both the DARTS genotype and NASLib's form."""

_LOADED: dict[str, SearchSpace] = {}


def space_names() -> tuple[str, ...]:
    """Every space name, in a fixed order."""
    return tuple(SPACE_MODULES)


def get_space(name: str) -> SearchSpace:
    """The space called ``name``.

    Raises:
        UsageError: an unknown name, or a space whose module is not there.
    """
    if name not in SPACE_MODULES:
        raise UsageError(f"unknown search space {shown(name)}; valid: {', '.join(SPACE_MODULES)}")
    if name not in _LOADED:
        try:
            module = import_module(f".{SPACE_MODULES[name]}", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{SPACE_MODULES[name]}":
                raise
            raise UsageError(f"the {name} space is not available in this version of nnmass") from None
        _LOADED[name] = module.SPACE
    return _LOADED[name]


def split_model(text: str) -> tuple[SearchSpace, str] | None:
    """``(space, arch text)`` for a MODEL string ``PREFIX:ARCH`` of a space, else None."""
    if not isinstance(text, str):
        return None
    prefix, sep, rest = text.partition(":")
    if sep and prefix in SPACE_MODULES:
        return get_space(prefix), rest
    return None
