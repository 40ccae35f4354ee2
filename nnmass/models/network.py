"""A network for a data set: the MODEL string's module, fitted to the data's inputs and
classes where the user left them to it. ``nnmass proxies``, ``ldi``, ``train`` and
``rank`` all build their networks here, so one rule decides which keys are the user's."""
from __future__ import annotations

import torch
from torch import nn

from ..families import spec_and_fixed_keys
from ..spec import Spec
from ..spec.data_fit import fit_spec_to_data
from . import build, input_shape
from .sources import is_module_source, load_module


def network_for_data(model: str, sets: dict | None = None, seed: int = 0,
                     data=None) -> tuple[nn.Module, tuple[int, ...], Spec | None]:
    """The module MODEL names, its input shape (batch 1) and its spec (None for a module
    source such as ``torchvision:`` or ``nb201:``).

    A family or spec file is fitted to ``data`` (a ``nnmass.data.Data``; None: as named)
    before it is built: its classes and input size follow the data, except the keys the
    user chose (``--set``, or written in the spec file), which must match the data.
    Weights come from ``seed``; a module source draws them from torch's global generator
    seeded with ``seed`` inside a fork, so the caller's generator state is untouched.

    Raises:
        UsageError: a key the user chose does not fit the data, or MODEL is unknown.
    """
    if is_module_source(model):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module, shape = load_module(model, sets)
        return module, shape, None
    spec, fixed = spec_and_fixed_keys(model, sets)
    if data is not None:
        spec = fit_spec_to_data(spec, data, fixed)
    return build(spec, seed=seed), input_shape(spec), spec
