"""Candidate spaces as mixed-radix index spaces, enumerated in chunks.

A space is a list of axes (one per searched key, per cell or stage where the
key is per cell) plus fixed keys. Candidate ``i`` is the mixed-radix number whose
digits pick one value on each axis, so any slice ``start:stop`` of the space is
decoded on its own: a search streams over 10^9+ candidates in constant memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import UsageError
from ..json_values import plain
from ..validate import shown
from .evaluate import chunk_bounds, evaluate_rows
from .ranges import expand_range

MAX_SPACE = 2**62  # mixed-radix indices are int64


@dataclass(frozen=True)
class Key:
    """One key a space accepts in ``--range``.

    Attributes:
        name: the key (``depth``); per-cell keys also accept ``depth.0``, ``depth.1``...
        kind: ``"int"``, ``"float"`` or ``"choice"``.
        default: the default range (text, value or list), or ``f(i)`` for per-cell keys.
        lo, hi: inclusive bounds (``None``: unbounded); ``positive`` excludes 0.
        per: for per-cell keys, the fixed key holding the count (``num_cells``) or the count.
        fixed: the key takes exactly one value per search (not an axis).
    """

    name: str
    kind: str
    default: object
    lo: float | None = None
    hi: float | None = None
    positive: bool = False
    per: str | int | None = None
    fixed: bool = False
    choices: tuple = ()
    help: str = ""

    def bounds_text(self) -> str:
        if self.kind == "choice":
            return f"one of {', '.join(self.choices)}"
        kind = "integers" if self.kind == "int" else "numbers"
        if self.positive and self.lo in (None, 0):
            return f"{kind} > 0" + (f" and <= {self.hi:g}" if self.hi is not None else "")
        if self.hi is None:
            return f"{kind} >= {self.lo:g}"
        return f"{kind} in {self.lo:g}..{self.hi:g}"

    def value_check(self, axis: str):
        """``f(value)`` raising for one value out of bounds: ranges are checked as they expand."""
        return lambda value: self.check(axis, (value,))

    def check(self, axis: str, values: tuple, flag: str | None = None) -> tuple:
        """``values`` if all are within bounds; else a UsageError naming ``flag`` (or ``--range axis``)."""
        for v in values:
            bad = ((self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi)
                   or (self.positive and v <= 0)) if self.kind != "choice" else False
            if bad:
                raise UsageError(f"{flag or '--range ' + axis}: {shown(v)} is out of range; valid: {self.bounds_text()}")
        return values


@dataclass(frozen=True)
class Axis:
    """One searched dimension: a key (``depth.1`` for cell 1) and its values."""

    name: str
    key: str
    values: tuple

    @property
    def codes(self) -> np.ndarray:
        """What the evaluator sees: the values, or indices into the choices."""
        if isinstance(self.values[0], str):
            return np.arange(len(self.values))
        return np.asarray(self.values)


@dataclass(frozen=True)
class SpaceDef:
    """What makes a family searchable: its keys, vectorised evaluation and spec builder.

    ``evaluate(space, columns)`` returns ``(nn_mass, params, macs)`` arrays for a chunk
    element by element; ``terms(space)`` gives the same sums as broadcast parts
    (:mod:`nnmass.design.evaluate`); ``to_spec(space, values, seed)`` builds the full
    spec of one candidate.
    """

    name: str
    keys: tuple[Key, ...]
    evaluate: Callable  # direct, element by element: the reference
    terms: Callable  # terms(space) -> list[Term] whose sum is ``evaluate``
    to_spec: Callable
    summary: str = ""
    check: Callable | None = None  # check(space) raises UsageError for inconsistent fixed keys

    def key(self, name: str) -> Key | None:
        return next((k for k in self.keys if k.name == name), None)


@dataclass(frozen=True)
class Space:
    """A concrete candidate space: axes in mixed-radix order plus fixed keys."""

    definition: SpaceDef
    axes: tuple[Axis, ...]
    fixed: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=object))

    @property
    def strides(self) -> tuple[int, ...]:
        """Index step of each axis (the last axis varies fastest)."""
        out, step = [], 1
        for n in reversed(self.shape):
            out.append(step)
            step *= n
        return tuple(reversed(out))

    def columns(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Axis codes of candidates ``start..stop-1`` (see :attr:`Axis.codes`)."""
        return {a.name: axis_column(a.codes, s, start, stop - start) for a, s in zip(self.axes, self.strides)}

    def per_cell(self, columns: dict, key: str) -> np.ndarray:
        """The per-cell columns of ``key`` stacked to shape ``(n, cells)``."""
        names = [a.name for a in self.axes if a.key == key]
        return np.stack([columns[n] for n in names], axis=-1)

    def values_at(self, index: int) -> dict:
        """The key values of candidate ``index`` (per-cell keys as lists), plus fixed keys."""
        return self.values_many([index])[0]

    def values_many(self, indices) -> list[dict]:
        """:meth:`values_at` of several candidates, decoded together."""
        digits = np.unravel_index(np.asarray(indices, dtype=np.int64), self.shape)
        columns = [[plain(a.values[d]) for d in ds.tolist()] for a, ds in zip(self.axes, digits)]
        out = []
        for row in zip(*columns):
            values: dict = {}
            for a, v in zip(self.axes, row):
                if a.name != a.key:
                    values.setdefault(a.key, []).append(v)
                else:
                    values[a.key] = v
            out.append({**values, **self.fixed})
        return out

    def evaluate(self, start: int, stop: int, chunk_size: int = 2**20):
        """``(nn_mass, params, macs)`` of candidates ``start..stop-1``, by broadcast terms."""
        return evaluate_rows(self, self.definition.terms(self), start, stop, chunk_size)

    def evaluate_direct(self, start: int, stop: int):
        """The same, element by element on decoded columns (slower; the reference)."""
        return self.definition.evaluate(self, self.columns(start, stop))

    def chunks(self, chunk_size: int = 2**20):
        """``(start, stop)`` chunks of about ``chunk_size`` candidates covering the space."""
        return chunk_bounds(self.shape, chunk_size)

    def describe(self) -> dict:
        return {"space": self.name, "size": self.size, "fixed": dict(self.fixed),
                "axes": {a.name: [plain(v) for v in a.values] for a in self.axes}}


