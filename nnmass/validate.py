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
import os
import re
import reprlib

from .errors import UsageError

MAX_ECHO = 200  # characters of a bad value a message repeats
MAX_SEED = 2**63 - 1  # seeds are stored in SQLite INTEGER columns (signed 64-bit)
MAX_MULTIPLIER = 64  # width multipliers beyond this overflow channel counts long before they are useful
DEVICE_FORMS = "cpu, cuda or cuda:N"

# ---- Limits on requests: refused with one line before anything is allocated. -------------
# Each is far beyond any real use, and far below what would take a machine down.
MAX_WIDTH = 65536  # widths, channels, classes: the widest real layers have a few thousand
MAX_INPUT_SIZE = 16384  # image side in pixels: 3 x 16384^2 floats are 3 GiB per image already
MAX_INPUT_ELEMENTS = 2**26  # one input batch: 256 MiB of float32; the activations are tens of times that
MAX_BUILD_PARAMS = 2**31  # parameters of a built network: 8 GiB of float32 (ViT-H has 0.63e9)
MAX_BUILD_LAYERS = 10_000  # conv and linear layers of a built network (ResNet-1001 has ~1000)
MAX_LDI_BATCH = 65536  # LDI inputs: one Jacobian per sample and layer is kept
MAX_BOUNDS_WIDTH = 4096  # `bounds` simulates dense (w + m/2) x w Gaussian matrices
MAX_BOUNDS_ENTRIES = 2**27  # trials x rows x width drawn at once for one mass: 1 GiB of float64
MAX_RANGE_VALUES = 2**20  # values of one --range axis (the product of axes is bounded separately)
MAX_GRID_TRIALS = 100_000  # trials of one grid file; the paper's largest grid has 200
MAX_DESIGN_CHUNK = 2**24  # design candidates evaluated at once: ~100 bytes each across their columns
MAX_BOOTSTRAP = 100_000  # bootstrap resamples; intervals settle long before (the default is 1000)
WORKERS_PER_CORE = 4  # --workers beyond this only thrash: each worker trains at full speed on a core

_REPR = reprlib.Repr()  # bounded work and length, even for huge or deeply nested values
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = MAX_ECHO
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 12
_REPR.maxlevel = 4  # so at most 12^4 items are visited


def shown(value) -> str:
    """``repr(value)``, cut to :data:`MAX_ECHO` characters; the work is bounded too,
    so a value built from YAML aliases or a huge list is never written out in full."""
    text = _REPR.repr(value)
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - 3] + "..."


def _is_int(value) -> bool:
    # numpy integers are Integral too; bools (an int subclass) are not integers here.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def int_range_text(lo: int, hi: int | None = None) -> str:
    return f">= {lo}" if hi is None else f"in {lo}..{hi}"


def int_problem(value, lo: int, hi: int | None = None) -> str:
    """The one wording of a bad integer, without the name (argparse adds its own)."""
    return f"must be an integer {int_range_text(lo, hi)}, got {shown(value)}"


def is_int_in(value, lo: int, hi: int | None = None) -> bool:
    """Whether ``value`` is an integer (not a bool) in ``lo..hi`` (``hi=None``: no upper
    bound); for callers that word the error themselves, with :func:`int_problem`."""
    return _is_int(value) and value >= lo and (hi is None or value <= hi)


def check_int(name: str, value, lo: int, hi: int | None = None) -> int:
    """``value`` as an ``int`` in ``lo..hi`` (``hi=None``: no upper bound)."""
    if not is_int_in(value, lo, hi):
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


INT_TEXT = re.compile(r"[+-]?[0-9]{1,1000}")  # 1000 digits: far past any bound, within int()'s limit


def int_text(text) -> int | None:
    """Integer text, strictly: ASCII digits with an optional sign (no ``1_6``, no
    other scripts' digits, no ``2.0``); None if it is not one."""
    text = str(text).strip()
    return int(text) if INT_TEXT.fullmatch(text) else None


