"""Specs of the DenseNet-type networks of the paper (Fig. 1a): an MLP and a CNN
whose cells carry randomly sampled concatenation skips. Pure Python + numpy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import UsageError
from ..validate import MAX_INPUT_SIZE, MAX_WIDTH, check_choice, check_int, check_multiplier, check_seed, shown
from .base import Spec, as_tuple
from .skips import check_skips, sample_skips

# "linear" (identity) gives the deep linear networks of Prop. 2.
ACTIVATIONS = ("relu", "elu", "leaky_relu", "tanh", "gelu", "silu", "linear")
CONV_KINDS = ("regular", "separable")
# Weight init of DenseNet-type models. "torch" is PyTorch's default, whose variance
# shrinks with fan-in (so extra skip columns get smaller weights); "fan_out" is He
# normal by output units, variance 2/w: depth- and skip-independent, the setting
# of Prop. 2 (the paper's footnote 4: variance scaled by width only).
INITS = ("torch", "fan_out")
# Where the classifier of a DenseNet-type network sits. "official": the authors' layout
# (Dense_MLP, regular_dense_cnn), see the spec docstrings; "hidden": ours before,
# every layer of the cell hidden and a plain classifier after the cell.
LAYOUTS = ("official", "hidden")
# Layer order of a DenseNet-type CNN. "conv-bn-act": each layer is conv -> BN -> activation,
# global average pooling and a linear classifier follow the last cell. "official": the
# authors' regular_dense_cnn, BN -> ReLU -> conv on each layer's concatenated input,
# then AvgPool(2) and a linear classifier on the flattened map.
CNN_LAYOUTS = ("conv-bn-act", "official")


@dataclass(frozen=True)
class DenseMLPSpec(Spec):
    """A one-cell DenseNet-type MLP (Fig. 1a) of ``depth`` layers of ``width``.

    ``layout="official"`` (default) is the authors' ``Dense_MLP(width, depth, tc)``:
    ``depth`` Linear layers in all, the last of them the classifier, which receives
    skips like any other layer (so NN-Mass is Eq. 2 with ``d = depth`` and the
    classifier counted at the cell's width, as the authors compute it); ELU.
    ``layout="hidden"``: ``depth`` hidden layers, then a classifier outside the cell.
    """

    family: ClassVar[str] = "dense-mlp"
    input_dim: int = 784
    width: int = 8
    depth: int = 16
    tc: int = 10  # most skip inputs a layer may take
    num_classes: int = 10
    activation: str = "elu"
    init: str = "torch"  # weight-init scheme, see INITS
    layout: str = "official"  # see LAYOUTS
    seed: int = 0  # seeds the skip links, nothing else
    skips: tuple | None = None  # per layer, flat indices into layers 0..i-2

    def __post_init__(self):
        check_int("input_dim", self.input_dim, 1)
        check_int("width", self.width, 1, MAX_WIDTH)
        check_choice("layout", self.layout, LAYOUTS)
        # The official layout needs an input layer and a classifier.
        check_int("depth", self.depth, 2 if self.layout == "official" else 1)
        check_int("tc", self.tc, 0)
        check_int("num_classes", self.num_classes, 1, MAX_WIDTH)
        check_seed("seed", self.seed)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("init", self.init, INITS)
        if self.skips is None:
            skips = sample_skips(np.random.Generator(np.random.PCG64(self.seed)), self.depth, self.width, self.tc)
        else:
            skips = check_skips("skips", as_tuple(self.skips), self.depth, self.width, self.tc)
        object.__setattr__(self, "skips", skips)


@dataclass(frozen=True)
class DenseCNNSpec(Spec):
    """DenseNet-type CNN: ``num_cells`` cells; cell ``c`` has width ``16 wm 2^c``.

    The first layer of every cell after the first has stride 2. Skips stay inside
    a cell. ``conv="separable"`` replaces each 3x3 conv by 1x1 -> depthwise 3x3 -> 1x1.
    ``layout`` orders each layer's ops and chooses the head (see ``CNN_LAYOUTS``).
    """

    family: ClassVar[str] = "dense-cnn"
    num_cells: int = 3
    depth: tuple = (8, 8, 8)  # layers per cell
    wm: float = 2.0  # width multiplier: cell c has 16 * wm * 2^c channels
    tc: tuple = (32, 64, 128)  # most skip channels per layer, per cell
    conv: str = "regular"
    in_channels: int = 3
    input_size: int = 32
    num_classes: int = 10
    activation: str = "relu"
    init: str = "torch"  # weight-init scheme, see INITS
    layout: str = "conv-bn-act"  # see CNN_LAYOUTS
    seed: int = 0
    skips: tuple | None = None  # per cell, per layer, flat channel indices

    def __post_init__(self):
        n = check_int("num_cells", self.num_cells, 1, 8)
        depth = _per_cell("depth", self.depth, n)
        tc = _per_cell("tc", self.tc, n)
        for d in depth:
            check_int("depth", d, 1)
        for t in tc:
            check_int("tc", t, 0)
        check_multiplier("wm", self.wm)
        if isinstance(self.wm, float) and self.wm.is_integer():
            object.__setattr__(self, "wm", int(self.wm))
        check_choice("conv", self.conv, CONV_KINDS)
        check_choice("layout", self.layout, CNN_LAYOUTS)
        check_int("in_channels", self.in_channels, 1, MAX_WIDTH)
        # Each later cell halves the image; the official head pools 2x2 once more.
        check_int("input_size", self.input_size, 2 ** (n - 1) * (2 if self.layout == "official" else 1), MAX_INPUT_SIZE)
        check_int("num_classes", self.num_classes, 1, MAX_WIDTH)
        check_seed("seed", self.seed)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("init", self.init, INITS)
        object.__setattr__(self, "depth", depth)
        object.__setattr__(self, "tc", tc)
        widths = self.widths
        if widths[-1] > MAX_WIDTH:
            raise UsageError(f"wm {shown(self.wm)} with {n} cells makes the last cell {widths[-1]:,} channels wide, "
                             f"over the {MAX_WIDTH:,} a layer may have")
        if self.skips is None:
            rng = np.random.Generator(np.random.PCG64(self.seed))
            skips = tuple(sample_skips(rng, d, w, t) for d, w, t in zip(depth, widths, tc))
        else:
            given = as_tuple(self.skips)
            if not isinstance(given, tuple) or len(given) != n:
                raise UsageError(f"skips must hold one list per cell ({n}), got {shown(given)[:40]}")
            skips = tuple(check_skips(f"skips[{c}]", s, d, w, t)
                          for c, (s, d, w, t) in enumerate(zip(given, depth, widths, tc)))
        object.__setattr__(self, "skips", skips)

    @property
    def widths(self) -> tuple[int, ...]:
        """Channels of each cell: ``round(16 * wm * 2^c)``, at least 1."""
        return tuple(cell_width(self.wm, c) for c in range(self.num_cells))


def cell_width(wm, c):
    """Channels of DenseNet-type CNN cell ``c``: ``round(16 wm 2^c)`` (at least 1); vectorised."""
    w = np.maximum(np.rint(16 * np.asarray(wm, dtype=np.float64) * 2.0 ** np.asarray(c)), 1).astype(np.int64)
    return int(w) if w.ndim == 0 else w


def _per_cell(name: str, value, n: int) -> tuple:
    """One value for every cell, or exactly one value per cell."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return tuple(value) * n
        if len(value) != n:
            raise UsageError(f"{name} needs 1 or num_cells={n} values, got {len(value)}")
        return tuple(value)
    return (value,) * n
