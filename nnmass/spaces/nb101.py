"""NAS-Bench-101 (Ying et al., ICML 2019) as a :class:`~nnmass.spaces.base.SearchSpace`.

An architecture is one cell: a DAG of 2 to 7 vertices given by an upper-triangular
0/1 adjacency matrix (``matrix[i][j] = 1``: an edge ``i -> j``) and one op per
vertex. Vertex 0 is ``input``, the last is ``output``, the others are
``conv1x1-bn-relu``, ``conv3x3-bn-relu`` or ``maxpool3x3``; at most 9 edges.

As NB101's own ``ModelSpec`` does, vertices not on an input -> output path are
pruned away, and the pruned cell *is* the architecture (it computes the same
function). Edges are counted after pruning, as NB101 counts them.

Forms read by :meth:`NB101Space.parse`:

* NB101's JSON: ``{"matrix": [[0, 1, ...], ...], "ops": ["input", ..., "output"]}``;
* NASLib's encoding (the keys of its ``zc_nasbench101.json``): the matrix row by row,
  then one op id per vertex, ``(0, 1, 1, ..., 0, 2, 2, 4, 4, 4, 1)``, with NASLib's ids
  0 input, 1 output, 2 maxpool3x3, 3 conv1x1-bn-relu, 4 conv3x3-bn-relu.

The canonical string (:meth:`NB101Space.format`) is NB101's JSON form of the pruned
cell with sorted keys and no spaces: ``{"matrix":[[0,1],[0,0]],"ops":["input","output"]}``.
Torch-free; the network is built by :mod:`nnmass.models.nb101` (through
:mod:`nnmass.models.space_networks`).
"""
from __future__ import annotations

import itertools
import json

from ..errors import UsageError
from ..validate import parse_int, shown
from ..spec.nb101 import (INPUT, OUTPUT, OPS, NASLIB_OPS, MAX_VERTICES, FORMS, Arch, bad_cell, make_arch, format_arch)
from .base import SearchSpace, Task

