"""nnmass: NN-Mass of network topology (Bhardwaj, Li, Marculescu, CVPR 2021).

The closed-form parts (``nnmass.topology``, ``nnmass.spec``, ``nnmass.mass``'s closed
forms, ``nnmass.cost``, ``nnmass.design``) import without torch; the torch-based
entry points below are loaded on first use:

- ``nnmass.measure(model, x)``: NN-Mass of any ``nn.Module`` (:mod:`nnmass.mass`);
- ``nnmass.ldi.measure(model, x)``: layerwise Jacobian spectra (:mod:`nnmass.ldi`);
- ``nnmass.build(spec)``, ``nnmass.spec_for(name, sets)``: networks from specs.
"""
from importlib import import_module

__version__ = "0.1.0"

# name -> module that defines it; imported lazily so `import nnmass.topology` stays torch-free.
_LAZY = {
    "measure": "nnmass.mass",
    "MassReport": "nnmass.mass",
    "LDIReport": "nnmass.ldi",
    "build": "nnmass.models",
    "spec_for": "nnmass.families",
}
_SUBPACKAGES = ("ldi", "mass", "models", "proxies", "trace")


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return import_module(f"nnmass.{name}")
    raise AttributeError(f"module 'nnmass' has no attribute {name!r}")


__all__ = list(_LAZY)
