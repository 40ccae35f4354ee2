"""Frozen, JSON-serialisable architecture specs. Pure Python + numpy, no torch.

A spec is complete: DenseNet-type specs carry their seed *and* the sampled skip
indices, so ``spec.to_dict()`` is exactly the record a result is stored under and
``spec_from_dict(spec.to_dict()) == spec``.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .errors import UsageError

# "linear" (identity) gives the deep linear networks of Prop. 2.
ACTIVATIONS = ("relu", "elu", "leaky_relu", "tanh", "gelu", "silu", "linear")
CONV_KINDS = ("regular", "separable")
# Weight init of DenseNet-type models. "torch" is PyTorch's default, whose variance
# shrinks with fan-in (so extra skip columns get smaller weights); "fan_out" is He
# normal by output units, variance 2/w: depth- and skip-independent, the setting
# of Prop. 2 (the paper's footnote 4: variance scaled by width only).
INITS = ("torch", "fan_out")
# torchvision's MobileNetV2 stages: (expansion t, channels c, blocks n, stride s).
MOBILENET_V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
VGG_CONFIGS = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"),
}


def _check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise UsageError(f"{name} must be an integer {rng}, got {value!r}")
    return int(value)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise UsageError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


# Width multipliers beyond this overflow channel counts long before they are useful.
MAX_MULTIPLIER = 64


def _check_positive(name: str, value, hi: float = MAX_MULTIPLIER) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not 0 < value <= hi:
        raise UsageError(f"{name} must be a number > 0 and <= {hi}, got {value!r}")
    return value


def _counts(name: str, value, n: int, hi: int, what: str = "") -> tuple[int, ...]:
    """Exactly ``n`` integers in ``1..hi`` (blocks per stage and the like)."""
    values = _tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if len(values) != n:
        raise UsageError(f"{name} needs {n} values{what}, got {len(values)}")
    return tuple(_check_int(name, v, 1, hi) for v in values)


# Sampling draws one 64-bit key per candidate source, w (d-1)(d-2)/2 in a cell:
# past this many a spec would take minutes to build, so it is refused instead.
MAX_SKIP_CANDIDATES = 2 ** 28


def skip_candidates(depth: int, width: int) -> int:
    """Candidate sources summed over the layers of one cell: sum_{i>=2} w (i-1)."""
    return width * (depth - 1) * (depth - 2) // 2 if depth > 2 else 0


def sample_skips(rng: np.random.Generator, depth: int, width: int, tc: int) -> tuple[tuple[int, ...], ...]:
    """Skip sources of each layer of one DenseNet-type cell.

    Layer ``i >= 2`` takes ``t_i = min(w (i-1), tc)`` of the ``w (i-1)`` outputs of
    layers ``0..i-2`` (flat index ``j * w + channel``), uniformly without
    replacement: the ``t_i`` smallest of raw 64-bit draws of the bit generator.
    Raw streams are stable across numpy releases (``Generator.choice`` is not),
    so a seed gives the same links bit for bit everywhere.
    """
    n = skip_candidates(depth, width)
    if tc == 0:  # no links: move the stream on as the draws would, in O(1)
        rng.bit_generator.advance(n)
        return tuple(() for _ in range(depth))
    if n > MAX_SKIP_CANDIDATES:
        raise UsageError(f"depth {depth} x width {width} gives {n:,} candidate skip sources in one cell "
                         f"(w(d-1)(d-2)/2); at most {MAX_SKIP_CANDIDATES:,} can be sampled: use fewer layers "
                         "or a narrower cell")
    skips: list[tuple[int, ...]] = [(), ()][: min(depth, 2)]
    for i in range(2, depth):
        candidates = width * (i - 1)
        t = min(candidates, tc)
        keys = rng.bit_generator.random_raw(candidates)
        skips.append(tuple(int(c) for c in _smallest(keys, t)))
    return tuple(skips)


def _smallest(keys: np.ndarray, t: int) -> np.ndarray:
    """Sorted indices of the ``t`` smallest keys, ties broken by index: a linear-time
    partition, with the stable full sort kept for the (2^-64-rare) tie at the cut."""
    if t == 0 or t == len(keys):
        return np.arange(t)
    chosen = np.argpartition(keys, t - 1)[:t]
    if np.count_nonzero(keys <= keys[chosen].max()) != t:
        chosen = np.argsort(keys, kind="stable")[:t]
    return np.sort(chosen)


def _is_index(c) -> bool:
    return isinstance(c, (int, np.integer)) and not isinstance(c, bool)


def _check_skips(name: str, skips, depth: int, width: int, tc: int) -> tuple[tuple[int, ...], ...]:
    # Hand-written JSON may hold anything here: check the shape before reading it.
    if not isinstance(skips, tuple) or not all(isinstance(layer, tuple) and all(map(_is_index, layer))
                                               for layer in skips):
        raise UsageError(f"{name} must be a list (one per layer) of lists of integer indices")
    if len(skips) != depth:
        raise UsageError(f"{name} must list skip sources for each of the {depth} layers, got {len(skips)}")
    out = []
    for i, layer in enumerate(skips):
        layer = tuple(int(c) for c in layer)
        expected = min(width * (i - 1), tc) if i >= 2 else 0
        if len(layer) != expected or len(set(layer)) != len(layer) or any(not 0 <= c < width * max(i - 1, 0) for c in layer):
            raise UsageError(f"{name}[{i}] must hold {expected} distinct indices in 0..{width * max(i - 1, 0) - 1}")
        out.append(tuple(sorted(layer)))
    return tuple(out)


class Spec:
    """Behaviour shared by every spec dataclass."""

    family: ClassVar[str]

    def to_dict(self) -> dict:
        d = {"family": self.family}
        for f in dataclasses.fields(self):
            d[f.name] = _jsonable(getattr(self, f.name))
        return d

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)

    def replace(self, **changes) -> "Spec":
        """A copy with some fields changed. Skips are kept unless a field they depend on
        (depth, width, tc, cells, seed) changes, in which case they are sampled anew."""
        shape_keys = {"depth", "width", "tc", "num_cells", "wm", "seed"}
        if "skips" not in changes and hasattr(self, "skips") and shape_keys & {
                k for k, v in changes.items() if getattr(self, k) != v}:
            changes["skips"] = None
        return dataclasses.replace(self, **changes)


def _jsonable(v):
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def _tuple(v):
    return tuple(_tuple(x) for x in v) if isinstance(v, (list, tuple)) else v


@dataclass(frozen=True)
class DenseMLPSpec(Spec):
    """A one-cell DenseNet-type MLP (Fig. 1a): ``depth`` hidden layers of ``width``."""

    family: ClassVar[str] = "dense-mlp"
    input_dim: int = 784
    width: int = 8
    depth: int = 16
    tc: int = 10  # most skip inputs a layer may take
    num_classes: int = 10
    activation: str = "relu"
    init: str = "torch"  # weight-init scheme, see INITS
    seed: int = 0  # seeds the skip links, nothing else
    skips: tuple | None = None  # per layer, flat indices into layers 0..i-2

    def __post_init__(self):
        _check_int("input_dim", self.input_dim, 1)
        _check_int("width", self.width, 1)
        _check_int("depth", self.depth, 1)
        _check_int("tc", self.tc, 0)
        _check_int("num_classes", self.num_classes, 1)
        _check_int("seed", self.seed, 0)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("init", self.init, INITS)
        if self.skips is None:
            skips = sample_skips(np.random.Generator(np.random.PCG64(self.seed)), self.depth, self.width, self.tc)
        else:
            skips = _check_skips("skips", _tuple(self.skips), self.depth, self.width, self.tc)
        object.__setattr__(self, "skips", skips)


@dataclass(frozen=True)
class DenseCNNSpec(Spec):
    """DenseNet-type CNN: ``num_cells`` cells; cell ``c`` has width ``16 wm 2^c``.

    The first layer of every cell after the first has stride 2. Skips stay inside
    a cell. ``conv="separable"`` replaces each 3x3 conv by 1x1 -> depthwise 3x3 -> 1x1.
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
    seed: int = 0
    skips: tuple | None = None  # per cell, per layer, flat channel indices

    def __post_init__(self):
        n = _check_int("num_cells", self.num_cells, 1, 8)
        depth = _per_cell("depth", self.depth, n)
        tc = _per_cell("tc", self.tc, n)
        for d in depth:
            _check_int("depth", d, 1)
        for t in tc:
            _check_int("tc", t, 0)
        _check_positive("wm", self.wm)
        if isinstance(self.wm, float) and self.wm.is_integer():
            object.__setattr__(self, "wm", int(self.wm))
        _check_choice("conv", self.conv, CONV_KINDS)
        _check_int("in_channels", self.in_channels, 1)
        _check_int("input_size", self.input_size, 2 ** (n - 1))
        _check_int("num_classes", self.num_classes, 1)
        _check_int("seed", self.seed, 0)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("init", self.init, INITS)
        object.__setattr__(self, "depth", depth)
        object.__setattr__(self, "tc", tc)
        widths = self.widths
        if self.skips is None:
            rng = np.random.Generator(np.random.PCG64(self.seed))
            skips = tuple(sample_skips(rng, d, w, t) for d, w, t in zip(depth, widths, tc))
        else:
            given = _tuple(self.skips)
            if not isinstance(given, tuple) or len(given) != n:
                raise UsageError(f"skips must hold one list per cell ({n}), got {given!r:.40}")
            skips = tuple(_check_skips(f"skips[{c}]", s, d, w, t) for c, (s, d, w, t) in enumerate(zip(given, depth, widths, tc)))
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