class NB101Space(SearchSpace):
    """NAS-Bench-101: one cell of up to 7 vertices and 9 edges, 3 interior ops."""

    name = "nb101"
    prefixes = ("nb101",)
    tasks = {"cifar10": Task("cifar10", 10, (3, 32, 32))}
    default_task = "cifar10"
    set_keys = ("channels", "stacks", "cells", "num_classes")

    def parse(self, text: str) -> Arch:
        """NB101's JSON form or NASLib's tuple (see the module docstring)."""
        if not isinstance(text, str):
            raise UsageError(f"bad NB101 architecture {shown(text)}: write {FORMS}")
        stripped = text.strip()
        if stripped.startswith("{"):
            return _parse_json(stripped)
        if stripped[:1] in ("(", "["):
            return _parse_naslib(stripped)
        raise UsageError(f"bad NB101 architecture {shown(text)}: write {FORMS}")

    def format(self, arch: Arch) -> str:
        return format_arch(arch)

    def naslib_key(self, arch: Arch) -> str:
        matrix, ops = arch
        return "(" + ", ".join([str(v) for row in matrix for v in row]
                               + [str(NASLIB_OPS.index(op)) for op in ops]) + ")"

    def canonical_key(self, arch: Arch) -> str:
        """The smallest string over all relabellings of the interior vertices that keep
        the matrix upper-triangular: isomorphic cells share it, as NB101's graph hash
        makes them one architecture (only which vertex takes a remainder channel of
        the split can differ)."""
        matrix, ops = arch
        n = len(ops)
        best = None
        for perm in itertools.permutations(range(1, n - 1)):
            order = (0, *perm, n - 1)  # new vertex k is old vertex order[k]
            if any(matrix[order[b]][order[a]] for a in range(n) for b in range(a + 1, n)):
                continue
            key = format_arch((tuple(tuple(matrix[order[a]][order[b]] for b in range(n)) for a in range(n)),
                               tuple(ops[o] for o in order)))
            best = key if best is None or key < best else best
        return best

    def network_args(self, arch: Arch, task=None, sets=None) -> dict:
        """``build_nb101``'s arguments: the pruned cell and the network's sizes."""
        sets = self.check_sets(sets)
        sizes = {"channels": 128, "stacks": 3, "cells": 3, "num_classes": self.task(task).num_classes}
        limits = {"channels": (1, 4096), "stacks": (1, 8), "cells": (1, 64), "num_classes": (1, 4096)}
        for key, value in sets.items():
            sizes[key] = parse_int(value, key, *limits[key])
        return {"arch": arch, **sizes}

    def sample(self, rng) -> Arch:
        """A 7-vertex cell with each upper-triangular edge and each interior op drawn
        uniformly, redrawn until valid, then pruned: NB101's own random sampling."""
        n = MAX_VERTICES
        while True:
            bits = rng.integers(0, 2, n * (n - 1) // 2)
            matrix = [[0] * n for _ in range(n)]
            for k, (i, j) in enumerate(itertools.combinations(range(n), 2)):
                matrix[i][j] = int(bits[k])
            ops = [INPUT] + [OPS[int(i)] for i in rng.integers(0, len(OPS), n - 2)] + [OUTPUT]
            try:
                return make_arch(matrix, ops)
            except UsageError:
                continue

    def mutate(self, arch: Arch, rng) -> Arch:
        """One interior op or one edge changed, drawn uniformly among the changes that
        give a valid different cell.

        The pruned cell is first written as a 7-vertex spec, as NB101 stores one before
        pruning: each added vertex gets a random op and one edge in from a random
        earlier vertex, so it is dead (pruned) until one more edge, the mutation, links
        it onwards. Cells can so grow as well as shrink. Vertex 1 always reads the
        input, so even the bare input -> output cell has a neighbour."""
        matrix, ops = arch
        n, pad = len(ops), MAX_VERTICES - len(ops)
        order = list(range(n - 1)) + [None] * pad + [n - 1]  # spec vertex -> cell vertex (None: added)
        big = [[matrix[a][b] if a is not None and b is not None else 0 for b in order] for a in order]
        big_ops = [ops[a] if a is not None else OPS[int(rng.integers(len(OPS)))] for a in order]
        for v in range(n - 1, n - 1 + pad):
            big[int(rng.integers(v))][v] = 1
        found = set()
        for i, j in itertools.combinations(range(MAX_VERTICES), 2):
            changed = [row[:] for row in big]
            changed[i][j] ^= 1
            found.add(_valid_or_none(changed, big_ops))
        for v in range(1, n - 1):
            for op in OPS:
                if op != ops[v]:
                    found.add(_valid_or_none(matrix, ops[:v] + (op,) + ops[v + 1:]))
        found.discard(None)
        found.discard(arch)
        choices = sorted(found, key=format_arch)
        return choices[int(rng.integers(len(choices)))]


def _valid_or_none(matrix, ops):
    try:
        return make_arch(matrix, ops)
    except UsageError:
        return None


def _parse_json(text: str) -> Arch:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"bad NB101 JSON {shown(text)}: {e.msg}; write {FORMS}") from None
    if not isinstance(value, dict) or set(value) != {"matrix", "ops"}:
        raise UsageError(f"bad NB101 JSON {shown(text)}: it must hold exactly the keys matrix and ops")
    matrix, ops = value["matrix"], value["ops"]
    if not (isinstance(matrix, list) and all(isinstance(r, list) for r in matrix)
            and all(isinstance(v, int) and not isinstance(v, bool) for r in matrix for v in r)):
        raise bad_cell("matrix must be a list of rows of 0/1 integers")
    if not (isinstance(ops, list) and all(isinstance(o, str) for o in ops)):
        raise bad_cell("ops must be a list of op names")
    return make_arch(matrix, ops)


def _parse_naslib(text: str) -> Arch:
    closing = {"(": ")", "[": "]"}[text[0]]
    body = text[1:-1] if text.endswith(closing) else None
    try:
        values = [int(v) for v in body.split(",")] if body is not None else None
    except ValueError:
        values = None
    sizes = {n * n + n: n for n in range(2, MAX_VERTICES + 1)}
    if values is None or len(values) not in sizes:
        got = "" if values is None else f" ({len(values)} ints)"
        raise UsageError(f"bad NASLib NB101 encoding {shown(text)}{got}: write n*n matrix entries then n op ids, "
                         f"n in 2..{MAX_VERTICES} (56 ints for 7 vertices), as (0, 1, 1, ..., 2, 4, 1)")
    n = sizes[len(values)]
    ids = values[n * n:]
    if any(not 0 <= i < len(NASLIB_OPS) for i in ids):
        raise bad_cell(f"NASLib op ids must be 0-{len(NASLIB_OPS) - 1} "
                   f"({', '.join(f'{k} {op}' for k, op in enumerate(NASLIB_OPS))}), got {ids}")
    return make_arch([values[i * n:(i + 1) * n] for i in range(n)], [NASLIB_OPS[i] for i in ids])


SPACE = NB101Space()
