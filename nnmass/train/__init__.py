"""Training: one model (:func:`train`), many small MLPs at once (:func:`train_many`),
with its configuration in :mod:`.config`.

Names are imported on first use, so ``nnmass.train.config`` (what grids read to
normalise settings) loads without torch.
"""
from importlib import import_module

_LAZY = {
    "TrainConfig": ".config", "default_config": ".config", "coerce_settings": ".config",
    "TrainResult": ".result", "train": ".loop", "evaluate": ".loop",
    "train_many": ".batched", "train_stacked": ".batched", "StackedDenseMLP": ".batched", "shape_key": ".batched",
    "fit_spec_to_data": ".adapt",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = list(_LAZY)
