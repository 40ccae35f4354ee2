"""zen: expressivity of the network under Gaussian weights, BN-variance corrected."""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from .batch import ProxyBatch
from .common import SCORED_LAYERS, finite_or_nan, hooked, logits_of, model_device, model_dtype, run_on, stand_ins
from .registry import register_proxy

#: Size of the input perturbation (ZenNAS's ``mixup_gamma``).
MIXUP_GAMMA = 1e-2

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)


def gaussian_tensors(model: nn.Module, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Stand-in tensors with Zen-NAS's initialisation: conv and linear weights drawn
    ``N(0, 1)`` (``torch.randn`` on ``generator``, in ``model.modules()`` order), their
    biases zero, norm layers' weights one and biases zero, BatchNorm running statistics
    reset; every other tensor as the model has it."""
    tensors = stand_ins(model)
    keys = {id(t): name for name, t in [*model.named_parameters(), *model.named_buffers()]}
    device = model_device(model)

    def put(tensor, value):
        if tensor is not None and id(tensor) in keys:
            tensors[keys[id(tensor)]] = (value.to(device) if isinstance(value, torch.Tensor)
                                         else torch.full_like(tensor, value).detach())

    for m in model.modules():
        if isinstance(m, SCORED_LAYERS):
            put(m.weight, torch.randn(m.weight.shape, generator=generator, dtype=m.weight.dtype))
            put(m.bias, 0)
        elif isinstance(m, _NORMS):
            put(m.weight, 1)
            put(m.bias, 0)
            put(getattr(m, "running_mean", None), 0)
            put(getattr(m, "running_var", None), 1)
            put(getattr(m, "num_batches_tracked", None), 0)
    return tensors


class PreGapFeatures:
    """Catches the features a network pools globally: the input of its last
    ``nn.AdaptiveAvgPool2d`` call; without one, the output of its last leaf module
    with a 4-D output; without that, its logits."""

    def __init__(self, modules: list[nn.Module]):
        self.pools = [m for m in modules if isinstance(m, nn.AdaptiveAvgPool2d)]
        # Leaves are watched only where no pooling module is (hooks on every leaf cost time).
        self.leaves = [] if self.pools else [m for m in modules if next(m.children(), None) is None]
        self.pooled = self.mapped = None

    def _on_pool(self, module, inputs):
        self.pooled = inputs[0]

    def _on_leaf(self, module, inputs, output):
        if isinstance(output, torch.Tensor) and output.dim() == 4:
            self.mapped = output

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Hooks in place for the block."""
        with hooked(self.pools, self._on_pool, pre=True), hooked(self.leaves, self._on_leaf):
            yield

    def of(self, forward, x: torch.Tensor) -> torch.Tensor:
        """The pre-pooling features of ``forward(x)`` (inside :meth:`watching`)."""
        self.pooled = self.mapped = None
        logits = logits_of(forward(x))
        return next(t for t in (self.pooled, self.mapped, logits) if t is not None)


@register_proxy("zen", needs_data=False, needs_labels=False, needs_backward=False,
                samples="N Gaussian samples (N = batch size), from the batch seed")
def zen(model: nn.Module, batch: ProxyBatch) -> float:
    """Zen-score (Lin, Wang, Sun, Chen, Sun, Qian, Li, Jin, "Zen-NAS: A Zero-Shot NAS for
    High-Performance Image Recognition", ICCV 2021)::

        x1, x2 ~ N(0, 1),   f = features before global average pooling
        zen = log E_n[ sum |f(x1) - f(x1 + 0.01 x2)| ] + sum_BN log sqrt(mean_j running_var_j)

    Convention of idstcv/ZenNAS ``compute_zen_score.py`` (and NASLib's ``zen``), one
    repeat: weights re-drawn Gaussian (see :func:`gaussian_tensors`), two forward
    passes in train mode, then the BN correction read from the ``nn.BatchNorm2d``
    running variances those two passes leave (module momentum; BN layers without
    running statistics are skipped). Running statistics start reset, which is the
    references' state for a freshly built network and makes the score depend on the
    architecture only. The features are the input of the last ``nn.AdaptiveAvgPool2d``
    (NB201's ``lastact`` output; see :class:`PreGapFeatures`).

    Random draws: one CPU generator seeded with ``batch.seed`` gives the weights (in
    module order), then ``x1``, then ``x2``, each ``[N, *sample shape]``. Needs no data
    or labels and no backward pass; N samples.
    """
    gen = torch.Generator().manual_seed(batch.seed)
    tensors = gaussian_tensors(model, gen)
    device, dtype = model_device(model), model_dtype(model)
    shape = (batch.size, *batch.sample_shape)
    x1 = torch.randn(shape, generator=gen, dtype=dtype).to(device)
    x2 = torch.randn(shape, generator=gen, dtype=dtype).to(device)
    if x1.dim() == 4:  # channels-last convolutions run faster on CPU; same values up to rounding
        tensors = {k: t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 else t
                   for k, t in tensors.items()}
        x1, x2 = (x.contiguous(memory_format=torch.channels_last) for x in (x1, x2))
    modules = list(model.modules())
    features = PreGapFeatures(modules)
    with run_on(model, tensors, seed=batch.seed) as forward, torch.no_grad(), features.watching():
        diff = (features.of(forward, x1) - features.of(forward, x1 + MIXUP_GAMMA * x2)).abs()
    expressivity = float(diff.reshape(len(diff), -1).sum(1).mean())
    if expressivity <= 0:
        return math.nan
    names = {id(b): name for name, b in model.named_buffers()}
    variances = [tensors[names[id(m.running_var)]].mean() for m in modules
                 if isinstance(m, nn.BatchNorm2d) and m.running_var is not None]
    correction = float(0.5 * torch.stack(variances).log().sum()) if variances else 0.0
    return finite_or_nan(math.log(expressivity) + correction)
