"""The batch every proxy takes: inputs, integer targets, the number of classes and a seed."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import UsageError
from ..validate import check_int, check_seed


@dataclass(frozen=True, eq=False)
class ProxyBatch:
    """One small batch to score a network on.

    Attributes:
        inputs: ``[N, ...]`` floating-point inputs (e.g. ``[64, 3, 32, 32]``).
        targets: ``[N]`` integer class labels in ``[0, num_classes)``.
        num_classes: the number of classes of the task.
        seed: seeds every random choice a proxy makes itself (zen's Gaussian inputs
            and weights, and any dropout inside the model); the data are fixed.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    num_classes: int
    seed: int = 0

    def __post_init__(self):
        x, y = self.inputs, self.targets
        if not isinstance(x, torch.Tensor) or x.dim() < 2 or not x.is_floating_point():
            raise UsageError("batch inputs must be a floating-point tensor [N, ...] with N samples, got "
                             f"{type(x).__name__} {tuple(getattr(x, 'shape', ()))}")
        if x.shape[0] < 1:
            raise UsageError("batch inputs must hold at least one sample")
        check_int("num_classes", self.num_classes, 1)
        if not isinstance(y, torch.Tensor) or y.dim() != 1 or y.shape[0] != x.shape[0] \
                or y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise UsageError(f"batch targets must be an integer tensor [{x.shape[0]}], got "
                             f"{getattr(y, 'dtype', type(y).__name__)} {tuple(getattr(y, 'shape', ()))}")
        if int(y.min()) < 0 or int(y.max()) >= self.num_classes:
            raise UsageError(f"batch targets must lie in [0, {self.num_classes}), got "
                             f"{int(y.min())}..{int(y.max())}")
        check_seed("seed", self.seed)

    @property
    def size(self) -> int:
        """The number of samples."""
        return int(self.inputs.shape[0])

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample, e.g. ``(3, 32, 32)``."""
        return tuple(self.inputs.shape[1:])


def gaussian_batch(sample_shape=(3, 32, 32), *, batch_size: int = 64, num_classes: int = 10, seed: int = 0,
                   device=None) -> ProxyBatch:
    """A batch of standard-normal inputs with uniform random labels, both drawn from one
    CPU ``torch.Generator`` seeded with ``seed`` (so CPU and CUDA get the same numbers).

    Args:
        sample_shape: the shape of one sample.
        batch_size: the number of samples (64 is the batch the NASLib scores use).
        num_classes: labels are drawn from ``[0, num_classes)``.
        seed: seeds the inputs, the labels and the batch's own ``seed``.
        device: where the tensors go (default CPU).
    """
    check_int("batch_size", batch_size, 1)
    check_int("num_classes", num_classes, 1)
    check_seed("seed", seed)
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn((batch_size, *sample_shape), generator=gen)
    targets = torch.randint(0, num_classes, (batch_size,), generator=gen)
    return ProxyBatch(inputs.to(device), targets.to(device), num_classes, seed)
