"""Whether a second train-mode forward pass would repeat the first, value for value.

grasp's definition runs the model twice on the same batch (the gradient, then the
Hessian-vector product). Where the second pass is bound to give the first one's
graph and values, the fused scorer takes both from one pass (``nnmass.proxies.fused``).
That holds when

- every module is of a type whose train-mode forward reads only its input, its
  parameters and its submodules (:data:`REPEATABLE`): BatchNorm writes its running
  statistics, but in train mode it normalises with the batch's own, and
- no hook, the model's own or a global one, could change what a module returns or
  passes back, and
- the first pass drew nothing from torch's generators (:func:`generator_states`
  before and after), so dropout and other random layers make the check fail.

A custom module type is never assumed repeatable (it may count its calls or read a
buffer it writes); such a model keeps grasp's two passes.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules import module as _module

from ..models import darts, nb101, nb201, pooling
from ..models.transnas import encoder, heads, network, ops

#: Module types whose train-mode forward is a function of the input and parameters only:
#: torch's plain layers, and the networks of every space nnmass builds (each read for
#: this: no counter, no buffer written, no draw of its own).
REPEATABLE = frozenset({
    nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear,
    nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.Flatten,
    nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d, nn.ConstantPad2d, nn.Dropout,
    nn.Sequential, nn.ModuleList, nn.ModuleDict,
    pooling.ChannelsLastAvgPool2d, pooling.ChannelsLastMaxPool2d,
    nb201.NB201Network, nb201.Cell, nb201.ReductionBlock, nb201.ReLUConvBN, nb201.Zero,
    nb101.NB101Network, nb101.Cell, nb101.ConvBNReLU,
    darts.DartsNetwork, darts.DartsCell, darts.ReLUConvBN, darts.FactorizedReduce,
    network.TransNASNetwork, encoder.Encoder, ops.MicroCell, ops.BasicBlock, ops.FactorizedReduce, ops.Zero,
    heads.LinearHead,
})

_GLOBAL_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
                 "_global_backward_pre_hooks")


def repeatable_modules(model: nn.Module) -> bool:
    """Every module of a :data:`REPEATABLE` type (subclasses excluded) and no forward or
    backward hook on any of them, nor a global one."""
    if any(getattr(_module, name, None) for name in _GLOBAL_HOOKS):
        return False
    return all(type(m) in REPEATABLE and not (m._forward_hooks or m._forward_pre_hooks or m._backward_hooks
                                               or m._backward_pre_hooks)
               for m in model.modules())


def generator_states(device: torch.device) -> list[torch.Tensor] | None:
    """The states of torch's generators a model on ``device`` draws from; None on a
    device whose generator is not read here (then no pass is taken as repeatable)."""
    if device.type not in ("cpu", "cuda"):
        return None
    states = [torch.random.default_generator.get_state()]
    if device.type == "cuda":
        states.append(torch.cuda.get_rng_state(device))
    return states


def same_states(before: list[torch.Tensor] | None, after: list[torch.Tensor] | None) -> bool:
    """Whether no draw happened between the two :func:`generator_states`."""
    if before is None or after is None:
        return False
    return all(torch.equal(a, b) for a, b in zip(before, after))