def axis_column(codes: np.ndarray, stride: int, start: int, n: int) -> np.ndarray:
    """``codes[(i // stride) % len(codes)]`` for ``i`` in ``start..start+n-1``.

    The column is periodic with period ``len(codes) * stride``, so it is built by
    repeating and tiling (memory copies) rather than by dividing every index.
    """
    period = len(codes) * stride
    if period <= 4 * n:
        pattern = np.repeat(codes, stride)
        offset = start % period
        return np.resize(np.concatenate([pattern[offset:], pattern[:offset]]), n)
    first, last = start // stride, (start + n - 1) // stride
    reps = np.full(last - first + 1, stride, dtype=np.int64)
    reps[0] = min(stride - start % stride, n)
    if last > first:
        reps[-1] = (start + n - 1) % stride + 1
    return np.repeat(codes[np.arange(first, last + 1) % len(codes)], reps)


def make_space(definition: SpaceDef, ranges: dict | None = None) -> Space:
    """The space of ``definition`` with user ``ranges`` over its defaults.

    Args:
        ranges: ``{key: raw}``; ``raw`` as in :func:`expand_range`. ``depth`` sets every
            cell, ``depth.1`` cell 1 only (it wins over ``depth``).

    Raises:
        UsageError: an unknown key (listing the valid ones), a bad or empty range,
            a value out of bounds, a fixed key given several values, or a space too large.
    """
    ranges = dict(ranges or {})
    _check_keys(definition, ranges)
    fixed: dict = {}
    for k in definition.keys:
        if k.fixed:
            values = expand_range(k.name, ranges.get(k.name, k.default), k.kind, k.choices, k.value_check(k.name))
            if len(values) != 1:
                raise UsageError(f"--range {k.name} takes one value per search, got {len(values)}")
            fixed[k.name] = values[0]
    axes = []
    for k in definition.keys:
        if k.fixed:
            continue
        if k.per is None:
            values = expand_range(k.name, ranges.get(k.name, k.default), k.kind, k.choices, k.value_check(k.name))
            axes.append(Axis(k.name, k.name, values))
            continue
        count = fixed[k.per] if isinstance(k.per, str) else k.per
        for i in range(count):
            name = f"{k.name}.{i}"
            raw = ranges.get(name, ranges.get(k.name, k.default(i) if callable(k.default) else k.default))
            axes.append(Axis(name, k.name, expand_range(name, raw, k.kind, k.choices, k.value_check(name))))
    for name in ranges:
        if "." in name and not any(a.name == name for a in axes):
            valid = ", ".join(a.name for a in axes if a.name != a.key)
            raise UsageError(f"--range {name}: no such cell or stage; valid: {valid}")
    space = Space(definition, tuple(axes), fixed)
    if definition.check is not None:
        definition.check(space)
    if space.size > MAX_SPACE:
        raise UsageError(f"the {definition.name} space has {space.size:.3g} candidates, over the {MAX_SPACE:.3g} "
                         "a search can index; narrow some --range")
    return space


def _check_keys(definition: SpaceDef, ranges: dict) -> None:
    for name in ranges:
        base, dot, index = name.partition(".")
        key = definition.key(base)
        if key is None or (dot and (key.per is None or not index.isdigit())):
            listed = " ".join(f"{k.name}[.i]" if k.per is not None else k.name for k in definition.keys)
            raise UsageError(f"unknown --range key {name!r} for {definition.name}; valid keys: {listed}")
