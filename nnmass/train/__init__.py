"""Training: one model (:func:`train`), many small MLPs at once (:func:`train_many`)."""
from .adapt import fit_spec_to_data
from .batched import StackedDenseMLP, shape_key, train_many, train_stacked
from ..trainconfig import TrainConfig, default_config
from .loop import evaluate, train
from .result import TrainResult

__all__ = ["TrainConfig", "default_config", "TrainResult", "train", "evaluate", "train_many",
           "train_stacked", "StackedDenseMLP", "shape_key", "fit_spec_to_data"]
