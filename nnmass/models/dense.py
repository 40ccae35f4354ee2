"""DenseNet-type networks with sampled skip links (the paper's Fig. 1a), MLP and CNN.

Layer ``i >= 2`` of a cell reads the output of layer ``i-1`` concatenated with the
skip channels sampled from layers ``0..i-2`` (``spec.skips``). The gather reads
only those channels, source by source, so no layer copies the cell's whole
feature history.
"""
from __future__ import annotations

import torch
from torch import nn

from ..spec import DenseCNNSpec, DenseMLPSpec


def dense_cnn_last_side(spec: DenseCNNSpec) -> int:
    """Image side in the last cell: each later cell starts with a stride-2 3x3 conv (ceil)."""
    side = spec.input_size
    for _ in range(spec.num_cells - 1):
        side = -(-side // 2)
    return side

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "linear": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    return _ACTIVATIONS[name]()


# Squared gains of He init per activation (torch.nn.init.calculate_gain squared).
_GAIN2 = {"linear": 1.0, "tanh": 25.0 / 9.0}


def init_fan_out(body: nn.Module, activation: str) -> None:
    """He-normal init by output units (variance ``gain^2 / fan_out``), zero biases.

    ``fan_out`` is ``w`` for a linear layer and ``w k^2`` for a conv, so the weight
    variance depends on the width only, not on how many skip columns a layer has:
    the depth- and skip-independent ``q`` of Prop. 2.
    """
    gain2 = _GAIN2.get(activation, 2.0)
    for m in body.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            fan_out = m.weight.shape[0] * m.weight[0, 0].numel() // (m.groups if isinstance(m, nn.Conv2d) else 1)
            nn.init.normal_(m.weight, 0.0, (gain2 / fan_out) ** 0.5)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class SkipGather(nn.Module):
    """Gathers the sampled skip channels of one layer from the earlier layers' outputs.

    ``flat`` indexes the concatenation of layers ``0..i-2`` (``j * width + channel``);
    it is split here into one index buffer per source layer.
    """

    def __init__(self, flat: tuple[int, ...], width: int):
        super().__init__()
        self.sources: list[int] = sorted({c // width for c in flat})
        for j in self.sources:
            idx = torch.tensor([c % width for c in flat if c // width == j], dtype=torch.long)
            self.register_buffer(f"idx{j}", idx, persistent=False)

    def forward(self, x_prev: torch.Tensor, history: list[torch.Tensor]) -> torch.Tensor:
        parts = [x_prev] + [history[j].index_select(1, getattr(self, f"idx{j}")) for j in self.sources]
        return torch.cat(parts, 1) if len(parts) > 1 else x_prev


class DenseMLP(nn.Module):
    """A DenseNet-type MLP: ``s_i = phi(W_i x_{i-1} + b_i)`` with ``x_{i-1}`` the output of
    layer ``i-1`` concatenated with the sampled skips (the paper's Sec. 3.1).

    ``layout="official"``: ``layers`` are the first ``depth - 1`` layers and the
    classifier is layer ``depth - 1`` of the cell, reading its skips too, as in the
    authors' ``Dense_MLP``. ``layout="hidden"``: ``layers`` are ``depth`` hidden
    layers and the classifier reads the last one alone.
    """

    def __init__(self, spec: DenseMLPSpec):
        super().__init__()
        self.spec = spec
        w = spec.width
        hidden = spec.depth - 1 if spec.layout == "official" else spec.depth
        fan_in = [spec.input_dim] + [w + len(spec.skips[i]) for i in range(1, hidden)]
        self.layers = nn.ModuleList(nn.Linear(f, w) for f in fan_in)
        self.gathers = nn.ModuleList(SkipGather(spec.skips[i], w) for i in range(spec.depth))
        self.act = make_activation(spec.activation)
        classifier_in = w + len(spec.skips[-1]) if spec.layout == "official" else w
        self.classifier = nn.Linear(classifier_in, spec.num_classes)
        if spec.init == "fan_out":
            init_fan_out(self.layers, spec.activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.layers[0](x.flatten(1)))
        history = [x]
        for i in range(1, len(self.layers)):
            x = self.act(self.layers[i](self.gathers[i](x, history)))
            history.append(x)
        if self.spec.layout == "official":  # the classifier is the cell's last layer: it reads skips
            x = self.gathers[-1](x, history)
        return self.classifier(x)


def make_conv(c_in: int, c_out: int, stride: int, conv: str) -> nn.Module:
    """``regular``: a 3x3 conv; ``separable``: 1x1 -> depthwise 3x3 -> 1x1 (one linear operator)."""
    if conv == "regular":
        return nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 1, bias=False),
        nn.Conv2d(c_out, c_out, 3, stride, 1, groups=c_out, bias=False),
        nn.Conv2d(c_out, c_out, 1, bias=False),
    )


class ConvLayer(nn.Module):
    """One node of a DenseNet-type CNN cell: a linear conv operator, BN, activation.

    The layer is ``phi(BN(W x))`` with ``W`` linear, so its Jacobian is ``D W``.
    """

    def __init__(self, c_in: int, c_out: int, stride: int, conv: str, activation: str):
        super().__init__()
        self.conv = make_conv(c_in, c_out, stride, conv)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class PreActLayer(nn.Module):
    """A node of the authors' CNN cell: BN -> activation -> conv on the layer's
    concatenated input (``norm=False`` for the conv that reads the image itself)."""

    def __init__(self, c_in: int, c_out: int, stride: int, conv: str, activation: str, norm: bool = True):
        super().__init__()
        self.bn = nn.BatchNorm2d(c_in) if norm else None
        self.act = make_activation(activation) if norm else None
        self.conv = make_conv(c_in, c_out, stride, conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bn is not None:
            x = self.act(self.bn(x))
        return self.conv(x)


class DenseCell(nn.Module):
    def __init__(self, c_in: int, width: int, depth: int, skips, stride: int, conv: str, activation: str,
                 layout: str = "conv-bn-act", reads_image: bool = False):
        super().__init__()
        fan_in = [c_in] + [width + len(skips[i]) for i in range(1, depth)]
        if layout == "official":
            layers = (PreActLayer(f, width, stride if i == 0 else 1, conv, activation, norm=i > 0 or not reads_image)
                      for i, f in enumerate(fan_in))
        else:
            layers = (ConvLayer(f, width, stride if i == 0 else 1, conv, activation) for i, f in enumerate(fan_in))
        self.layers = nn.ModuleList(layers)
        self.gathers = nn.ModuleList(SkipGather(skips[i], width) for i in range(depth))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers[0](x)
        history = [x]
        for i in range(1, len(self.layers)):
            x = self.layers[i](self.gathers[i](x, history))
            history.append(x)
        return x


class DenseCNN(nn.Module):
    """Cells of DenseNet-type conv layers; cells after the first start with stride 2.

    ``layout="conv-bn-act"``: global average pooling and a linear classifier follow
    the last cell. ``layout="official"`` (the authors' ``regular_dense_cnn``): layers
    are BN -> activation -> conv, and a 2x2 average pooling then a linear classifier
    on the flattened map follow the last cell.
    """

    def __init__(self, spec: DenseCNNSpec):
        super().__init__()
        self.spec = spec
        cells, c_in = [], spec.in_channels
        for c, (w, d, skips) in enumerate(zip(spec.widths, spec.depth, spec.skips)):
            cells.append(DenseCell(c_in, w, d, skips, 1 if c == 0 else 2, spec.conv, spec.activation, spec.layout,
                                   reads_image=c == 0))
            c_in = w
        self.cells = nn.ModuleList(cells)
        if spec.layout == "official":
            side = dense_cnn_last_side(spec) // 2
            self.pool = nn.AvgPool2d(2)
            self.classifier = nn.Linear(c_in * side * side, spec.num_classes)
        else:
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Linear(c_in, spec.num_classes)
        if spec.init == "fan_out":
            init_fan_out(self.cells, spec.activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for cell in self.cells:
            x = cell(x)
        return self.classifier(self.pool(x).flatten(1))
