"""TransNAS-Bench-101's micro space: the benchmark's fixed skeleton ``64-41414``
around one searched cell of six edges, four ops each (4^6 = 4,096 cells).

Forms read: the benchmark's string ``64-41414-3_33_333`` (the cell's op codes by
target node: ``1<-0 _ 2<-0 2<-1 _ 3<-0 3<-1 3<-2``; codes 0 none, 1 skip,
2 conv1x1, 3 conv3x3) and NASLib's key ``(3, 3, 3, 3, 3, 3)``, the same six codes
in the same order (NASLib's ``convert_naslib_to_transbench101_micro``). Every one of
the 4,096 cells is in the benchmark, those whose output is all zero included.
Torch-free; the network is built by :mod:`nnmass.models.space_networks`.
"""
from __future__ import annotations

import itertools
import re
from typing import Iterator

from ..errors import UsageError
from ..validate import shown
from .base import SearchSpace
from .transnas_tasks import DEFAULT_TASK, SET_KEYS, TASKS, parse_sets

SKELETON = "41414"
OPS = ("none", "skip_connect", "conv1x1", "conv3x3")  # by op code
_FORM = "64-41414-A_BC_DEF with op codes 0-3 (0 none, 1 skip, 2 conv1x1, 3 conv3x3), or NASLib's (A, B, C, D, E, F)"
_STRING = re.compile(r"(\d+)-(\d+)-(\d)_(\d\d)_(\d\d\d)")


class TransNASMicroSpace(SearchSpace):
    """TransNAS-Bench-101 micro: an arch is the tuple of its six op codes."""

    name = "tnb-micro"
    prefixes = ("tnb-micro",)
    tasks = TASKS
    default_task = DEFAULT_TASK
    set_keys = SET_KEYS

    def parse(self, text: str) -> tuple[int, ...]:
        """``64-41414-1_00_210`` or NASLib's ``(1, 0, 0, 2, 1, 0)``."""
        if not isinstance(text, str):
            raise UsageError(f"bad tnb-micro arch {shown(text)}: write {_FORM}")
        s = text.strip()
        if s.startswith("("):
            codes = _tuple_codes(s)
            if codes is None or len(codes) != 6:
                raise UsageError(f"bad NASLib tnb-micro key {shown(text)}: write six op codes 0-3 as (1, 0, 0, 2, 1, 0)")
        else:
            m = _STRING.fullmatch(s)
            if m is None:
                raise UsageError(f"bad tnb-micro arch {shown(text)}: write {_FORM}")
            if m.group(1) != "64" or m.group(2) != SKELETON:
                raise UsageError(f"tnb-micro arch {shown(text)} must start 64-41414- (the benchmark's skeleton; "
                                 "--set channels= changes the width)")
            codes = tuple(int(c) for c in "".join(m.group(3, 4, 5)))
        bad = [c for c in codes if not 0 <= c <= 3]
        if bad:
            raise UsageError(f"tnb-micro op code {bad[0]} in {shown(text)} is not one of 0-3 "
                             "(0 none, 1 skip, 2 conv1x1, 3 conv3x3)")
        return codes

    def format(self, arch) -> str:
        a, b, c, d, e, f = arch
        return f"64-{SKELETON}-{a}_{b}{c}_{d}{e}{f}"

    def naslib_key(self, arch) -> str:
        return "(" + ", ".join(map(str, arch)) + ")"

    def canonical_key(self, arch) -> str:
        """The cell with its dead edges dropped and its two intermediate nodes in the
        smallest order (:func:`nnmass.spaces.cell_dag.canonical_ops`), as a string: the
        cell sums its inputs at each node, as NB201's does, with the same edge order."""
        from ..spec.nb201 import EDGES
        from .cell_dag import canonical_ops
        ops = canonical_ops(4, EDGES, [OPS[c] for c in arch])
        return self.format(tuple(OPS.index(op) for op in ops))

    def network_args(self, arch, task=None, sets=None) -> dict:
        """``build_transnas``'s arguments: the skeleton, the cell, the task's head."""
        sets = self.check_sets(sets)
        t = self.task(task)
        channels, classes = parse_sets(sets, t)
        return {"modules": SKELETON, "cell": tuple(arch), "task": t.name, "classes": classes, "channels": channels}

    def size(self) -> int:
        return 4 ** 6

    def enumerate(self) -> Iterator[tuple[int, ...]]:
        return iter(itertools.product(range(4), repeat=6))

    def sample(self, rng) -> tuple[int, ...]:
        return tuple(int(i) for i in rng.integers(0, 4, 6))

    def mutate(self, arch, rng) -> tuple[int, ...]:
        edge = int(rng.integers(6))
        others = [op for op in range(4) if op != arch[edge]]
        out = list(arch)
        out[edge] = others[int(rng.integers(len(others)))]
        return tuple(out)


def _tuple_codes(text: str) -> tuple[int, ...] | None:
    """The ints of ``"(1, 0, 2)"``, or None if it is not such a tuple."""
    if not text.endswith(")"):
        return None
    try:
        return tuple(int(v) for v in text[1:-1].split(","))
    except ValueError:
        return None


SPACE = TransNASMicroSpace()
