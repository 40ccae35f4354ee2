"""Budget numbers as people write them: ``4000000``, ``4e6``, ``4M``, ``400M``, ``1.5G``, ``250k``."""
from __future__ import annotations

import math
import re

from ..errors import UsageError

_SUFFIX = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_FORMS = "a whole number like 4000000, 4e6, 250k, 4M, 400M or 1.5G"
_PATTERN = re.compile(r"^([0-9][0-9_]*(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)([kmgt]?)$", re.IGNORECASE)


def parse_count(text, name: str = "number") -> int:
    """``text`` as a positive integer count (suffixes k, M, G, T are powers of 1000).

    Raises:
        UsageError: naming ``name`` and the accepted forms when ``text`` is not one,
            is not positive, or is not a whole number (``1.2345k``).
    """
    if isinstance(text, bool):
        raise UsageError(f"{name} must be {_FORMS}, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = _PATTERN.match(str(text).strip())
        if not m:
            raise UsageError(f"{name} must be {_FORMS}, got {text!r}")
        value = float(m.group(1).replace("_", "")) * _SUFFIX[m.group(2).lower()]
    if not math.isfinite(value):
        raise UsageError(f"{name} must be {_FORMS}, got {text!r}")
    if value <= 0:
        raise UsageError(f"{name} must be > 0 ({_FORMS}), got {text!r}")
    # Round away float noise (4.1e6 is 4099999.9999...) but refuse real fractions.
    whole = round(value)
    if abs(value - whole) > 1e-6 * max(1.0, value):
        raise UsageError(f"{name} must come to a whole count ({_FORMS}), got {text!r}")
    return int(whole)
