"""TransNAS-Bench-101's macro space: 4 to 6 modules of two ResNet basic blocks
each, at 64 stem channels. A module's code says what it does to the features:
1 nothing, 2 doubles the channels, 3 halves the resolution, 4 both. The benchmark
keeps the codes with 1 to 4 halvings and 1 to 3 doublings: 3,256 architectures.

Forms read: the benchmark's string ``64-1234-basic`` and NASLib's key
``(1, 2, 3, 4, 0, 0)``, the same codes padded with 0s (no module) to six
(NASLib's ``convert_naslib_to_transbench101_macro`` drops the 0s).
Torch-free; the network is built by :mod:`nnmass.models.space_networks`.
"""
from __future__ import annotations

import itertools
import re
from typing import Iterator

from ..errors import UsageError
from ..validate import shown
from .base import SearchSpace
from .transnas_micro import _tuple_codes
from .transnas_tasks import DEFAULT_TASK, SET_KEYS, TASKS, parse_sets

_FORM = ("64-CODES-basic with 4 to 6 module codes 1-4 (1 keep, 2 double channels, 3 halve resolution, 4 both), "
         "1-4 of them halving and 1-3 doubling, or NASLib's 6-tuple padded with 0s like (1, 2, 3, 4, 0, 0)")
_STRING = re.compile(r"(\d+)-(\d+)-basic")


def check_codes(codes: tuple[int, ...], text) -> tuple[int, ...]:
    """``codes`` if they are a macro architecture, else a one-line UsageError."""
    if not 4 <= len(codes) <= 6:
        raise UsageError(f"tnb-macro arch {shown(text)} has {len(codes)} modules; valid: 4 to 6 ({_FORM})")
    bad = [c for c in codes if not 1 <= c <= 4]
    if bad:
        raise UsageError(f"tnb-macro module code {bad[0]} in {shown(text)} is not one of 1-4 ({_FORM})")
    halvings = sum(c in (3, 4) for c in codes)
    doublings = sum(c in (2, 4) for c in codes)
    if not 1 <= halvings <= 4:
        raise UsageError(f"tnb-macro arch {shown(text)} halves the resolution {halvings} times (codes 3, 4); valid: 1 to 4")
    if not 1 <= doublings <= 3:
        raise UsageError(f"tnb-macro arch {shown(text)} doubles the channels {doublings} times (codes 2, 4); valid: 1 to 3")
    return codes


class TransNASMacroSpace(SearchSpace):
    """TransNAS-Bench-101 macro: an arch is the tuple of its module codes (4 to 6)."""

    name = "tnb-macro"
    prefixes = ("tnb-macro",)
    tasks = TASKS
    default_task = DEFAULT_TASK
    set_keys = SET_KEYS
    _all: list | None = None

    def parse(self, text: str) -> tuple[int, ...]:
        """``64-1234-basic`` or NASLib's ``(1, 2, 3, 4, 0, 0)``."""
        if not isinstance(text, str):
            raise UsageError(f"bad tnb-macro arch {shown(text)}: write {_FORM}")
        s = text.strip()
        if s.startswith("("):
            codes = _tuple_codes(s)
            if codes is None or len(codes) != 6:
                raise UsageError(f"bad NASLib tnb-macro key {shown(text)}: write six codes, 0s last, "
                                 "as (1, 2, 3, 4, 0, 0)")
            used = tuple(c for c in codes if c != 0)
            if codes[len(used):] != (0,) * (6 - len(used)):
                raise UsageError(f"NASLib tnb-macro key {shown(text)} has a 0 (no module) before a module; "
                                 "the 0s come last, as (1, 2, 3, 4, 0, 0)")
            return check_codes(used, text)
        m = _STRING.fullmatch(s)
        if m is None:
            raise UsageError(f"bad tnb-macro arch {shown(text)}: write {_FORM}")
        if m.group(1) != "64":
            raise UsageError(f"tnb-macro arch {shown(text)} must start 64- (the benchmark's stem; "
                             "--set channels= changes the width)")
        return check_codes(tuple(int(c) for c in m.group(2)), text)

    def format(self, arch) -> str:
        return "64-" + "".join(map(str, arch)) + "-basic"

    def naslib_key(self, arch) -> str:
        return "(" + ", ".join(map(str, tuple(arch) + (0,) * (6 - len(arch)))) + ")"

    def network_args(self, arch, task=None, sets=None) -> dict:
        """``build_transnas``'s arguments: the module codes, no cell (basic blocks), the
        task's head."""
        sets = self.check_sets(sets)
        t = self.task(task)
        channels, classes = parse_sets(sets, t)
        return {"modules": "".join(map(str, arch)), "cell": None, "task": t.name, "classes": classes,
                "channels": channels}

    def _list(self) -> list[tuple[int, ...]]:
        if self._all is None:
            valid = []
            for n in (4, 5, 6):
                for codes in itertools.product(range(1, 5), repeat=n):
                    halvings = sum(c in (3, 4) for c in codes)
                    doublings = sum(c in (2, 4) for c in codes)
                    if 1 <= halvings <= 4 and 1 <= doublings <= 3:
                        valid.append(codes)
            self._all = valid
        return self._all

    def size(self) -> int:
        return len(self._list())

    def enumerate(self) -> Iterator[tuple[int, ...]]:
        return iter(self._list())

    def sample(self, rng) -> tuple[int, ...]:
        options = self._list()
        return options[int(rng.integers(len(options)))]

    def mutate(self, arch, rng) -> tuple[int, ...]:
        """One module changed, added or removed, uniformly among the valid results."""
        arch = tuple(arch)
        candidates = set()
        for i in range(len(arch)):
            for c in range(1, 5):
                candidates.add(arch[:i] + (c,) + arch[i + 1:])
            candidates.add(arch[:i] + arch[i + 1:])
        for i in range(len(arch) + 1):
            for c in range(1, 5):
                candidates.add(arch[:i] + (c,) + arch[i:])
        valid = set(self._list())
        neighbours = sorted(a for a in candidates if a != arch and a in valid)
        return neighbours[int(rng.integers(len(neighbours)))]


SPACE = TransNASMacroSpace()
