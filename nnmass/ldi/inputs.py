"""The batch an LDI measurement runs on: seeded Gaussian inputs or real examples."""
from __future__ import annotations

import torch

from ..data.examples import dataset_examples
from ..spec import Spec


def gaussian_inputs(spec: Spec, batch: int, seed: int, device="cpu") -> torch.Tensor:
    """``N(0, 1)`` inputs of the spec's shape from ``torch.Generator().manual_seed(seed)``."""
    from ..models import example_input
    return example_input(spec, batch, seed).to(device)


def gaussian_of_shape(sample_shape, batch: int, seed: int, device="cpu") -> torch.Tensor:
    """``N(0, 1)`` inputs of one sample's shape (a module source's), drawn as
    :func:`gaussian_inputs` draws a spec's."""
    return torch.randn((batch, *sample_shape), generator=torch.Generator().manual_seed(seed)).to(device)


def dataset_batch(data, batch: int, seed: int, device="cpu", split: str = "train") -> torch.Tensor:
    """The inputs of :func:`dataset_examples`, on ``device``."""
    return dataset_examples(data, batch, seed, split)[0].to(device)
