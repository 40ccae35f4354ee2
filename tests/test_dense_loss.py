"""The proxies' loss on a dense head: per-position cross-entropy, each position of a
sample taking that sample's label; checked against the formula written out here, and
every proxy defined on a small network with a [N, C, H, W] output."""
import math

import torch
from torch import nn

from nnmass.proxies import gaussian_batch
from nnmass.proxies.common import loss_of
from nnmass.proxies.fused import score_fused


def test_dense_loss_is_the_mean_per_position_cross_entropy():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(4, 5, 3, 2, generator=g)
    labels = torch.tensor([0, 4, 2, 2])
    log_p = logits.log_softmax(dim=1)
    by_hand = -sum(float(log_p[n, labels[n], i, j]) for n in range(4) for i in range(3) for j in range(2)) / 24
    assert math.isclose(float(loss_of(logits, labels)), by_hand, rel_tol=1e-6)


def test_every_proxy_is_defined_on_a_dense_head():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Conv2d(8, 4, 3, padding=1))  # 4 output channels per position
    batch = gaussian_batch((3, 8, 8), batch_size=4, num_classes=4, seed=0)
    run = score_fused(net, batch, "all")
    assert not run.undefined, run.scores
