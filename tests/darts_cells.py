"""DARTS networks (Liu, Simonyan, Yang, ICLR 2019) for the multi-branch tests: the
real NB301/DARTS builder (:mod:`nnmass.models.darts`) at a small size."""
from __future__ import annotations

import random

import numpy as np

from nnmass.models.darts import build_darts
from nnmass.spaces.darts import SPACE

# The genotype DARTS (second order) found, as published.
DARTS_V2 = SPACE.parse(
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=range(2, 6), "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))")


def random_genotype(rng: random.Random):
    """A uniform draw of the space, seeded from ``rng``."""
    return SPACE.sample(np.random.default_rng(rng.getrandbits(64)))


def DartsNetwork(genotype, c: int = 8, layers: int = 5, num_classes: int = 10):
    """The DARTS CIFAR network of ``genotype`` with ``c`` channels and ``layers`` cells."""
    return build_darts(genotype, num_classes=num_classes, C=c, layers=layers)
