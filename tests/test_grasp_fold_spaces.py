"""grasp takes its Hessian-vector product from the shared pass on every space's network
(NB101, DARTS, TransNAS-Bench-101 micro and macro with each kind of head), and the
value is the two-pass value of its references, bit for bit."""
import numpy as np
import pytest
import torch

from nnmass import proxies
from nnmass.models.space_networks import build_in_space
from nnmass.proxies import fused
from nnmass.proxies.fused import score_fused
from nnmass.proxies.repeatable import repeatable_modules
from nnmass.spaces import get_space
from test_proxies_fused import _refuse, check_equal, two_pass_grasp

# (space, --set, task, one sample's shape): small sizes of each space's own network.
CASES = [
    ("nb101", {"channels": 8, "stacks": 2, "cells": 1}, None, (3, 8, 8)),
    ("nb301", {"C": 4, "layers": 3}, None, (3, 8, 8)),
    ("tnb-micro", {"channels": 4}, "class_scene", (3, 32, 32)),
    ("tnb-micro", {"channels": 4}, "segmentsemantic", (3, 32, 32)),
    ("tnb-macro", {"channels": 4}, "autoencoder", (3, 32, 32)),
    ("tnb-macro", {"channels": 4}, "jigsaw", (9, 3, 16, 16)),
]


def small_network(space_name, sets, task, seed):
    space = get_space(space_name)
    arch = space.sample(np.random.default_rng(seed))
    torch.manual_seed(seed)
    model = build_in_space(space, arch, task, sets)
    classes = space.task(task).num_classes if task else 10
    return model, classes


@pytest.mark.parametrize("space_name,sets,task,shape", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_grasp_folds_on_every_space_and_is_the_two_pass_value(space_name, sets, task, shape, monkeypatch):
    model, classes = small_network(space_name, sets, task, seed=1)
    assert repeatable_modules(model)
    batch = proxies.gaussian_batch(shape, batch_size=4, num_classes=min(classes, 50), seed=2)
    reference = two_pass_grasp(model, batch)
    assert reference != 0.0
    monkeypatch.setattr(fused, "grasp_from_gradient", _refuse)  # the second forward pass must not run
    assert score_fused(model, batch, "grasp,snip").scores["grasp"] == reference
    check_equal(model, batch, "snip,grad_norm,fisher,grasp,jacob_cov")
