"""Skip links of DenseNet-type cells: sampled once from a seed and stored in the spec.
Pure numpy."""
from __future__ import annotations

import numpy as np

from ..errors import UsageError


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


def check_skips(name: str, skips, depth: int, width: int, tc: int) -> tuple[tuple[int, ...], ...]:
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

