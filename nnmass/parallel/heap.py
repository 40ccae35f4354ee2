"""Memory that scoring frees goes back to the operating system at once (glibc, Linux).

glibc's malloc gives a large block its own mapping only while the block is above a
threshold, and raises that threshold to the size of every mapped block freed. After
the first few passes of a network, large tensors therefore come from the heap, whose
pages stay with the process when the tensors are freed and fit the next pass's
tensors only in part. Scoring runs passes of very different shapes one after another
(the data pass, grasp's Hessian product, zen's Gaussian pass), so the resident
memory becomes the sum of several passes' peaks, not the largest one. Fixing the
threshold at glibc's default, 128 KiB, keeps every large tensor in a mapping that
``free`` returns whole: NB101's largest networks, all 13 proxies at batch 16, peak
at 2.9 GB instead of 3.7-3.8 GB (``benchmarks/RESULTS.md``). Values are unchanged.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
THRESHOLD = 128 * 1024  # glibc's own default, no longer raised as blocks are freed

_done = False


def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold for this process (once); False where there is no
    glibc ``mallopt`` (macOS, musl), which changes nothing else."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    _done = bool(mallopt(M_MMAP_THRESHOLD, THRESHOLD))
    return _done
