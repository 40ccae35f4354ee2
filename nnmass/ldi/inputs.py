"""The batch an LDI measurement runs on: seeded Gaussian inputs or real data."""
from __future__ import annotations

import dataclasses

import torch

from ..errors import UsageError
from ..spec import DenseCNNSpec, DenseMLPSpec, Spec


def gaussian_inputs(spec: Spec, batch: int, seed: int, device="cpu") -> torch.Tensor:
    """``N(0, 1)`` inputs of the spec's shape from ``torch.Generator().manual_seed(seed)``."""
    from ..models import example_input
    return example_input(spec, batch, seed).to(device)


def dataset_inputs(spec: Spec, name: str, batch: int, seed: int, *, device="cpu", root=None,
                   fixed: frozenset = frozenset()) -> tuple[Spec, torch.Tensor]:
    """``batch`` training examples of dataset ``name`` and the spec adapted to them.

    The examples are drawn without replacement by ``torch.randperm`` from a
    generator seeded with ``seed``. Input keys of the spec (MLP ``input_dim``; CNN
    ``in_channels``, ``input_size``) follow the data unless named in ``fixed``, in
    which case a mismatch is an error.
    """
    from ..data import load_dataset
    data = load_dataset(name, root=root, device=device)
    spec = _fit_spec(spec, name, tuple(data.input_shape), fixed)
    n = len(data.train_x) if data.tensor_backed else len(data.train_set)
    if batch > n:
        raise UsageError(f"batch must be in 1..{n} for {name} (its training examples), got {batch}")
    idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch]
    if data.tensor_backed:
        x = data.train_x[idx.to(data.train_x.device)]
    else:
        x = torch.stack([data.train_set[int(i)][0] for i in idx])
    return spec, x.to(device)


def _fit_spec(spec: Spec, name: str, shape: tuple[int, ...], fixed: frozenset) -> Spec:
    if isinstance(spec, DenseMLPSpec):
        want = {"input_dim": int(torch.tensor(shape).prod())}
    elif isinstance(spec, DenseCNNSpec):
        if len(shape) != 3 or shape[1] != shape[2]:
            raise UsageError(f"dense-cnn needs square images; {name} examples have shape {shape}")
        want = {"in_channels": shape[0], "input_size": shape[1]}
    else:
        return spec
    for key, value in want.items():
        if key in fixed and getattr(spec, key) != value:
            raise UsageError(f"{key}={getattr(spec, key)} does not match {name} ({key} {value}); "
                             f"set {key}={value} or leave it unset")
    # Keep the sampled skips: the input keys do not change the topology.
    return dataclasses.replace(spec, skips=spec.skips, **want)
