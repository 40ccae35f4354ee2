"""Which networks LDI measures, and one line naming why for the others.

A measured layer is a conv (or hidden linear) whose spectrum is the exact Jacobian of
its own map ``J_i = D_i W_i`` (:mod:`.layer_paths`): every output channel of the layer
comes from that one conv, through its BatchNorm, sums with other operands held fixed
and the activation it feeds. Of the NAS benchmarks' spaces this holds for NB101 (every
conv is conv-BN-ReLU), NB201 and TransNAS-Bench-101's class and regression networks
(pre-activation ReLU-conv-BN edges summed at nodes, ResNet basic blocks). It fails
where a structure puts a second conv or a shared BatchNorm on a layer's map:

- a factorized reduction (DARTS's reduction skips and input projections, a
  TransNAS-Bench-101 skip edge that changes size): two convs concatenated, then one
  BatchNorm over both, which no single layer's path reaches;
- DARTS's separable and dilated convs: a depthwise conv straight into a pointwise
  conv, one linear layer ``W_pw W_dw`` that the traced path would split in two;
- TransNAS-Bench-101's dense decoders: transposed convs, which are not measured;
- jigsaw: one encoder run on 9 tiles, so each layer has 9 inputs at once.
"""
from __future__ import annotations

from torch import nn

from ..errors import UsageError

SUPPORTED = ("dense-mlp, dense-cnn, torchvision ResNet/WRN, MobileNetV2, VGG, DenseNet, nb101:, nb201:, and "
             "tnb-micro:/tnb-macro: with a class or regression task (class_scene, class_object, room_layout) "
             "and no size-changing skip edge")

_FACTORIZED = ("has a factorized reduction ({name}): two convs concatenated and then normalised by one "
               "BatchNorm, whose output no single layer owns")


def check_measurable(model: nn.Module) -> None:
    """Refuse, in one line, a model whose layers' Jacobians LDI cannot measure exactly.

    Raises:
        UsageError: naming the problem and the networks LDI applies to.
    """
    problem = measurable_problem(model)
    if problem is not None:
        raise UsageError(f"LDI does not apply to {problem}; it applies to {SUPPORTED}")


def measurable_problem(model: nn.Module) -> str | None:
    """Why ``model``'s layers have no exact ``J_i = D_i W_i`` here, or None if they do."""
    from ..models.darts import DartsNetwork
    from ..models.dense import DenseCNN, DenseMLP
    from ..models.nb101 import NB101Network
    from ..models.nb201 import NB201Network
    from ..models.transnas.network import TransNASNetwork
    from .traced import torchvision_types

    if isinstance(model, (DenseMLP, DenseCNN, NB101Network, NB201Network, *torchvision_types())):
        return None
    if isinstance(model, DartsNetwork):
        return ("a DARTS (nb301:/darts:) network: its separable and dilated convs are a depthwise conv straight "
                "into a pointwise conv (one linear layer, not two), and its reductions are factorized (two convs "
                "concatenated, then one BatchNorm that no single layer owns)")
    if isinstance(model, TransNASNetwork):
        return _transnas_problem(model)
    return f"{type(model).__name__} (a network nnmass does not build)"


def _transnas_problem(model) -> str | None:
    from ..models.transnas.ops import FactorizedReduce
    what = f"this TransNAS-Bench-101 {model.task} network"
    if model.task == "jigsaw":
        return f"{what}: it runs one encoder on 9 tiles, so each layer reads 9 inputs and has no single Jacobian"
    if any(isinstance(m, nn.ConvTranspose2d) for m in model.modules()):
        return f"{what}: its decoder's transposed convs are layers the traced path does not measure"
    for name, m in model.named_modules():
        if isinstance(m, FactorizedReduce):
            return f"{what}: a skip edge that changes size " + _FACTORIZED.format(name=name)
    return None
