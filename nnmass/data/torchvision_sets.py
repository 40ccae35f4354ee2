"""Real datasets read by torchvision from ``--data-root`` (or downloaded with ``--download``).

MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100 fit in memory: they are read once,
scaled to [0, 1], standardised with the training split's per-channel mean/std and
kept as device tensors. Their train/test split is the official one. ImageNet
(``root/train`` and ``root/val`` class folders) stays loader-backed with the
standard transforms. torchvision checks the files itself (CIFAR by MD5), so a
missing or damaged file is reported here as one line naming the path.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..errors import UsageError
from .base import Data
from .pixels import scale_pixels

# name -> (torchvision class name, sub-folder torchvision reads, augmentation)
IN_MEMORY = {
    "mnist": ("MNIST", "MNIST/raw", None),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw", None),
    "cifar10": ("CIFAR10", "cifar-10-batches-py", "crop-flip"),
    "cifar100": ("CIFAR100", "cifar-100-python", "crop-flip"),
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _need_root(name: str, root) -> Path:
    if root is None:
        raise UsageError(f"dataset {name!r} is read from disk: pass --data-root DIR (add --download to fetch it)")
    return Path(root)


def load_in_memory(name: str, root, download: bool = False, device="cpu", pixels: str = "standardised") -> Data:
    """MNIST / Fashion-MNIST / CIFAR-10 / CIFAR-100 as device tensors."""
    import torchvision.datasets as tvd
    cls_name, folder, augment = IN_MEMORY[name]
    root = _need_root(name, root)
    cls = getattr(tvd, cls_name)
    try:
        train = cls(str(root), train=True, download=download)
        test = cls(str(root), train=False, download=download)
    except RuntimeError:
        raise UsageError(f"{name} files missing or corrupted under {root / folder}; "
                         f"pass --data-root DIR holding them, or --download") from None
    except OSError as e:  # download failures (offline, refused) surface as URLError/OSError
        raise UsageError(f"could not download {name} into {root}: {getattr(e, 'reason', e)}") from None
    train_x, train_y = _as_tensors(train)
    test_x, test_y = _as_tensors(test)
    train_x, test_x, how = scale_pixels(train_x, test_x, pixels)
    meta = {"source": f"torchvision.datasets.{cls_name}", "root": str(root), "split": "official", **how}
    return Data(name, train_x, train_y, test_x, test_y, len(train.classes), tuple(train_x.shape[1:]),
                augment=augment, meta=meta).to(device)


def _as_tensors(ds) -> tuple[torch.Tensor, torch.Tensor]:
    data = ds.data
    if isinstance(data, np.ndarray):  # CIFAR: (N, H, W, C) uint8
        x = torch.from_numpy(data).permute(0, 3, 1, 2)
    else:  # MNIST family: (N, H, W) uint8 tensor
        x = data.unsqueeze(1)
    y = torch.as_tensor(np.asarray(ds.targets), dtype=torch.int64)
    return x.float().div_(255.0).contiguous(), y


def load_imagenet(root, device="cpu", image_size: int = 224, num_workers: int | None = None) -> Data:
    """ImageNet-style class folders ``root/train/<class>/*`` and ``root/val/<class>/*``.

    Train: random-resized crop to ``image_size`` and horizontal flip; val: resize to
    ``image_size * 256 / 224`` then centre crop. Both normalise with the usual
    ImageNet mean/std. Augmentation runs in DataLoader workers, which torch seeds
    from the loader's generator, so it is reproducible from the training seed.
    """
    from torchvision import datasets, transforms as T
    root = _need_root("imagenet", root)
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise UsageError(f"imagenet folder {root / split} not found; pass --data-root DIR "
                             f"holding train/ and val/ class folders")
    norm = T.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    train_tf = T.Compose([T.RandomResizedCrop(image_size), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    val_tf = T.Compose([T.Resize(int(round(image_size * 256 / 224))), T.CenterCrop(image_size), T.ToTensor(), norm])
    try:
        train = datasets.ImageFolder(str(root / "train"), transform=train_tf)
        val = datasets.ImageFolder(str(root / "val"), transform=val_tf)
    except FileNotFoundError as e:
        raise UsageError(f"imagenet: {e}; pass --data-root DIR holding train/ and val/ class folders") from None
    if train.classes != val.classes:
        raise UsageError(f"imagenet: {root / 'train'} and {root / 'val'} hold different class folders")
    # At least one worker: the main process would draw augmentation from the global RNG.
    workers = max(1, min(8, os.cpu_count() or 1)) if num_workers is None else max(1, num_workers)
    meta = {"source": "torchvision.datasets.ImageFolder", "root": str(root), "split": "train/ and val/",
            "image_size": image_size, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
            "device": str(torch.device(device))}
    return Data("imagenet", None, None, None, None, len(train.classes), (3, image_size, image_size),
                augment="random-resized-crop-flip", train_set=train, test_set=val, num_workers=workers,
                meta=meta)
