"""The data set names, torch-free, so that command lines and grids can list them
before anything imports torch (``load_dataset`` refuses any other name)."""

EMBEDDED = ("mnist-5k", "digits")
SYNTHETIC = ("synthetic",)
ON_DISK = ("mnist", "fashion-mnist", "cifar10", "cifar100", "imagenet")
"""The torchvision sets held in memory (:data:`.torchvision_sets.IN_MEMORY`), then ImageNet."""
DATASETS = EMBEDDED + SYNTHETIC + ON_DISK
