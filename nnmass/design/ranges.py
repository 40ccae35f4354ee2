"""Candidate ranges: ``--range KEY=LO:HI[:STEP]``, ``--range KEY=a,b,c``, or a YAML/JSON file.

Ranges are inclusive of ``HI``. Which keys a space accepts, their types and their
valid bounds are checked by the space (:mod:`nnmass.design.spaces`); this module
only splits and expands the text.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..errors import UsageError

_FLOAT_TOL = 1e-9  # so 0.35:1.4:0.05 includes 1.4 despite binary rounding


def split_range_arg(item: str) -> tuple[str, str]:
    """``"depth=4:24:4"`` -> ``("depth", "4:24:4")``."""
    key, sep, value = str(item).partition("=")
    key, value = key.strip(), value.strip()
    if not sep or not key or not value:
        raise UsageError(f"--range takes KEY=LO:HI[:STEP] or KEY=a,b,c, got {item!r}")
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
    try:
        text = path.read_text()
    except OSError as e:
        raise UsageError(f"cannot read range file {str(path)!r}: {e.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise UsageError(f"malformed range file {str(path)!r}: {e.msg} at line {e.lineno}") from None
    else:
        import yaml  # YAML is a superset of JSON, so .yaml/.yml/.txt all come here
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise UsageError(f"malformed range file {str(path)!r}: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UsageError(f"range file {str(path)!r} must hold a mapping KEY: RANGE")
    return {str(k): v for k, v in data.items()}


def expand_range(key: str, raw, kind: str, choices=()) -> tuple:
    """The values a range stands for, in order, without repeats.

    Args:
        key: the range's key (for messages).
        raw: ``"LO:HI[:STEP]"``, ``"a,b,c"``, a single value, or a list of values.
        kind: ``"int"``, ``"float"`` or ``"choice"`` (one of ``choices``).

    Raises:
        UsageError: malformed text, a value of the wrong type, a bad step, or no values.
    """
    if isinstance(raw, (list, tuple)):
        values = [_convert(key, v, kind, choices) for v in raw]
    elif isinstance(raw, str) and ":" in raw:
        if kind == "choice":
            raise UsageError(f"--range {key} takes a list of {', '.join(choices)}, not LO:HI")
        values = _arange(key, raw, kind)
    elif isinstance(raw, str):
        values = [_convert(key, v.strip(), kind, choices) for v in raw.split(",") if v.strip()]
    else:
        values = [_convert(key, raw, kind, choices)]
    values = list(dict.fromkeys(values))
    if not values:
        raise UsageError(f"--range {key}={raw!r} holds no values; give LO:HI with LO <= HI, or a,b,c")
    return tuple(values)


def _arange(key: str, text: str, kind: str) -> list:
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (2, 3):
        raise UsageError(f"--range {key}={text!r}: expected LO:HI or LO:HI:STEP")
    if kind == "float" and len(parts) == 2:
        raise UsageError(f"--range {key}={text!r}: a range of numbers needs a step, LO:HI:STEP")
    lo, hi = (_convert(key, p, kind) for p in parts[:2])
    step = _convert(key, parts[2], kind) if len(parts) == 3 else 1
    if not step > 0:
        raise UsageError(f"--range {key}={text!r}: STEP must be > 0")
    if lo > hi:
        raise UsageError(f"--range {key}={text!r} is empty: LO must be <= HI")
    count = math.floor((hi - lo) / step + _FLOAT_TOL) + 1
    if kind == "int":
        return list(range(lo, hi + 1, step))
    # Round to 10 decimals so 0.35 + 3 * 0.05 is 0.5, as the user wrote it.
    return [round(lo + k * step, 10) for k in range(count)]


def _convert(key: str, value, kind: str, choices=()):
    if kind == "choice":
        if value not in choices:
            raise UsageError(f"--range {key}: {value!r} is not one of {', '.join(choices)}")
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        raise UsageError(f"--range {key}: expected {'an integer' if kind == 'int' else 'a number'}, got {value!r}")
    if kind == "int":
        if not number.is_integer():
            raise UsageError(f"--range {key}: expected an integer, got {value!r}")
        return int(number)
    return number
