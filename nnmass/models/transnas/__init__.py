"""TransNAS-Bench-101 networks (Duan et al., CVPR 2021), built as the benchmark
trains them: :mod:`.ops` (cell ops, micro cell, basic block), :mod:`.encoder`,
:mod:`.heads` (the seven tasks' heads and decoders), :mod:`.network`."""
from __future__ import annotations

from .network import TransNASNetwork

__all__ = ["TransNASNetwork", "build_transnas"]


def build_transnas(modules: str, cell, task: str, classes: int, channels: int = 64) -> TransNASNetwork:
    """The network of the module codes ``modules`` (e.g. ``"41414"``) with the micro
    ``cell`` (six op codes) or, for None, the macro space's basic blocks, and
    ``task``'s head of output width ``classes``."""
    return TransNASNetwork(modules, cell, task, classes, channels)
