"""Channels-last pooling (nnmass.models.pooling) against torch's own modules: the
same values bit for bit, forward, backward and double backward, in the same
layouts; torch's path wherever the fast one does not apply."""
from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from nnmass.models import pooling
from nnmass.models.pooling import ChannelsLastAvgPool2d, ChannelsLastMaxPool2d
from nnmass.trace.fx import LeafTracer

AVG = [dict(kernel_size=3, stride=1, padding=1, count_include_pad=False),  # NB201, DARTS
       dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),  # DARTS reduction
       dict(kernel_size=2, stride=2),  # NB201's ResNet shortcut
       dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
       dict(kernel_size=3, stride=1, padding=1, divisor_override=5)]
MAX = [dict(kernel_size=3, stride=1, padding=1),  # NB101, DARTS
       dict(kernel_size=3, stride=2, padding=1),
       dict(kernel_size=2, stride=2),  # NB101's downsampling
       dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
       dict(kernel_size=3, stride=1, padding=1, dilation=2)]
SHAPES = [(4, 16, 9, 9), (2, 13, 8, 7), (1, 3, 5, 5)]  # 13 and 3 channels: the vector loops' tails
LAYOUTS = [torch.contiguous_format, torch.channels_last]


def _input(shape, dtype, kind, seed=0):
    x = torch.randn(shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))
    if kind == "ties":  # ReLU outputs rounded: many equal values in a window
        x = x.relu().round()
    elif kind == "nan":
        x.view(-1)[::7] = float("nan")
    return x


def _passes(module, x, layout):
    """Output, gradient and double-backward gradient, each with its strides. The
    incoming gradients are fixed patterns in ``layout``."""
    x = x.clone().requires_grad_()
    y = module(x)
    g = torch.arange(y.numel(), dtype=x.dtype).view_as(y).sin().contiguous(memory_format=layout).requires_grad_()
    gx, = torch.autograd.grad(y, x, g, create_graph=True)
    v = torch.arange(gx.numel(), dtype=x.dtype).view_as(gx).cos().contiguous(memory_format=layout)
    gg, = torch.autograd.grad((gx * v).sum(), g)
    return [(t.detach(), t.stride()) for t in (y, gx, gg)]


def _same(a, b) -> bool:
    return all(torch.equal(p.nan_to_num(7.5), q.nan_to_num(7.5)) and sp == sq for (p, sp), (q, sq) in zip(a, b))


class _Watching(TorchFunctionMode):
    """A torch function mode that changes nothing."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


@pytest.fixture
def fast_calls(monkeypatch):
    """Counts the channels-last kernels' calls, so a test knows the fast path ran."""
    calls = {"avg": 0, "max": 0}
    avg, mx = pooling._pool, pooling._max_pool

    def counted_avg(*args):
        calls["avg"] += 1
        return avg(*args)

    def counted_max(*args, **kwargs):
        calls["max"] += 1
        return mx(*args, **kwargs)

    monkeypatch.setattr(pooling, "_pool", counted_avg)
    monkeypatch.setattr(pooling, "_max_pool", counted_max)
    return calls


@pytest.mark.parametrize("settings", AVG, ids=str)
def test_avg_pool_equals_torch_bit_for_bit(settings, fast_calls):
    for dtype, shape, layout in itertools.product((torch.float32, torch.float64), SHAPES, LAYOUTS):
        x = _input(shape, dtype, "randn")
        assert _same(_passes(nn.AvgPool2d(**settings), x, layout), _passes(ChannelsLastAvgPool2d(**settings), x, layout))
    assert fast_calls["avg"] > 0


@pytest.mark.parametrize("settings", MAX, ids=str)
def test_max_pool_equals_torch_bit_for_bit(settings, fast_calls):
    """Ties and NaNs included: the first largest value (or NaN) of a window wins in
    both layouts, so the gradient goes to the same input."""
    for dtype, shape, layout, kind in itertools.product((torch.float32, torch.float64), SHAPES, LAYOUTS,
                                                       ("randn", "ties", "nan")):
        x = _input(shape, dtype, kind)
        assert _same(_passes(nn.MaxPool2d(**settings), x, layout), _passes(ChannelsLastMaxPool2d(**settings), x, layout))
    assert fast_calls["max"] > 0


def test_max_pool_without_gradients_skips_the_indices(fast_calls):
    x = _input((2, 8, 7, 7), torch.float32, "ties")
    with torch.no_grad():
        out = ChannelsLastMaxPool2d(3, 1, 1)(x)
    assert fast_calls["max"] == 1 and out.is_contiguous()
    assert torch.equal(out, nn.MaxPool2d(3, 1, 1)(x))


@pytest.mark.parametrize("cls,settings", [(ChannelsLastAvgPool2d, AVG[0]), (ChannelsLastMaxPool2d, MAX[0])])
def test_gradients_are_the_derivatives(cls, settings):
    """An independent check of the hand-written backward passes: finite differences."""
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(cls(**settings), (x,))
    assert torch.autograd.gradgradcheck(cls(**settings), (x,))


@pytest.mark.parametrize("cls,torch_cls", [(ChannelsLastAvgPool2d, nn.AvgPool2d), (ChannelsLastMaxPool2d, nn.MaxPool2d)])
def test_torch_path_where_the_fast_one_does_not_apply(cls, torch_cls, fast_calls):
    module, reference = cls(3, 1, 1), torch_cls(3, 1, 1)
    x = _input((2, 8, 6, 6), torch.float32, "randn")
    already_channels_last = x.contiguous(memory_format=torch.channels_last)
    assert torch.equal(module(already_channels_last), reference(already_channels_last))
    assert module(already_channels_last).stride() == reference(already_channels_last).stride()
    assert module(torch.empty(2, 8, 6, 6, device="meta")).shape == (2, 8, 6, 6)
    assert torch.equal(module(x[0]), reference(x[0]))  # 3-D input
    with _Watching():  # a torch function mode (nnmass's layer recorder is one) sees torch's calls
        assert torch.equal(module(x), reference(x))
    assert fast_calls == {"avg": 0, "max": 0}


def test_max_pool_returning_indices_is_torch():
    x = _input((2, 4, 6, 6), torch.float32, "ties")
    out, indices = ChannelsLastMaxPool2d(3, 1, 1, return_indices=True)(x)
    ref, ref_indices = nn.MaxPool2d(3, 1, 1, return_indices=True)(x)
    assert torch.equal(out, ref) and torch.equal(indices, ref_indices)


def test_fx_keeps_them_as_leaves():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), ChannelsLastAvgPool2d(3, 1, 1, count_include_pad=False),
                          ChannelsLastMaxPool2d(2, 2))
    graph = LeafTracer().trace(model)
    assert [n.op for n in graph.nodes] == ["placeholder", "call_module", "call_module", "call_module", "output"]


@pytest.mark.parametrize("cls,torch_cls", [(ChannelsLastAvgPool2d, nn.AvgPool2d), (ChannelsLastMaxPool2d, nn.MaxPool2d)])
def test_vmap(cls, torch_cls):
    x = _input((3, 2, 4, 6, 6), torch.float32, "randn")
    assert torch.equal(torch.func.vmap(cls(3, 1, 1))(x), torch.func.vmap(torch_cls(3, 1, 1))(x))
