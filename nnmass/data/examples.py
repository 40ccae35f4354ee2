"""Seeded draws of a data set's examples (what LDI and the proxies' data batches read)."""
from __future__ import annotations

import torch

from ..errors import UsageError


def dataset_examples(data, batch: int, seed: int, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` examples of ``data``'s ``split`` (a ``nnmass.data.Data``) and their labels,
    drawn without replacement by ``torch.randperm`` from ``torch.Generator().manual_seed(seed)``."""
    n = data.size(split)
    if not 1 <= batch <= n:
        raise UsageError(f"batch must be in 1..{n} for {data.name} (its {split} examples), got {batch}")
    idx = torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:batch]
    if data.tensor_backed:
        xs, ys = (data.train_x, data.train_y) if split == "train" else (data.test_x, data.test_y)
        return xs[idx.to(xs.device)], ys[idx.to(ys.device)]
    dataset = data.train_set if split == "train" else data.test_set
    pairs = [dataset[int(i)] for i in idx]
    return torch.stack([p[0] for p in pairs]), torch.tensor([int(p[1]) for p in pairs])
