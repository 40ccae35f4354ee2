"""One forward pass that records what chosen submodules saw and produced."""
from __future__ import annotations

import torch
from torch import nn

from ..modes import in_mode


def eval_mode(model: nn.Module):
    """Run ``model`` in eval mode, then restore every submodule's own flag.

    BatchNorm in train mode normalises with the batch's statistics, which couples
    the samples: the Jacobian would then not be per sample. Eval mode uses the
    running statistics (mean 0, variance 1 at init), a fixed per-channel affine map.
    """
    return in_mode(model, False)


def capture(model: nn.Module, modules: list[nn.Module], x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(input, output)`` of each module in ``modules`` for one eval-mode forward of ``x``.

    A module called more than once keeps its first call; pass distinct modules.
    """
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook_for(key):
        def hook(module, args, output):
            seen.setdefault(key, (args[0].detach(), output.detach()))
        return hook

    handles = [m.register_forward_hook(hook_for(k)) for k, m in enumerate(modules)]
    try:
        with torch.no_grad(), eval_mode(model):
            model(x)
    finally:
        for h in handles:
            h.remove()
    missing = [k for k in range(len(modules)) if k not in seen]
    if missing:
        raise RuntimeError(f"{len(missing)} layer(s) were not called in the forward pass")
    return [seen[k] for k in range(len(modules))]
