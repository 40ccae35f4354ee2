"""The scoring progress bar: networks done out of the distinct networks asked for, the
time left, and the proxy that takes most of the time so far."""
from __future__ import annotations

import math
import sys


def slowest_proxy(seconds: dict[str, float]) -> str:
    """``"slowest: grasp 45%"``: the proxy with the largest share of the scoring seconds
    so far (ties: the first named), or "" before any time was counted."""
    counted = {name: s for name, s in seconds.items() if isinstance(s, (int, float)) and math.isfinite(s) and s > 0}
    total = sum(counted.values())
    if not total:
        return ""
    name = max(counted, key=counted.get)
    return f"slowest: {name} {100 * counted[name] / total:.0f}%"


class ScoringProgress:
    """A tqdm bar on stderr over ``total`` distinct networks, ``done`` of them already
    stored; :meth:`scored` counts one network and its per-proxy seconds."""

    def __init__(self, total: int, done: int, desc: str, enabled: bool):
        from tqdm import tqdm

        self.seconds: dict[str, float] = {}
        self.bar = tqdm(total=total, initial=done, desc=desc, unit="net", file=sys.stderr, disable=not enabled,
                        dynamic_ncols=True)

    def scored(self, seconds: dict[str, float]) -> None:
        for name, s in seconds.items():
            if isinstance(s, (int, float)) and math.isfinite(s):
                self.seconds[name] = self.seconds.get(name, 0.0) + s
        postfix = slowest_proxy(self.seconds)
        if postfix:
            self.bar.set_postfix_str(postfix, refresh=False)
        self.bar.update(1)

    def settled_elsewhere(self, count: int) -> None:
        """Networks another run on the store scored meanwhile."""
        if count:
            self.bar.update(count)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()
