"""parallel/heap: with glibc's mmap threshold fixed below a block's size, a freed block
leaves the process; by default glibc raises the threshold and the block stays resident
in the heap. Measured on the process's own resident memory, in a fresh interpreter."""
import subprocess
import sys

import pytest
from torch import nn

from nnmass.parallel import heap

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

PROGRAM = """
import sys
import numpy as np
from nnmass.parallel.heap import set_mmap_threshold

def rss_mib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

if sys.argv[1] == "fixed":
    assert set_mmap_threshold(1 << 20) and set_mmap_threshold(1 << 20)
big = np.ones(16 << 17)  # 16 MiB, mapped; freeing it raises glibc's threshold to 16 MiB
del big
blocks = [np.ones(2 << 17) for _ in range(24)]  # 24 blocks of 2 MiB
del blocks[:-1]  # all but the last, which pins the heap's top
print(rss_mib())
"""


def resident_after_frees(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


@linux_only
def test_freed_blocks_leave_the_process_only_below_the_fixed_threshold():
    kept, returned = resident_after_frees("default"), resident_after_frees("fixed")
    # 46 freed MiB stay resident by default (heap pages below the last block); with the
    # threshold fixed at 1 MiB each 2 MiB block was its own mapping, gone on free.
    assert kept - returned > 40, (kept, returned)


@linux_only
def test_the_threshold_follows_the_network_size(monkeypatch):
    monkeypatch.setattr(heap, "LARGE_PARAMS", 1000)
    small, large = nn.Linear(10, 10), nn.Linear(100, 100)  # 110 and 10,100 parameters
    assert heap.fit_heap_to(large) and heap.current == heap.LARGE_THRESHOLD
    assert heap.fit_heap_to(small) and heap.current == heap.USUAL_THRESHOLD
    assert sum(p.numel() for p in large.parameters()) >= heap.LARGE_PARAMS > sum(p.numel() for p in small.parameters())
