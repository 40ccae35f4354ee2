"""The batch an LDI measurement runs on: seeded Gaussian inputs or real examples."""
from __future__ import annotations

import torch

from ..errors import UsageError
from ..spec import Spec


def gaussian_inputs(spec: Spec, batch: int, seed: int, device="cpu") -> torch.Tensor:
    """``N(0, 1)`` inputs of the spec's shape from ``torch.Generator().manual_seed(seed)``."""
    from ..models import example_input
    return example_input(spec, batch, seed).to(device)


def dataset_batch(data, batch: int, seed: int, device="cpu", split: str = "train") -> torch.Tensor:
    """``batch`` examples of ``data``'s ``split`` (a ``nnmass.data.Data``), drawn without
    replacement by ``torch.randperm`` from ``torch.Generator().manual_seed(seed)``."""
    n = data.size(split)
    if not 1 <= batch <= n:
        raise UsageError(f"batch must be in 1..{n} for {data.name} (its {split} examples), got {batch}")
    idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch]
    if data.tensor_backed:
        xs = data.train_x if split == "train" else data.test_x
        x = xs[idx.to(xs.device)]
    else:
        dataset = data.train_set if split == "train" else data.test_set
        x = torch.stack([dataset[int(i)][0] for i in idx])
    return x.to(device)