@dataclass(frozen=True)
class MobileNetV2Spec(Spec):
    """torchvision's MobileNetV2 with a width multiplier and blocks per stage."""

    family: ClassVar[str] = "mobilenet_v2"
    width_mult: float = 1.0
    blocks: tuple = tuple(s[2] for s in MOBILENET_V2_STAGES)  # blocks in each of the 7 stages
    expansion: int = 6  # expansion of stages 2-7 (stage 1 keeps torchvision's 1)
    num_classes: int = 1000
    input_size: int = 224

    def __post_init__(self):
        _check_positive("width_mult", self.width_mult)
        object.__setattr__(self, "blocks", _counts("blocks", self.blocks, len(MOBILENET_V2_STAGES), 64, " (one per stage)"))
        _check_int("expansion", self.expansion, 1, 64)
        _check_int("num_classes", self.num_classes, 1)
        _check_int("input_size", self.input_size, 32)

    def stages(self) -> tuple[tuple[int, int, int, int], ...]:
        """torchvision's ``inverted_residual_setting`` for this spec."""
        return tuple((t if i == 0 else self.expansion, c, n, s)
                     for i, ((t, c, _, s), n) in enumerate(zip(MOBILENET_V2_STAGES, self.blocks)))


@dataclass(frozen=True)
class ResNetSpec(Spec):
    """torchvision ResNet / Wide-ResNet.

    ``shortcuts`` chooses how blocks with a projection (1x1 conv) shortcut count
    for NN-Mass, which the paper does not settle: ``"identity"`` (default) counts
    only identity-shortcut blocks as cells, as the paper does for MobileNetV2;
    ``"all"`` also counts projection blocks, whose skip delivers
    ``min(in, out)`` channels of the block input.
    """

    family: ClassVar[str] = "resnet"
    block: str = "basic"
    layers: tuple = (2, 2, 2, 2)
    width_per_group: int = 64  # 128 for Wide-ResNet-*-2
    num_classes: int = 1000
    input_size: int = 224
    shortcuts: str = "identity"

    def __post_init__(self):
        _check_choice("block", self.block, ("basic", "bottleneck"))
        object.__setattr__(self, "layers", _counts("layers", self.layers, 4, 256, " (blocks per stage)"))
        _check_int("width_per_group", self.width_per_group, 1)
        if self.block == "basic" and self.width_per_group != 64:
            raise UsageError("width_per_group must be 64 for basic blocks (torchvision's rule)")
        _check_int("num_classes", self.num_classes, 1)
        _check_int("input_size", self.input_size, 32)
        _check_choice("shortcuts", self.shortcuts, ("identity", "all"))


