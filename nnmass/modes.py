"""Train or eval mode for a block of code, with every submodule's own flag put back."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn


@contextmanager
def in_mode(model: nn.Module, train: bool) -> Iterator[nn.Module]:
    """Every submodule of ``model`` in train (or eval) mode for the block; each flag
    restored after, also when the block raises. Yields ``model``."""
    flags = [(m, m.training) for m in model.modules()]
    try:
        for m, _ in flags:
            m.training = train
        yield model
    finally:
        for m, training in flags:
            m.training = training
