"""Fit a spec's input and output sizes to a dataset."""
from __future__ import annotations

from ..errors import UsageError
from .base import Spec
from .dense import DenseCNNSpec, DenseMLPSpec

DATA_KEYS = ("input_dim", "num_classes", "in_channels", "input_size")
"""The spec fields a data set decides, unless the user fixes them."""


def fit_spec_to_data(spec: Spec, data, fixed=(), advice: str = "set {key}={value} or leave it to the dataset"
                      ) -> Spec:
    """``spec`` with its data-dependent fields taken from ``data``.

    Sets ``num_classes`` for every family, ``input_dim`` for MLPs (the flattened
    input), ``in_channels``/``input_size`` for DenseNet-type CNNs and
    ``input_size`` for the torchvision families (which take 3 channels). Sampled
    skips are kept: they depend only on depth, width and tc.

    Args:
        spec: the architecture.
        data: a :class:`nnmass.data.Data` (only its shape and classes are read).
        fixed: names the user set explicitly; for those a value that does not
            match the data is a :class:`UsageError` instead of being replaced.
        advice: what that error tells the user to do, with ``{key}`` and ``{value}``.
    """
    shape = tuple(data.input_shape)
    want = {"num_classes": data.num_classes}
    if isinstance(spec, DenseMLPSpec):
        want["input_dim"] = data.input_dim
    else:
        if len(shape) != 3 or shape[1] != shape[2]:
            raise UsageError(f"{spec.family} takes square images; dataset {data.name} has inputs of shape "
                             f"{shape} (use dense-mlp)")
        if isinstance(spec, DenseCNNSpec):
            want["in_channels"] = shape[0]
        elif shape[0] != 3:
            raise UsageError(f"{spec.family} takes 3-channel images; dataset {data.name} has {shape[0]} "
                             f"(use dense-cnn or dense-mlp)")
        want["input_size"] = shape[1]
    changes = {}
    for key, value in want.items():
        have = getattr(spec, key)
        if have == value:
            continue
        if key in fixed:
            raise UsageError(f"{key}={have} does not fit dataset {data.name}, which needs {key}={value}; "
                             + advice.format(key=key, value=value))
        changes[key] = value
    if not changes:
        return spec
    if hasattr(spec, "skips"):
        changes["skips"] = spec.skips
    return spec.replace(**changes)
