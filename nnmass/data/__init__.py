"""Datasets as device-resident tensors (small sets) or DataLoader-backed sets (ImageNet).

``load_dataset(name, ...)`` (:mod:`.loading`) is the one entry point; ``DATASETS`` lists
the names. Names are imported on first use, so :mod:`.pixels` and :mod:`.names` load
without torch.
"""
from ..lazy import lazy_exports

_LAZY = {
    "Data": ".base", "PIXELS": ".pixels", "DATASETS": ".names", "load_dataset": ".loading",
    "dataset_examples": ".examples", "stratified_split": ".embedded", "load_digits": ".embedded",
    "load_mnist_5k": ".embedded",
    "load_synthetic": ".synthetic", "load_in_memory": ".torchvision_sets", "load_imagenet": ".torchvision_sets",
}


__getattr__ = lazy_exports(__name__, _LAZY)


__all__ = list(_LAZY)
