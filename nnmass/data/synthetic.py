"""A seeded Gaussian-mixture classification set, for tests and quick checks."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import UsageError
from ..validate import check_int
from .base import Data


def load_synthetic(seed: int = 0, num_classes: int = 10, dim: int = 32, train_size: int = 2000,
                   test_size: int = 500, separation: float = 1.0, device="cpu") -> Data:
    """``num_classes`` Gaussian clusters in ``dim`` dimensions.

    Class means are drawn from ``N(0, separation^2 / dim * I)`` scaled so that two
    means sit about ``separation * sqrt(2)`` apart; examples are their class mean
    plus ``N(0, I / dim)`` noise (unit expected norm), so ``separation`` alone sets
    how hard the task is. Labels cycle through the classes (balanced). Everything
    comes from ``PCG64(seed)``: train and test are fresh draws of the same mixture.
    """
    for key, value, lo in (("num_classes", num_classes, 2), ("dim", dim, 1),
                           ("train_size", train_size, 1), ("test_size", test_size, 1)):
        check_int(f"synthetic {key}", value, lo)
    if not (isinstance(separation, (int, float)) and np.isfinite(separation) and separation > 0):
        raise UsageError(f"synthetic separation must be a number > 0, got {separation!r}")
    rng = np.random.Generator(np.random.PCG64(seed))
    means = rng.standard_normal((num_classes, dim)) * separation / np.sqrt(dim)

    def draw(n):
        y = np.arange(n) % num_classes
        x = means[y] + rng.standard_normal((n, dim)) / np.sqrt(dim)
        return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.int64)

    train_x, train_y = draw(train_size)
    test_x, test_y = draw(test_size)
    meta = {"source": "gaussian mixture", "seed": seed, "separation": float(separation),
            "train_size": train_size, "test_size": test_size}
    return Data("synthetic", train_x, train_y, test_x, test_y, num_classes, (dim,), meta=meta).to(device)
