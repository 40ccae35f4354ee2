"""Values as standard JSON holds them: plain Python numbers and lists (no numpy types),
and ``None`` where a float is not finite (standard JSON has no NaN or Infinity)."""
from __future__ import annotations

import math

import numpy as np


def plain(value):
    """A numpy scalar as the Python number it holds and a numpy array as nested lists;
    any other value as given."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def jsonable(obj):
    """``obj`` with dicts, lists and tuples walked through: numpy values made plain,
    tuples made lists, and every non-finite float replaced by None."""
    obj = plain(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    return obj
