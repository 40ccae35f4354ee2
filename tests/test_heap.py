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


def last_number(program: str, mode: str) -> float:
    """The last number ``program`` prints, run in a fresh interpreter with ``mode``."""
    out = subprocess.run([sys.executable, "-c", program, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


@linux_only
def test_freed_blocks_leave_the_process_only_below_the_fixed_threshold():
    kept, returned = last_number(PROGRAM, "default"), last_number(PROGRAM, "fixed")
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


FAULTS = """
import resource, sys
import numpy as np
from nnmass.parallel import heap

if sys.argv[1] == "mmap-only":  # the mmap threshold fixed alone, glibc's trim threshold left at 128 KiB
    assert heap._mallopt is None and heap.set_mmap_threshold(16 << 20)
    heap._mallopt(heap.M_TRIM_THRESHOLD, 128 << 10)
else:
    assert heap.set_mmap_threshold(16 << 20)

def one_pass():  # 32 blocks of 512 KiB on the heap's top, written, then all freed
    blocks = [np.ones(1 << 16) for _ in range(32)]
    del blocks

one_pass()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    one_pass()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@linux_only
def test_the_heap_top_a_pass_freed_stays_for_the_next_pass():
    # 16 MiB per pass, from the heap (a 16 MiB mmap threshold): with glibc's 128 KiB trim
    # threshold it is given back after each pass and every page faults in again (4,096 a
    # pass); under the 32 MiB trim threshold set with it, the later passes fault almost nothing.
    given_back, kept = last_number(FAULTS, "mmap-only"), last_number(FAULTS, "both")
    assert given_back > 5 * 3000, given_back
    assert kept < 500, kept
