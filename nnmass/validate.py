"""One home for checking what users give: integers, numbers, choices, seeds,
budgets and devices. Specs, grids, training settings and every CLI argument
type call these, so each kind of mistake gets one wording::

    NAME must be an integer >= 1, got 0

A bad value is echoed at most :data:`MAX_ECHO` characters long. Pure Python:
only :func:`check_device_available` imports torch, when it is called.
"""
from __future__ import annotations

import math
import numbers
import re

from .errors import UsageError

MAX_ECHO = 200  # characters of a bad value a message repeats
MAX_SEED = 2**63 - 1  # seeds are stored in SQLite INTEGER columns (signed 64-bit)
MAX_MULTIPLIER = 64  # width multipliers beyond this overflow channel counts long before they are useful
DEVICE_FORMS = "cpu, cuda or cuda:N"


def shown(value) -> str:
    """``repr(value)``, cut to :data:`MAX_ECHO` characters."""
    text = repr(value)
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - 3] + "..."


def _is_int(value) -> bool:
    # numpy integers are Integral too; bools (an int subclass) are not integers here.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_range_text(lo: int, hi: int | None = None) -> str:
    return f">= {lo}" if hi is None else f"in {lo}..{hi}"


def int_problem(value, lo: int, hi: int | None = None) -> str:
    """The one wording of a bad integer, without the name (argparse adds its own)."""
    return f"must be an integer {int_range_text(lo, hi)}, got {shown(value)}"


def check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    """``value`` as an ``int`` in ``lo..hi`` (``hi=None``: no upper bound)."""
    if not _is_int(value) or value < lo or (hi is not None and value > hi):
        raise UsageError(f"{name} {int_problem(value, lo, hi)}")
    return int(value)


def check_seed(name: str, value) -> int:
    """A seed: an integer in ``0..2^63-1``, so every store and generator can hold it."""
    return check_int(name, value, 0, MAX_SEED)


def check_choice(name: str, value, choices):
    if not isinstance(value, (str, int, float, bool, type(None))) or value not in choices:
        raise UsageError(f"{name} must be one of {', '.join(map(str, choices))}, got {shown(value)}")
    return value


def number_range_text(lo=None, hi=None, open_lo=False, open_hi=False) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if open_lo else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if open_hi else '<='} {hi:g}")
    return " and ".join(parts)


def check_number(name: str, value, lo=None, hi=None, open_lo=False, open_hi=False) -> float:
    """A finite real number within the given bounds (open or closed)."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and lo is not None:
        ok = value > lo if open_lo else value >= lo
    if ok and hi is not None:
        ok = value < hi if open_hi else value <= hi
    if not ok:
        bounds = number_range_text(lo, hi, open_lo, open_hi)
        raise UsageError(f"{name} must be a number{' ' + bounds if bounds else ''}, got {shown(value)}")
    return value


def check_multiplier(name: str, value, hi: float = MAX_MULTIPLIER) -> float:
    """A width multiplier: a number in ``(0, hi]``."""
    return check_number(name, value, lo=0, hi=hi, open_lo=True)


def check_counts(name: str, value, n: int, hi: int, what: str = "") -> tuple[int, ...]:
    """Exactly ``n`` integers in ``1..hi`` (blocks per stage and the like)."""
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if len(values) != n:
        raise UsageError(f"{name} needs {n} values{what}, got {len(values)}")
    return tuple(check_int(name, v, 1, hi) for v in values)


INT_TEXT = re.compile(r"[+-]?[0-9]+")


def parse_int(text: str, name: str, lo: int, hi: int | None = None) -> int:
    """Integer text, strictly: ASCII digits with an optional sign (no ``1_6``, no
    other scripts' digits, no ``2.0``), within ``lo..hi``."""
    text = str(text).strip()
    if not INT_TEXT.fullmatch(text):
        raise UsageError(f"{name} {int_problem(text, lo, hi)}")
    value = int(text)
    if value < lo or (hi is not None and value > hi):
        raise UsageError(f"{name} {int_problem(text, lo, hi)}")
    return value


FLOAT_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_number(text: str, name: str, lo=None, hi=None, open_lo=False, open_hi=False) -> float:
    """Decimal number text, strictly (ASCII digits, optional exponent), within the bounds."""
    text = str(text).strip()
    if not FLOAT_TEXT.fullmatch(text):
        bounds = number_range_text(lo, hi, open_lo, open_hi)
        raise UsageError(f"{name} must be a number{' ' + bounds if bounds else ''}, got {shown(text)}")
    return check_number(name, float(text), lo, hi, open_lo, open_hi)


_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_COUNT_FORMS = "a whole number like 4000000, 4e6, 250k, 4M, 400M or 1.5G"
_COUNT = re.compile(r"^([0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)([kmgt]?)$", re.IGNORECASE)


def parse_count(text, name: str = "number") -> int:
    """A budget as people write it: ``4000000``, ``4e6``, ``4M``, ``400M``, ``1.5G``,
    ``250k`` (suffixes k, M, G, T are powers of 1000), as a positive integer.

    Raises:
        UsageError: naming ``name`` and the accepted forms when ``text`` is not one,
            is not positive, or is not a whole number (``1.2345k``).
    """
    if isinstance(text, bool):
        raise UsageError(f"{name} must be {_COUNT_FORMS}, got {shown(text)}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = _COUNT.match(str(text).strip())
        if not m:
            if str(text).strip().startswith("-"):
                raise UsageError(f"{name} must be > 0 ({_COUNT_FORMS}), got {shown(text)}")
            raise UsageError(f"{name} must be {_COUNT_FORMS}, got {shown(text)}")
        value = float(m.group(1)) * _SUFFIX[m.group(2).lower()]
    if not math.isfinite(value):
        raise UsageError(f"{name} must be {_COUNT_FORMS}, got {shown(text)}")
    if value <= 0:
        raise UsageError(f"{name} must be > 0 ({_COUNT_FORMS}), got {shown(text)}")
    # Round away float noise (4.1e6 is 4099999.9999...) but refuse real fractions.
    whole = round(value)
    if abs(value - whole) > 1e-6 * max(1.0, value):
        raise UsageError(f"{name} must come to a whole count ({_COUNT_FORMS}), got {shown(text)}")
    return int(whole)


_DEVICE = re.compile(r"cpu|cuda(?::[0-9]+)?")


def parse_device(text, name: str = "device") -> str:
    """``cpu``, ``cuda`` or ``cuda:N``, as text; anything else is refused (not checked
    for availability: see :func:`check_device_available`)."""
    value = str(text).strip() if isinstance(text, str) else None
    if value is None or not _DEVICE.fullmatch(value):
        raise UsageError(f"{name} must be {DEVICE_FORMS}, got {shown(text)}")
    return value


def device_problem(device: str) -> str | None:
    """Why this machine cannot run on ``device`` (a parsed device), or None (imports torch for cuda)."""
    if device == "cpu":
        return None
    import torch
    if not torch.cuda.is_available():
        return f"{device}: no CUDA device is available here; use cpu"
    index = int(device.split(":")[1]) if ":" in device else 0
    count = torch.cuda.device_count()
    if index >= count:
        return f"{device}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}"
    return None


def check_device_available(device, name: str = "device") -> str:
    """:func:`parse_device`, then that this machine has it."""
    device = parse_device(device, name)
    problem = device_problem(device)
    if problem:
        raise UsageError(f"{name} {problem}")
    return device
