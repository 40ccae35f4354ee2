"""How glibc's malloc hands memory back while a network is scored (Linux, glibc).

glibc gives a block its own mapping, which ``free`` returns to the system at once,
only above a threshold, and raises that threshold (up to 32 MiB) to the size of every
mapped block freed. After a network's first passes, its large tensors therefore come
from the heap, whose pages stay with the process after the tensors are freed and fit
the next pass's tensors only in part. Scoring runs passes of very different shapes
one after another (the data pass, grasp's Hessian product, zen's Gaussian pass), so
a large network's resident memory grows past its largest pass.

The threshold is therefore set per network: 4 MiB for a network of
:data:`LARGE_PARAMS` parameters or more, the size at which the memory peaks of the
benchmarks' networks approach 4 GB (NB101's largest, all 13 proxies at batch 16:
3.7 GB -> 3.1 GB), for 20-50% more time in fresh page faults on those networks; and
32 MiB, glibc's own ceiling, for every other network, which is what glibc settles
on anyway and costs nothing (a fixed 128 KiB made NB201 scoring 50% slower, and 4 MiB
TransNAS-Bench-101's 10M-parameter encoders' grasp 50% slower). Measured in
``benchmarks/RESULTS.md``. Values are unchanged.

Fixing the mmap threshold also stops glibc from moving its trim threshold (the free
memory at the heap's top it keeps rather than hands back), which then stays at 128 KiB:
every pass gave its top back and faulted it in again on the next. It is set with the
mmap threshold at twice its size, glibc's own rule while both move by themselves.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
LARGE_PARAMS = 20_000_000
LARGE_THRESHOLD = 4 << 20
USUAL_THRESHOLD = 32 << 20

_mallopt = None
current: int | None = None  # the threshold set last (None: glibc's dynamic one)


def set_mmap_threshold(size: int) -> bool:
    """Fix glibc's mmap threshold at ``size`` bytes and its trim threshold at twice that;
    False where there is no glibc ``mallopt`` (macOS, musl), which changes nothing."""
    global _mallopt, current
    if _mallopt is None:
        if not sys.platform.startswith("linux"):
            return False
        try:
            _mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        except (OSError, AttributeError):
            return False
    if size != current and _mallopt(M_MMAP_THRESHOLD, size) and _mallopt(M_TRIM_THRESHOLD, 2 * size):
        current = size
    return current == size


def fit_heap_to(model) -> bool:
    """The threshold for scoring ``model`` (see the module docstring)."""
    params = sum(p.numel() for p in model.parameters())
    return set_mmap_threshold(LARGE_THRESHOLD if params >= LARGE_PARAMS else USUAL_THRESHOLD)
