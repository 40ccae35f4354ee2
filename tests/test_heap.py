"""parallel/heap: with glibc's mmap threshold fixed, freed large blocks leave the
process; without it, they stay resident in the heap. Measured on the process's own
resident memory, in a fresh interpreter each way."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

PROGRAM = """
import sys
import numpy as np
from nnmass.parallel.heap import return_freed_memory

def rss_mib():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

if sys.argv[1] == "fixed":
    assert return_freed_memory() and return_freed_memory()  # idempotent
big = np.ones(16 << 17)  # 16 MiB, mapped; freeing it raises glibc's threshold to 16 MiB
del big
blocks = [np.ones(1 << 17) for _ in range(48)]  # 48 blocks of 1 MiB
del blocks[:-1]  # all but the last, which pins the heap's top
before = rss_mib()
print(before)
"""


def resident_after_frees(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def test_freed_blocks_leave_the_process_only_with_the_fixed_threshold():
    kept, returned = resident_after_frees("default"), resident_after_frees("fixed")
    # 47 freed MiB stay resident by default (their pages are in the heap, below the
    # last block); with the fixed threshold each block was its own mapping, gone on free.
    assert kept - returned > 40, (kept, returned)
