"""nnmass: NN-Mass of network topology (Bhardwaj, Li, Marculescu, CVPR 2021).

The closed-form parts (``nnmass.topology``, ``nnmass.spec``, ``nnmass.cost``,
``nnmass.design``) import without torch; the torch-based entry points below are
loaded on first use.
"""
from importlib import import_module

__version__ = "0.1.0"

# name -> module that defines it; imported lazily so `import nnmass.topology` stays torch-free.
_LAZY = {
    "measure": "nnmass.trace",
    "MassReport": "nnmass.trace",
    "ldi": "nnmass.ldi",
    "LDIReport": "nnmass.ldi",
    "build": "nnmass.models",
    "spec_for": "nnmass.families",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nnmass' has no attribute {name!r}")


__all__ = list(_LAZY)
