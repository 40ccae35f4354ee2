"""Saved activations spilled to disk past a memory budget, bit for bit.

Autograd keeps the tensors each backward step needs (its saved tensors) until that
step runs. On TransNAS-Bench-101's 256x256 networks at batch 16 they are most of a
scoring run's memory, and grasp's double backward holds about twice what a plain
backward pass does: the largest macro network's plain pass alone peaks at 5.8 GB.

Inside :func:`spilled_past`, once the process's resident memory exceeds the budget,
each saved CPU tensor of at least :data:`MIN_BYTES` is written to a temporary file
and read back when the backward step needs it: the same bytes, dtype, shape and
strides, so every value computed from it is unchanged. Autograd re-attaches the
tensor read back to the graph, so double backward (grasp) works through it. The
cost is the disk traffic; smaller networks never reach the budget and never write.
The files go to a new folder in the temporary directory (``TMPDIR``; on a RAM-backed
tmpfs they would take the memory back, so point it at a disk), each deleted when the
graph lets go of its tensor, the folder when the scoring ends.

Scoring arms it (:func:`spilling_for`) where one batch of inputs takes
:data:`ARM_INPUT_BYTES` or more: TransNAS-Bench-101's 256x256 images, ImageNet-size
inputs. CIFAR-size networks (NB101, NB201, NB301) fit in memory and do not pay for the
hooks (a Python call per saved tensor; ``benchmarks/RESULTS.md`` has a timing).

The budget is :data:`DEFAULT_BUDGET_MB`, or ``NNMASS_SPILL_MB`` from the environment
(``0``: never spill; the CLI checks the value before it starts). Where resident memory
cannot be read (no ``/proc``), nothing is spilled. Importing this module loads neither
torch nor numpy.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import UsageError

if TYPE_CHECKING:
    import torch

DEFAULT_BUDGET_MB = 1024
"""Resident memory above which saved tensors go to disk: torch, the model and the batch
take 0.7-0.8 GB on TransNAS-Bench-101. The rest of memory is left to what a step
creates: grasp's Hessian product holds a gradient for every activation of the network
at once (the autograd engine runs the whole backward graph before the forward one),
which no hook can move. ``benchmarks/RESULTS.md`` has the measurements."""

ARM_INPUT_BYTES = 1 << 20
"""A batch of inputs this large arms spilling (16 CIFAR images take 192 KiB, 16
TransNAS-Bench-101 images 12 MiB)."""

MIN_BYTES = 4 << 20
"""Smaller tensors stay in memory (NB201's largest activation at batch 16 is 1 MiB)."""

ENV = "NNMASS_SPILL_MB"

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def budget_bytes() -> int | None:
    """The budget in bytes from ``NNMASS_SPILL_MB`` (default :data:`DEFAULT_BUDGET_MB`);
    None when it is 0 (spilling off)."""
    text = os.environ.get(ENV, str(DEFAULT_BUDGET_MB)).strip()
    try:
        mb = int(text)
    except ValueError:
        mb = -1
    if mb < 0:
        raise UsageError(f"{ENV} must be a whole number of MB, 0 (never spill) or more, got {text!r}")
    return mb << 20 if mb else None


def resident_bytes() -> int | None:
    """The process's resident memory now (Linux ``/proc/self/statm``), or None."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class _OnDisk:
    """One saved tensor in its own file: its bytes in memory order, and what rebuilds it."""

    __slots__ = ("path", "dtype", "shape", "order")

    def __init__(self, tensor: torch.Tensor, folder: Path, index: int):
        import torch
        self.order = _memory_order(tensor)
        dense = tensor.detach().permute(self.order)  # contiguous where the tensor is dense
        self.path, self.dtype, self.shape = folder / f"{index}.bin", tensor.dtype, tuple(dense.shape)
        dense.reshape(-1).view(torch.uint8).numpy().tofile(self.path)

    def read(self) -> torch.Tensor:
        import numpy as np
        import torch
        data = torch.from_numpy(np.fromfile(self.path, dtype=np.uint8))
        dense = data.view(self.dtype).view(self.shape)
        inverse = [self.order.index(d) for d in range(len(self.order))]
        return dense.permute(inverse)

    def __del__(self):  # the graph let go of it: its file is no longer needed
        try:
            os.unlink(self.path)
        except Exception:  # noqa: BLE001 - gone already, or the interpreter is ending: the folder goes anyway
            pass


def _memory_order(tensor: torch.Tensor) -> list[int]:
    """The dimensions from the largest stride to the smallest."""
    return sorted(range(tensor.dim()), key=lambda d: -tensor.stride(d))


def _spillable(tensor: torch.Tensor) -> bool:
    """A dense CPU tensor whose memory order a permutation makes contiguous."""
    if tensor.nbytes < MIN_BYTES or tensor.device.type != "cpu" or tensor.is_sparse:
        return False
    return tensor.permute(_memory_order(tensor)).is_contiguous()


@contextmanager
def spilled_past(budget: int | None = None) -> Iterator[dict]:
    """Spill saved tensors to disk while resident memory is above ``budget`` bytes
    (default: :func:`budget_bytes`). Yields a dict counting ``tensors`` and ``bytes``
    written. The folder is removed on exit; graphs built inside must be released
    before it (scoring releases each pass's graph inside)."""
    budget = budget_bytes() if budget is None else budget
    counts = {"tensors": 0, "bytes": 0}
    if budget is None or resident_bytes() is None:
        yield counts
        return
    import torch
    folder = Path(tempfile.mkdtemp(prefix="nnmass-spill-"))

    def pack(tensor: torch.Tensor):
        if not _spillable(tensor) or resident_bytes() <= budget:
            return tensor
        try:
            saved = _OnDisk(tensor, folder, counts["tensors"] + 1)
        except (OSError, RuntimeError, TypeError):  # a full disk, a dtype numpy lacks: keep it in memory
            return tensor
        counts["tensors"] += 1
        counts["bytes"] += tensor.nbytes
        return saved

    def unpack(saved):
        return saved.read() if isinstance(saved, _OnDisk) else saved

    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            yield counts
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def spilling_for(inputs: torch.Tensor):
    """:func:`spilled_past` with the default budget where ``inputs`` (one batch, on the
    CPU: device memory is not spilled) take :data:`ARM_INPUT_BYTES` or more, else a
    context that does nothing."""
    if inputs.nbytes < ARM_INPUT_BYTES or inputs.device.type != "cpu":
        return nullcontext({"tensors": 0, "bytes": 0})
    return spilled_past()
