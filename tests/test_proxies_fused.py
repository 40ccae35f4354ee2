"""Fused scoring gives exactly the values of each proxy's own function, leaves the model
as it was, and charges every second to some proxy."""
import copy
import math
import time

import pytest
import torch
from torch import nn

from nnmass import proxies
from nnmass.models.nb201 import build_nb201
from nnmass.proxies import fused
from nnmass.proxies.fused import DATA_PASS, score_fused
from nnmass.proxies.common import loss_of, run_on, stand_ins, weight_names
from nnmass.proxies.repeatable import repeatable_modules
from test_proxies_contract import batch201, tiny201

ARCHS = ["|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|",
         "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_3x3~2|",
         "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]  # the input never reaches the output


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def small_nb201(arch, seed=0):
    torch.manual_seed(seed)
    return build_nb201(arch, num_classes=5, C=4, N=1)


def check_equal(model, batch, names="all"):
    fused = score_fused(model, batch, names)
    own = proxies.run_proxies(model, batch, names)
    assert list(fused.scores) == list(own.scores)
    different = {n: (own.scores[n], fused.scores[n]) for n in own.scores if not same(own.scores[n], fused.scores[n])}
    assert not different
    return fused


@pytest.mark.parametrize("arch", ARCHS)
def test_fused_equals_every_proxy_on_nb201_networks(arch):
    run = check_equal(small_nb201(arch), proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=5, seed=3))
    assert set(run.scores) == set(proxies.names())


def test_fused_equals_every_proxy_with_dropout_and_a_self_counting_norm():
    # Dropout draws from the seeded generator: the shared pass must draw what each
    # proxy's own first pass draws, and grasp's second pass what grasp's second draws.
    check_equal(tiny201(), batch201(n=6))


@pytest.mark.parametrize("names", ["jacob_cov", "nwot,meco", "grasp", "snip,jacob_cov", "fisher,grad_norm,zen",
                                   "meco,synflow,grasp,nwot"])
def test_fused_equals_each_subset(names):
    check_equal(tiny201(1), batch201(seed=2, n=4), names)


def test_fused_equals_on_an_mlp_and_keeps_the_asked_order():
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(6, 8), nn.ELU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))
    batch = proxies.gaussian_batch((6,), batch_size=5, num_classes=3, seed=0)
    run = check_equal(mlp, batch, "zico,snip,params,nwot")
    assert list(run.scores) == ["zico", "snip", "params", "nwot"]


def test_fused_leaves_the_model_as_it_was():
    model = tiny201()
    model.eval()
    model.head[-1].weight.grad = torch.ones_like(model.head[-1].weight)
    before = copy.deepcopy(model.state_dict())
    score_fused(model, batch201(), "all")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(m.training for m in model.modules())
    assert torch.equal(model.head[-1].weight.grad, torch.ones_like(model.head[-1].weight))
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


def test_seconds_are_charged_to_the_proxies_and_add_up_to_the_wall_time():
    model, batch = small_nb201(ARCHS[0]), proxies.gaussian_batch((3, 8, 8), batch_size=4, num_classes=5)
    start = time.perf_counter()
    run = score_fused(model, batch, "all")
    wall = time.perf_counter() - start
    assert set(run.seconds) == set(proxies.names()) and all(s >= 0 for s in run.seconds.values())
    assert 0.8 * wall <= sum(run.seconds.values()) <= wall
    assert set(DATA_PASS) < set(proxies.names())


def _refuse(*args, **kwargs):
    raise AssertionError("this path must not run here")


@pytest.mark.parametrize("arch", ARCHS)
def test_grasp_folds_into_the_shared_pass_on_nb201_and_stays_equal(arch, monkeypatch):
    # NB201 is repeatable: grasp's second forward pass must not run, and every score of
    # the shared create_graph backward (snip, grad_norm, fisher, grasp) equals its own function's.
    model = small_nb201(arch, seed=4)
    assert repeatable_modules(model)
    monkeypatch.setattr(fused, "grasp_from_gradient", _refuse)
    check_equal(model, proxies.gaussian_batch((3, 8, 8), batch_size=6, num_classes=5, seed=5))


def test_a_random_or_custom_layer_keeps_grasps_second_pass(monkeypatch):
    monkeypatch.setattr(fused, "grasp_from_graph", _refuse)
    assert not repeatable_modules(tiny201())  # a self-counting BatchNorm subclass
    check_equal(tiny201(2), batch201(n=5), "snip,grasp,jacob_cov")
    torch.manual_seed(1)
    dropout = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    assert repeatable_modules(dropout)  # every type is known, but the first pass draws from the generator
    check_equal(dropout, batch201(n=5), "grasp,fisher")


def test_a_hook_makes_a_model_unrepeatable():
    model = small_nb201(ARCHS[0])
    assert repeatable_modules(model)
    handle = model.cells[0].register_forward_hook(lambda m, i, o: o * 2)
    assert not repeatable_modules(model)
    handle.remove()
    handle = model.classifier.register_full_backward_hook(lambda m, gi, go: None)
    assert not repeatable_modules(model)
    handle.remove()
    handle = torch.nn.modules.module.register_module_forward_hook(lambda m, i, o: None)
    try:
        assert not repeatable_modules(model)
    finally:
        handle.remove()
    assert repeatable_modules(model)


def two_pass_grasp(model, batch):
    """grasp as its references compute it: g from one forward pass, the Hessian-vector
    product through a second forward pass, ``-sum W * Hg``."""
    tensors = stand_ins(model)
    weights = [tensors[name] for name in weight_names(model)]
    with run_on(model, tensors, seed=batch.seed) as forward:
        g = torch.autograd.grad(loss_of(forward(batch.inputs), batch.targets), weights, allow_unused=True)
        h = torch.autograd.grad(loss_of(forward(batch.inputs), batch.targets), weights, create_graph=True,
                                allow_unused=True)
        used = [i for i in range(len(weights)) if g[i] is not None and h[i] is not None]
        inner = sum((g[i].detach() * h[i]).sum() for i in used)
        hg = torch.autograd.grad(inner, [weights[i] for i in used], allow_unused=True)
    with torch.no_grad():
        return float(-sum((weights[i] * v).sum() for i, v in zip(used, hg) if v is not None))


@pytest.mark.parametrize("arch", ARCHS[:2])
def test_one_pass_grasp_is_the_two_pass_value_bit_for_bit(arch):
    model, batch = small_nb201(arch, seed=6), proxies.gaussian_batch((3, 8, 8), batch_size=6, num_classes=5, seed=7)
    reference = two_pass_grasp(model, batch)
    assert reference != 0.0
    assert proxies.grasp(model, batch) == reference == score_fused(model, batch, "grasp,snip").scores["grasp"]
