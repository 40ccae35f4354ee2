"""Candidate ranges: ``--range KEY=LO:HI[:STEP]``, ``--range KEY=a,b,c``, or a YAML/JSON file.

Ranges are inclusive of ``HI``. Which keys a space accepts, their types and their
valid bounds are checked by the space (:mod:`nnmass.design.spaces`); this module
only splits and expands the text.
"""
from __future__ import annotations

import math
from pathlib import Path

from ..errors import UsageError
from ..validate import FLOAT_TEXT, MAX_RANGE_VALUES, int_text, shown
from ..files.reading import parse_yaml_or_json, read_text_file

_FLOAT_TOL = 1e-9  # so 0.35:1.4:0.05 includes 1.4 despite binary rounding


def split_range_arg(item: str) -> tuple[str, str]:
    """``"depth=4:24:4"`` -> ``("depth", "4:24:4")``."""
    key, sep, value = str(item).partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise UsageError(f"--range takes KEY=LO:HI[:STEP] or KEY=a,b,c, got {shown(item)}")
    return key, value


def parse_range_args(items) -> dict:
    """Several ``--range`` arguments -> ``{key: text}``; a key may be given once."""
    out: dict = {}
    for item in items or []:
        key, value = split_range_arg(item)
        if key in out:
            raise UsageError(f"--range {key} given twice; give each key once")
        out[key] = value
    return out


def read_range_file(path) -> dict:
    """A YAML or JSON mapping ``key -> "LO:HI[:STEP]" | "a,b,c" | [a, b, c] | value``."""
    path = Path(path)
    data = parse_yaml_or_json(read_text_file(path, "range file"), str(path), "range file",
                              as_json=path.suffix.lower() == ".json")
    if not isinstance(data, dict):
        raise UsageError(f"range file {str(path)!r} must hold a mapping KEY: RANGE")
    return {str(k): v for k, v in data.items()}


def expand_range(key: str, raw, kind: str, choices=(), check=None) -> tuple:
    """The values a range stands for, in order, without repeats.

    Args:
        key: the range's key (for messages).
        raw: ``"LO:HI[:STEP]"``, ``"a,b,c"``, a single value, or a list of values.
        kind: ``"int"``, ``"float"`` or ``"choice"`` (one of ``choices``).
        check: ``check(value)`` raises for a value out of bounds; a ``LO:HI`` range is
            checked at both ends, and its size computed, before any value is built.

    Raises:
        UsageError: malformed text, a value of the wrong type, a bad step, a value out
            of bounds, more than :data:`MAX_RANGE_VALUES` values, or no values.
    """
    if isinstance(raw, (list, tuple)):
        values = [_convert(key, v, kind, choices) for v in raw]
    elif isinstance(raw, str) and ":" in raw:
        if kind == "choice":
            raise UsageError(f"--range {key} takes a list of {', '.join(choices)}, not LO:HI")
        values = _arange(key, raw, kind, check)
    elif isinstance(raw, str):
        values = [_convert(key, v.strip(), kind, choices) for v in raw.split(",") if v.strip()]
    else:
        values = [_convert(key, raw, kind, choices)]
    values = list(dict.fromkeys(values))
    if not values:
        raise UsageError(f"--range {key}={shown(raw)} holds no values; give LO:HI with LO <= HI, or a,b,c")
    if check is not None:
        for v in values:
            check(v)
    return tuple(values)


def _arange(key: str, text: str, kind: str, check=None) -> list:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3):
        raise UsageError(f"--range {key}={shown(text)}: expected LO:HI or LO:HI:STEP")
    if kind == "float" and len(parts) == 2:
        raise UsageError(f"--range {key}={shown(text)}: a range of numbers needs a step, LO:HI:STEP")
    lo, hi = (_convert(key, p, kind) for p in parts[:2])
    step = _convert(key, parts[2], kind) if len(parts) == 3 else 1
    if not step > 0:
        raise UsageError(f"--range {key}={shown(text)}: STEP must be > 0")
    if lo > hi:
        raise UsageError(f"--range {key}={shown(text)} is empty: LO must be <= HI")
    # Bounds and size first, by arithmetic: 1:100000000 must not build a list to find out.
    span = (hi - lo) / step
    if check is not None:
        check(lo)
        check(hi if not math.isfinite(span) else lo + math.floor(span + _FLOAT_TOL) * step)
    count = math.floor(span + _FLOAT_TOL) + 1 if math.isfinite(span) else math.inf
    if count > MAX_RANGE_VALUES:
        raise UsageError(f"--range {key}={shown(text)} has {count:,.0f} values, over the {MAX_RANGE_VALUES:,} "
                         "one range may hold; use a larger STEP")
    if kind == "int":
        return list(range(lo, hi + 1, step))
    # Round to 10 decimals so 0.35 + 3 * 0.05 is 0.5, as the user wrote it.
    return [round(lo + k * step, 10) for k in range(count)]


def _convert(key: str, value, kind: str, choices=()):
    """One value of ``kind``; text strictly (ASCII digits: no ``1_6``, no other scripts' digits)."""
    if kind == "choice":
        if value not in choices:
            raise UsageError(f"--range {key}: {shown(value)} is not one of {', '.join(choices)}")
        return value
    what = "an integer" if kind == "int" else "a number"
    if isinstance(value, str):
        number = int_text(value) if kind == "int" else (
            float(value) if FLOAT_TEXT.fullmatch(value.strip()) else None)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        number = None
    elif kind == "int":
        number = value if isinstance(value, int) or value.is_integer() else None
    else:
        number = value
    try:
        if number is None or not math.isfinite(number):
            raise OverflowError
        return int(number) if kind == "int" else float(number)
    except OverflowError:  # also a YAML integer too large for a float
        raise UsageError(f"--range {key}: expected {what}, got {shown(value)}") from None
