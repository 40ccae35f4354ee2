"""Standard architectures, built by torchvision's own constructors so our counts
are checked against the networks users actually run."""
from __future__ import annotations

from torch import nn

from ..spec import VGG_CONFIGS, DenseNetSpec, MobileNetV2Spec, ResNetSpec, VGGSpec


def build_mobilenet_v2(spec: MobileNetV2Spec) -> nn.Module:
    from torchvision.models import mobilenet_v2
    return mobilenet_v2(width_mult=spec.width_mult, num_classes=spec.num_classes,
                        inverted_residual_setting=[list(s) for s in spec.stages()])


def build_resnet(spec: ResNetSpec) -> nn.Module:
    from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
    block = Bottleneck if spec.block == "bottleneck" else BasicBlock
    net = ResNet(block, list(spec.layers), num_classes=spec.num_classes, width_per_group=spec.width_per_group)
    if spec.widen != 1:
        _widen_stages(net, spec)
    return net


def _widen_stages(net: nn.Module, spec: ResNetSpec) -> None:
    """Rebuild the four stages of a torchvision ResNet at ``spec.stage_planes()``
    (Wide-ResNet's k for basic blocks), with torchvision's own stage builder and init."""
    from torchvision.models.resnet import BasicBlock
    net.inplanes = 64  # the stem is not widened
    for i, (planes, n) in enumerate(zip(spec.stage_planes(), spec.layers)):
        setattr(net, f"layer{i + 1}", net._make_layer(BasicBlock, planes, n, stride=1 if i == 0 else 2))
    net.fc = nn.Linear(net.inplanes, spec.num_classes)
    for m in net.modules():  # as ResNet.__init__ does for its own layers
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def build_densenet(spec: DenseNetSpec) -> nn.Module:
    from torchvision.models import DenseNet
    return DenseNet(growth_rate=spec.growth_rate, block_config=spec.block_config,
                    num_init_features=spec.num_init_features, bn_size=spec.bn_size,
                    num_classes=spec.num_classes)


def build_vgg(spec: VGGSpec) -> nn.Module:
    from torchvision.models.vgg import VGG, make_layers
    return VGG(make_layers(list(VGG_CONFIGS[spec.config]), batch_norm=spec.batch_norm),
               num_classes=spec.num_classes)
