"""One TransNAS-Bench-101 network: the encoder and one task's head, put together
as the benchmark's model builder does (reference: yawen-d/TransNASBench,
``model_builder.py``)."""
from __future__ import annotations

import torch
from torch import nn

from .encoder import Encoder
from .heads import LinearHead, generative_decoder, segmentation_decoder

DENSE_TASKS = ("segmentsemantic", "autoencoder", "normal")


class TransNASNetwork(nn.Module):
    """Encoder + head of ``task``.

    ``jigsaw`` reads a batch of 9 tiles, shape ``(N, 9, 3, H, W)``: each tile goes
    through the one shared encoder, the 9 feature maps are concatenated along the
    channels, pooled, and a linear layer scores the 1000 permutations.
    The dense tasks' decoders double the resolution as many times as the encoder
    (stem included) halved it, so their output has the input's size.
    """

    def __init__(self, modules: str, cell, task: str, classes: int, channels: int = 64):
        super().__init__()
        self.task = task
        self.encoder = Encoder(modules, cell, channels)
        c, ups = self.encoder.out_channels, self.encoder.reductions
        if task == "jigsaw":
            self.decoder = LinearHead(9 * c, classes)
        elif task == "segmentsemantic":
            self.decoder = segmentation_decoder(c, ups, classes)
        elif task in ("autoencoder", "normal"):
            self.decoder = generative_decoder(c, ups, classes)
        else:
            self.decoder = LinearHead(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.task == "jigsaw":
            x = torch.cat([self.encoder(x[:, i]) for i in range(x.shape[1])], dim=1)
        else:
            x = self.encoder(x)
        return self.decoder(x)
