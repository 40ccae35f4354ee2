"""Per-layer singular values, and the chunked batched SVD that produces them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

# Largest Jacobian stack (in elements) handed to one svdvals call: 2^24 float32 = 64 MiB.
MAX_ELEMENTS = 1 << 24


@dataclass
class LayerSpectrum:
    """Singular values of one layer's Jacobians ``J = D W``, for every sample.

    Attributes:
        name: the layer's module path in the model.
        values: ``(batch, positions, k)`` singular values, descending (MLP: 1 position).
        counts: ``(positions,)`` how many of the ``k`` values are structural; the rest
            are zeros contributed by zero padding columns and are not counted.
        positions: ``(positions,)`` flat output positions ``y * W_out + x`` (CNN), or None.
    """

    name: str
    values: torch.Tensor
    counts: torch.Tensor
    positions: torch.Tensor | None = None

    def flat(self) -> torch.Tensor:
        """All structural singular values of the layer, 1-D."""
        k = self.values.shape[-1]
        keep = torch.arange(k, device=self.values.device)[None, :] < self.counts.to(self.values.device)[:, None]
        return self.values.masked_select(keep.expand_as(self.values))


def chunked_svdvals(jacobians: Callable[[int, int], torch.Tensor], batch: int, per_sample: int, dim: int) -> torch.Tensor:
    """``svdvals`` of the Jacobian stacks ``jacobians(start, stop)`` over samples.

    ``per_sample`` is the element count of one sample's matrices; samples are
    grouped so no call exceeds ``MAX_ELEMENTS``, and results are joined along
    ``dim`` (the sample axis of the stack). Small problems take a single call.
    """
    step = max(1, MAX_ELEMENTS // max(per_sample, 1))
    parts = [torch.linalg.svdvals(jacobians(s, min(s + step, batch))) for s in range(0, batch, step)]
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim)


def compress_rows(a: torch.Tensor) -> torch.Tensor:
    """``C = R^T`` from ``a^T = Q R``: ``(..., r, K) -> (..., r, min(r, K))``.

    For every diagonal ``D``, ``D a = (D C) Q^T`` and ``Q^T`` has orthonormal rows,
    so ``D C`` has exactly the singular values of ``D a``. One QR per distinct
    matrix thus turns every per-sample SVD of a wide ``r x K`` Jacobian into one of
    a small ``r x min(r, K)`` matrix, without forming ``D a`` or its Gram matrix
    (which would square the condition number).
    """
    return torch.linalg.qr(a.transpose(-1, -2), mode="r")[1].transpose(-1, -2)
