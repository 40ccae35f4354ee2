"""The :class:`Data` container every loader returns, and its batch iterator.

Small sets are *tensor-backed*: the whole split sits on the device and a batch
is an index into it, so no DataLoader, worker or host copy runs per step.
Large sets (ImageNet) are *loader-backed*: a torchvision dataset read through a
DataLoader. ``batches`` hides the difference from the training loop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterator

import torch

from ..errors import UsageError
from ..validate import check_int
from .augment import crop_flip

SPLITS = ("train", "test")


@dataclass(frozen=True, eq=False)  # tensors have no single truth value to compare
class Data:
    """One dataset with a fixed train/test split.

    Attributes:
        name: the dataset name it was loaded under.
        train_x, train_y, test_x, test_y: device tensors (``None`` when loader-backed).
            Images are ``(N, C, H, W)`` float, standardised; labels are int64.
        num_classes: number of classes.
        input_shape: shape of one example, ``(C, H, W)`` for images, ``(D,)`` otherwise.
        augment: ``"crop-flip"`` makes training batches random 4-pixel-padded crops
            and horizontal flips (the standard CIFAR recipe); ``None`` for none.
        train_set, test_set: torch datasets when loader-backed.
        meta: how it was made (source, split seed, normalisation) for the record.
    """

    name: str
    train_x: torch.Tensor | None
    train_y: torch.Tensor | None
    test_x: torch.Tensor | None
    test_y: torch.Tensor | None
    num_classes: int
    input_shape: tuple[int, ...]
    augment: str | None = None
    train_set: object = None
    test_set: object = None
    num_workers: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def input_dim(self) -> int:
        """Features per example once flattened (what an MLP takes)."""
        return math.prod(self.input_shape)

    @property
    def tensor_backed(self) -> bool:
        return self.train_x is not None

    @property
    def device(self) -> torch.device:
        return self.train_x.device if self.tensor_backed else torch.device(self.meta.get("device", "cpu"))

    def size(self, split: str) -> int:
        """Number of examples in ``split``."""
        _check_split(split)
        if self.tensor_backed:
            return len(self.train_y if split == "train" else self.test_y)
        return len(self.train_set if split == "train" else self.test_set)

    def to(self, device) -> "Data":
        """A copy whose tensors live on ``device`` (loader-backed data moves batches)."""
        device = torch.device(device)
        if not self.tensor_backed:
            return replace(self, meta={**self.meta, "device": str(device)})
        move = lambda t: t.to(device, non_blocking=True)
        return replace(self, train_x=move(self.train_x), train_y=move(self.train_y),
                       test_x=move(self.test_x), test_y=move(self.test_y))

    def batches(self, split: str, batch_size: int, generator: torch.Generator | None = None,
                shuffle: bool | None = None, augment: bool | None = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(x, y)`` batches of ``split`` on the data's device.

        Args:
            split: ``"train"`` or ``"test"``.
            batch_size: examples per batch (the last batch may be smaller).
            generator: a CPU ``torch.Generator`` for the order and augmentation; the
                permutation is drawn on the CPU so one seed gives the same batches on
                every device.
            shuffle: defaults to ``True`` for train, ``False`` for test.
            augment: apply ``self.augment``; defaults to ``True`` for train only.
        """
        _check_split(split)
        check_int("batch size", batch_size, 1)
        train = split == "train"
        shuffle = train if shuffle is None else shuffle
        augment = (train if augment is None else augment) and self.augment is not None
        if shuffle and generator is None:
            raise UsageError("shuffled batches need an explicit seeded torch.Generator")
        if not self.tensor_backed:
            yield from self._loader_batches(split, batch_size, generator, shuffle)
            return
        x, y = (self.train_x, self.train_y) if train else (self.test_x, self.test_y)
        n = len(y)
        order = torch.randperm(n, generator=generator).to(x.device) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                xb, yb = x.index_select(0, idx), y.index_select(0, idx)
            if augment:
                xb = crop_flip(xb, generator)
            yield xb, yb

    def _loader_batches(self, split, batch_size, generator, shuffle):
        from torch.utils.data import DataLoader
        dataset = self.train_set if split == "train" else self.test_set
        device = self.device
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator,
                            num_workers=self.num_workers, pin_memory=device.type == "cuda",
                            persistent_workers=False)
        for xb, yb in loader:
            yield xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise UsageError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
