"""What every spec shares: JSON records, copies with changed fields, and the
conversions of hand-written JSON values. Pure Python + numpy."""
from __future__ import annotations

import dataclasses
import json
from typing import ClassVar

from ..json_values import jsonable


class Spec:
    """Behaviour shared by every spec dataclass."""

    family: ClassVar[str]

    def to_dict(self) -> dict:
        d = {"family": self.family}
        for f in dataclasses.fields(self):
            d[f.name] = jsonable(getattr(self, f.name))
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


def as_tuple(v):
    return tuple(as_tuple(x) for x in v) if isinstance(v, (list, tuple)) else v

