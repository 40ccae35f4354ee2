"""How many torch threads scoring and training use: one per process on a CPU by default.

nnmass runs many small networks; intra-op threads cost more than they give on them
(several times slower on a busy machine), parallelism comes from worker processes,
and one thread makes a result independent of the machine's core count.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def torch_threads(n: int, device="cpu") -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads on a CPU device (a CUDA device
    is left as it is), and give the caller's thread count back afterwards."""
    import torch

    if str(device).startswith("cuda"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