@dataclass(frozen=True)
class DenseNetSpec(Spec):
    """torchvision's standard DenseNet (full concatenation, density 1)."""

    family: ClassVar[str] = "densenet"
    growth_rate: int = 32
    block_config: tuple = (6, 12, 24, 16)
    num_init_features: int = 64
    bn_size: int = 4
    num_classes: int = 1000
    input_size: int = 224

    def __post_init__(self):
        _check_int("growth_rate", self.growth_rate, 1)
        object.__setattr__(self, "block_config", _counts("block_config", self.block_config, 4, 256))
        _check_int("num_init_features", self.num_init_features, 1)
        _check_int("bn_size", self.bn_size, 1)
        _check_int("num_classes", self.num_classes, 1)
        _check_int("input_size", self.input_size, 32)


@dataclass(frozen=True)
class VGGSpec(Spec):
    """torchvision's VGG: no skip connections, so NN-Mass 0."""

    family: ClassVar[str] = "vgg"
    config: str = "D"  # A=vgg11, B=vgg13, D=vgg16, E=vgg19
    batch_norm: bool = False
    num_classes: int = 1000
    input_size: int = 224

    def __post_init__(self):
        _check_choice("config", self.config, tuple(VGG_CONFIGS))
        if not isinstance(self.batch_norm, bool):
            raise UsageError(f"batch_norm must be true or false, got {self.batch_norm!r}")
        _check_int("num_classes", self.num_classes, 1)
        _check_int("input_size", self.input_size, 32)


SPEC_TYPES: dict[str, type[Spec]] = {
    cls.family: cls for cls in (DenseMLPSpec, DenseCNNSpec, MobileNetV2Spec, ResNetSpec, DenseNetSpec, VGGSpec)
}


def spec_from_dict(d: dict) -> Spec:
    """Rebuild a spec from ``to_dict()`` output (or a hand-written JSON object)."""
    if not isinstance(d, dict) or "family" not in d:
        raise UsageError("a spec must be a JSON object with a 'family' key")
    d = dict(d)
    family = d.pop("family")
    cls = SPEC_TYPES.get(family) if isinstance(family, str) else None
    if cls is None:
        raise UsageError(f"unknown spec family {family!r}; valid: {', '.join(SPEC_TYPES)}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise UsageError(f"unknown key(s) {', '.join(unknown)} for {family}; valid: {', '.join(sorted(names))}")
    return cls(**{k: _tuple(v) for k, v in d.items()})


def spec_from_json(text: str) -> Spec:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"malformed spec JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    return spec_from_dict(d)
