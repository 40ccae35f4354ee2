"""TransNAS-Bench-101's seven tasks (Duan et al., CVPR 2021), shared by its micro
and macro spaces, and the ``--set`` keys both take. Torch-free.

Every task reads 256x256 RGB images except ``jigsaw``, which reads 9 tiles of
64x64 (NASLib's and the benchmark's loaders). ``num_classes`` is the width of the
head's output: classes, regression targets, permutations, or the channels of a
dense decoder's output map. The metrics are the benchmark's validation metrics as
NASLib stores them.
"""
from __future__ import annotations

from ..validate import parse_int
from .base import Task

TASKS = {
    "class_scene": Task("class_scene", 63, (3, 256, 256), "validation top-1 accuracy (%), 63 scene classes"),
    "class_object": Task("class_object", 100, (3, 256, 256), "validation top-1 accuracy (%), 100 object classes"),
    "room_layout": Task("room_layout", 9, (3, 256, 256),
                        "negated validation loss of the 9 layout values (NASLib stores -loss; higher is better)"),
    "jigsaw": Task("jigsaw", 1000, (9, 3, 64, 64), "validation top-1 accuracy (%), 1000 tile permutations"),
    "segmentsemantic": Task("segmentsemantic", 17, (3, 256, 256), "validation pixel accuracy (%), 17 classes"),
    "normal": Task("normal", 3, (3, 256, 256), "validation SSIM of the surface-normal map"),
    "autoencoder": Task("autoencoder", 3, (3, 256, 256), "validation SSIM of the reconstructed image"),
}
"""The benchmark's tasks; all their metrics are higher-is-better as NASLib stores them."""

DEFAULT_TASK = "class_scene"

SET_KEYS = ("channels", "num_classes")
"""``channels``: the stem's output channels (the benchmark's 64; even, as the stem
halves them); ``num_classes``: the head's output width."""


def parse_sets(sets: dict, task: Task) -> tuple[int, int]:
    """``(channels, num_classes)`` from checked ``--set`` values (the benchmark's by default)."""
    channels = parse_int(sets.get("channels", 64), "channels", 2, 1024)
    if channels % 2:
        from ..errors import UsageError
        raise UsageError(f"channels must be even (the stem halves them), got {channels}; valid: 2..1024, even")
    classes = parse_int(sets.get("num_classes", task.num_classes), "num_classes", 1, 4096)
    return channels, classes
