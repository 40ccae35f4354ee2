"""Package attributes imported on first use (PEP 562), so that importing a package
does not import torch before one of its torch-using names is asked for."""
from __future__ import annotations

from importlib import import_module


def lazy_exports(package: str, table: dict[str, str]):
    """A module ``__getattr__`` for ``package`` that imports each name of ``table``
    (name -> relative submodule, e.g. ``{"train": ".loop"}``) when it is first used."""
    def __getattr__(name: str):
        if name in table:
            return getattr(import_module(table[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__