def parse_int(text: str, name: str, lo: int, hi: int | None = None) -> int:
    """Integer text (:func:`int_text`) within ``lo..hi``."""
    value = int_text(text)
    if value is None or value < lo or (hi is not None and value > hi):
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


def parse_numbers(text, name: str, lo=None, hi=None, open_lo=False, open_hi=False) -> list[float]:
    """Comma-separated numbers, each as :func:`parse_number`; an empty entry (``0,,8``) is refused."""
    parts = str(text).split(",")
    if any(not p.strip() for p in parts):
        bounds = number_range_text(lo, hi, open_lo, open_hi)
        raise UsageError(f"{name} must be comma-separated numbers{' ' + bounds if bounds else ''}, "
                         f"got {shown(text)}")
    return [parse_number(p, name, lo, hi, open_lo, open_hi) for p in parts]


def check_input_elements(name: str, shape) -> tuple[int, ...]:
    """``shape`` if a float tensor of that shape stays within :data:`MAX_INPUT_ELEMENTS`."""
    shape = tuple(int(s) for s in shape)
    count = math.prod(shape)
    if count > MAX_INPUT_ELEMENTS:
        raise UsageError(f"{name} {'x'.join(map(str, shape))} is {count:,} numbers, over the "
                         f"{MAX_INPUT_ELEMENTS:,} one input batch may hold; use a smaller batch or size")
    return shape


_SHAPE_FORMS = "at least 2 comma-separated positive integers (batch,channels[,height,width])"


def check_shape(name: str, value) -> tuple[int, ...]:
    """An input shape given as a sequence of integers (``INPUT_SHAPE`` of a model file)."""
    if (not isinstance(value, (list, tuple)) or len(value) < 2
            or not all(_is_int(s) and s >= 1 for s in value)):
        raise UsageError(f"{name} must be a tuple of at least 2 positive integers (batch, channels[, height, width]), "
                         f"got {shown(value)}")
    return check_input_elements(name, value)


def parse_shape(text, name: str = "--input-shape") -> tuple[int, ...]:
    """``"1,3,224,224"`` -> ``(1, 3, 224, 224)``, strictly (ASCII digits), within the limits."""
    parts = str(text).split(",")
    if not all(INT_TEXT.fullmatch(p.strip()) for p in parts):
        raise UsageError(f"{name} must be {_SHAPE_FORMS}, got {shown(text)}")
    values = tuple(int(p) for p in parts)
    if len(values) < 2 or min(values) < 1:
        raise UsageError(f"{name} must be {_SHAPE_FORMS}, got {shown(text)}")
    return check_input_elements(name, values)


def check_build_size(name: str, params: int, layers: int) -> None:
    """A network's closed-form size, before it is built: at most :data:`MAX_BUILD_PARAMS`
    parameters and :data:`MAX_BUILD_LAYERS` layers (each layer costs memory of its own)."""
    for count, limit, what in ((params, MAX_BUILD_PARAMS, "parameters"), (layers, MAX_BUILD_LAYERS, "layers")):
        if count > limit:
            raise UsageError(f"{name} has {count:,} {what}, over the {limit:,} nnmass builds; "
                             "its closed-form NN-Mass needs no build: use `nnmass mass`")


def cpu_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def max_workers() -> int:
    return WORKERS_PER_CORE * cpu_cores()


def workers_problem(value) -> str:
    """The one wording of a bad ``--workers``, without the name (argparse adds its own)."""
    return (f"{int_problem(value, 1, max_workers())} ({WORKERS_PER_CORE} per CPU core; "
            f"this machine has {cpu_cores()})")


def check_workers(name: str, value) -> int:
    """Worker processes: ``1..4 x cores``; more only thrash memory and caches."""
    if not _is_int(value) or not 1 <= value <= max_workers():
        raise UsageError(f"{name} {workers_problem(value)}")
    return int(value)
