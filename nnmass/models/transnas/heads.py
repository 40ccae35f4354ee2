"""TransNAS-Bench-101's task heads (reference: yawen-d/TransNASBench,
``models/decoder.py``): a linear layer on pooled features for the classification,
regression and jigsaw tasks, and conv/deconv decoders back to the 256x256 input
for semantic segmentation and the two image-to-image tasks."""
from __future__ import annotations

from torch import nn


def conv_layer(c_in: int, c_out: int, *, up: bool = False, norm: bool = True, act: str | None = "leaky") -> nn.Sequential:
    """A biased 3x3 conv (or a stride-2 transposed conv doubling the size when
    ``up``), then BN and the activation, as the benchmark's ConvLayer/DeconvLayer."""
    conv = (nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1) if up
            else nn.Conv2d(c_in, c_out, 3, padding=1))
    layers = [conv]
    if norm:
        layers.append(nn.BatchNorm2d(c_out))
    if act == "leaky":
        layers.append(nn.LeakyReLU(0.2))
    elif act == "tanh":
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class LinearHead(nn.Module):
    """Global average pooling then one linear layer."""

    def __init__(self, c_in: int, out: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, out)

    def forward(self, x):
        return self.fc(self.pool(x).flatten(1))


def segmentation_decoder(c_in: int, upsamples: int, classes: int) -> nn.Sequential:
    """Conv to 1024 channels, ``6 - upsamples`` convs halving the channels,
    ``upsamples - 1`` deconvs halving them, one deconv keeping them, a plain conv to
    ``classes``: ``upsamples`` doublings bring the features back to the input size."""
    layers, c = [conv_layer(c_in, 1024)], 1024
    for _ in range(6 - upsamples):
        layers.append(conv_layer(c, c // 2))
        c //= 2
    for _ in range(upsamples - 1):
        layers.append(conv_layer(c, c // 2, up=True))
        c //= 2
    layers += [conv_layer(c, c, up=True), conv_layer(c, classes, norm=False, act=None)]
    return nn.Sequential(*layers)


def generative_decoder(c_in: int, upsamples: int, out_channels: int = 3) -> nn.Sequential:
    """The pix2pix-style decoder of the autoencoder and surface-normal tasks: 14
    layers whose channels fall from 1024 to 16, then a tanh conv. Layers 11 and 13
    are always deconvs (size doublings); layers 9, 7, 5, 3 are deconvs too when
    ``upsamples`` is at least 3, 4, 5, 6, so the output has the input's size."""
    steps = [(c_in, 1024, False), (1024, 1024, False), (1024, 512, upsamples >= 6),
             (512, 512, False), (512, 256, upsamples >= 5), (256, 128, False),
             (128, 64, upsamples >= 4), (64, 64, False), (64, 32, upsamples >= 3),
             (32, 32, False), (32, 16, True), (16, 32, False), (32, 16, True)]
    layers = [conv_layer(a, b, up=up) for a, b, up in steps]
    layers.append(conv_layer(16, out_channels, norm=False, act="tanh"))
    return nn.Sequential(*layers)
