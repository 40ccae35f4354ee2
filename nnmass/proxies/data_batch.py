"""A :class:`ProxyBatch` of real examples from a loaded dataset."""
from __future__ import annotations

import math

from ..errors import UsageError
from ..validate import check_int
from ..data.examples import dataset_examples
from .batch import ProxyBatch


def data_batch(data, batch_size: int, *, seed: int = 0, split: str = "train",
               sample_shape: tuple[int, ...] | None = None) -> ProxyBatch:
    """``batch_size`` examples of ``data``'s ``split`` (an ``nnmass.data.Data``) with their
    labels, drawn without replacement by ``torch.randperm`` on a CPU generator seeded
    with ``seed`` (``nnmass.data.examples.dataset_examples``, the draw LDI uses).

    Args:
        sample_shape: reshape each example to this shape (e.g. ``(784,)`` for an MLP);
            it must hold the same number of values. Default: the data's own shape.
        seed: also the batch's ``seed`` (each proxy's own draws).

    Raises:
        UsageError: a batch larger than the split, or a shape of another size.
    """
    check_int("batch", batch_size, 1)  # dataset_examples bounds it by the split's size
    x, y = dataset_examples(data, batch_size, seed, split)
    if sample_shape is not None and tuple(sample_shape) != tuple(x.shape[1:]):
        if math.prod(sample_shape) != math.prod(x.shape[1:]):
            raise UsageError(f"{data.name} examples have shape {tuple(x.shape[1:])}, which cannot be read as "
                             f"the network's input shape {tuple(sample_shape)}")
        x = x.reshape(len(x), *sample_shape)
    return ProxyBatch(x, y.long(), int(data.num_classes), seed)
