"""Training: one model (:func:`train`), many small MLPs at once (:func:`train_many`),
with its configuration in :mod:`.config`.

Names are imported on first use, so ``nnmass.train.config`` (what grids read to
normalise settings) loads without torch.
"""
from ..lazy import lazy_exports

_LAZY = {
    "TrainConfig": ".config", "default_config": ".config", "coerce_settings": ".config",
    "TrainResult": ".result", "train": ".loop", "evaluate": ".loop",
    "train_many": ".batched", "train_stacked": ".batched", "StackedDenseMLP": ".batched", "shape_key": ".batched",
    "fit_spec_to_data": "..spec.data_fit",
}


__getattr__ = lazy_exports(__name__, _LAZY)


__all__ = list(_LAZY)
