"""``load_dataset(name, ...)``: the one entry point to every dataset; ``DATASETS`` lists the names."""
from __future__ import annotations

from ..errors import UsageError
from ..validate import check_choice, check_device_available, check_seed
from .base import Data
from .pixels import PIXELS
from .embedded import load_digits, load_mnist_5k
from .synthetic import load_synthetic
from .names import DATASETS
from .torchvision_sets import load_imagenet, load_in_memory


def load_dataset(name: str, root=None, download: bool = False, device="cpu", split_seed: int = 0,
                 pixels: str = "standardised", **options) -> Data:
    """Load dataset ``name`` onto ``device``.

    Args:
        name: one of :data:`DATASETS`.
        root: folder holding the files of an on-disk set (``--data-root``).
        download: let torchvision download an on-disk set into ``root``.
        device: where tensor-backed sets live (and where loader batches are sent).
        split_seed: seeds the train/test split of the embedded sets (official splits
            are used for the torchvision sets) and the draw of ``synthetic``.
        pixels: ``"standardised"`` or ``"unit"`` (in [0, 1]) for the image sets
            (:data:`~nnmass.data.pixels.PIXELS`); ImageNet and ``synthetic`` keep their own.
        **options: ``synthetic``: num_classes, dim, train_size, test_size, separation;
            ``imagenet``: image_size, num_workers.
    """
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    allowed = {"synthetic": {"num_classes", "dim", "train_size", "test_size", "separation"},
               "imagenet": {"image_size", "num_workers"}}.get(name, set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise UsageError(f"option(s) {', '.join(unknown)} do not apply to {name}; "
                         f"valid: {', '.join(sorted(allowed)) or 'none'}")
    check_seed("split seed", split_seed)
    check_choice("pixels", pixels, PIXELS)
    if pixels != "standardised" and name in ("synthetic", "imagenet"):
        raise UsageError(f"pixels={pixels} applies to the image sets, not to {name}")
    check_device_available(str(device))
    if name == "mnist-5k":
        return load_mnist_5k(split_seed, device, pixels)
    if name == "digits":
        return load_digits(split_seed, device, pixels)
    if name == "synthetic":
        return load_synthetic(split_seed, device=device, **options)
    if name == "imagenet":
        return load_imagenet(root, device=device, **options)
    return load_in_memory(name, root, download, device, pixels)
