"""What the NB201 proxy benchmarks share: NB201 networks drawn from the shipped NASLib
sample by ``PCG64(seed)``, one Gaussian batch at the dataset's size, and a builder
whose weights come from seed 0 (so each network is the same in every run)."""
from __future__ import annotations

import numpy as np
import torch

from nnmass import proxies
from nnmass.models.nb201 import build_nb201
from nnmass.rank.scoring import NB201_DATASETS
from nnmass.studies.nb201_data import load_nb201_sample


def sampled_networks(dataset: str, networks: int, seed: int, batch_size: int):
    """``(archs, batch, build)``: ``networks`` arch strings of the sample, the batch, and
    ``build(arch)`` giving the seeded network with the dataset's classes."""
    classes, shape = NB201_DATASETS[dataset]
    rows = load_nb201_sample(dataset)
    pick = np.random.Generator(np.random.PCG64(seed)).permutation(len(rows))[:networks]
    batch = proxies.gaussian_batch(shape, batch_size=batch_size, num_classes=classes, seed=0)

    def build(arch):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return build_nb201(arch, num_classes=classes)

    return [rows[i]["arch"] for i in pick], batch, build
