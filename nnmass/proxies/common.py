"""What the proxies share: running a model on stand-in tensors, hooks, the scored layers.

No proxy copies the model. Those that run it call ``torch.func.functional_call`` on
stand-in tensors (parameters detached, buffers cloned), so the model's own
parameters, buffers and ``.grad`` are never written; train/eval flags are set for
the run and restored after, and hooks are removed after.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ..errors import UsageError
from ..modes import in_mode
from .batch import ProxyBatch

#: The layers whose weights the per-weight proxies sum over. zero-cost-nas and NASLib
#: sum ``nn.Conv2d`` and ``nn.Linear``; 1-D and 3-D convolutions are the same operator.
SCORED_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (CPU if it has none)."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of the model's first floating-point parameter (float32 if none)."""
    for t in model.parameters():
        if t.is_floating_point():
            return t.dtype
    return torch.float32


def batch_on(model: nn.Module, batch: ProxyBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's inputs (in the model's float dtype) and targets, on the model's device."""
    device = model_device(model)
    return batch.inputs.to(device=device, dtype=model_dtype(model)), batch.targets.to(device)


def finite_or_nan(value) -> float:
    """``value`` as a float, or nan where it is not finite (the package's one rule)."""
    value = float(value)
    return value if math.isfinite(value) else math.nan


def saliency_sum(weights: list[torch.Tensor], grads) -> float:
    """``sum |W * dR/dW|`` over the weights, for snip (R the loss) and synflow (R the
    synaptic flow); a ``None`` gradient, an unused weight, adds 0."""
    with torch.no_grad():
        return finite_or_nan(sum((w * g).abs().sum() for w, g in zip(weights, grads) if g is not None))


class UndefinedScore(Exception):
    """Raised inside a proxy where its value has no meaning on this network (e.g. the
    cross-entropy of one logit is constant); the registry turns it into nan."""


#: The dict entries read as logits, in this order.
LOGITS_KEYS = ("logits", "out")


def logits_of(output) -> torch.Tensor:
    """The logits of a forward pass: the output itself, the first tensor of a tuple or
    list (torchvision's googlenet and inception_v3 return ``(logits, aux...)`` in train
    mode: the main head), or the ``logits`` (else ``out``) entry of a dict. They must
    be ``[N, classes, ...]``."""
    found = output
    if isinstance(output, (tuple, list)):
        found = next((o for o in output if isinstance(o, torch.Tensor)), None)
    elif isinstance(output, dict):
        found = next((output[k] for k in LOGITS_KEYS if isinstance(output.get(k), torch.Tensor)), None)
    if not isinstance(found, torch.Tensor):
        raise UsageError("the model must return logits: a tensor, a tuple or list whose first tensor they are, "
                         f"or a dict with a 'logits' or 'out' tensor; got {type(output).__name__}")
    if found.dim() < 2:
        raise UsageError(f"the model must return logits [N, classes], got a tensor of shape {tuple(found.shape)}")
    return found


def loss_of(output, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy, the loss the reference implementations use; undefined on a
    network with one logit, whose cross-entropy is 0 whatever the weights.

    A dense output ``[N, C, H, W]`` (a segmentation or image-to-image head) with one
    label per sample is scored per position, every position of a sample taking that
    sample's label: the mean cross-entropy over samples and positions."""
    logits = logits_of(output)
    if logits.shape[1] == 1:
        raise UndefinedScore("one logit: the cross-entropy is constant")
    if logits.dim() > 2 and targets.dim() == 1:
        targets = targets.view(-1, *[1] * (logits.dim() - 2)).expand(len(targets), *logits.shape[2:])
    return F.cross_entropy(logits, targets)


def needs_weights(weights: list) -> list:
    """``weights``, or :class:`UndefinedScore` when there are none to score."""
    if not weights:
        raise UndefinedScore("no conv or linear weights")
    return weights


def scored_layers(model: nn.Module) -> list[nn.Module]:
    """The convolution and linear layers, in module order, each once."""
    return [m for m in model.modules() if isinstance(m, SCORED_LAYERS) and m.weight is not None]


def stand_ins(model: nn.Module) -> dict[str, torch.Tensor]:
    """Tensors to run ``model`` on instead of its own, keyed by its de-duplicated names
    (so tied tensors stay tied): each parameter detached (same storage, never written;
    it requires grad so proxies can differentiate by it), each buffer cloned (train-mode
    BatchNorm writes its running statistics into the clone)."""
    tensors = {name: p.detach().requires_grad_(True) for name, p in model.named_parameters()}
    tensors.update((name, b.clone()) for name, b in model.named_buffers())
    return tensors


def weight_names(model: nn.Module) -> list[str]:
    """The stand-in keys of the scored layers' weights, in module order."""
    names = {id(p): name for name, p in model.named_parameters()}
    seen, out = set(), []
    for m in scored_layers(model):
        name = names.get(id(m.weight))
        if name is not None and name not in seen:
            seen.add(name)
            out.append(name)
    return out


@contextmanager
def seeded_model_rng(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's global generators for randomness inside the model (dropout), and give
    the caller's generator states back afterwards."""
    cuda = [device.index if device.index is not None else torch.cuda.current_device()] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.random.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


@contextmanager
def run_on(model: nn.Module, tensors: dict[str, torch.Tensor], *, train: bool = True,
           seed: int = 0) -> Iterator[Callable[..., object]]:
    """Yield ``forward(*args)``: ``model`` called on ``tensors`` instead of its own
    parameters and buffers, with every submodule in train (or eval) mode and the model's
    own randomness seeded. Flags and generator states are restored on exit."""
    with in_mode(model, train), seeded_model_rng(seed, model_device(model)):
        yield lambda *args: functional_call(model, tensors, args)


def weight_gradients(model: nn.Module, batch: ProxyBatch) -> tuple[list[torch.Tensor], tuple]:
    """The conv and linear weights (as stand-ins) and ``dL/dW`` for the batch's mean
    cross-entropy, in train mode; an unused weight's gradient is ``None``."""
    x, y = batch_on(model, batch)
    tensors = stand_ins(model)
    weights = needs_weights([tensors[name] for name in weight_names(model)])
    with run_on(model, tensors, seed=batch.seed) as forward:
        return weights, torch.autograd.grad(loss_of(forward(x), y), weights, allow_unused=True)


@contextmanager
def hooked(modules: Iterable[nn.Module], hook: Callable, *, pre: bool = False) -> Iterator[None]:
    """Forward hooks (or pre-hooks) on ``modules`` for the duration of the block."""
    handles = []
    try:
        for m in modules:
            handles.append(m.register_forward_pre_hook(hook) if pre else m.register_forward_hook(hook))
        yield
    finally:
        for h in handles:
            h.remove()
