"""The module wiring of an NB201-style cell, an exact rule for which cells compute the
same thing: the same modules reading the same tensors, whatever the cell's node
numbering and however its sums are grouped.

A cell's :func:`~nnmass.spaces.cell_dag.alias_form` keeps a node computed by one
module and read only through one identity edge as a node of its own, though it is
just a summand of its reader: ``2 = pool(0) + skip(1), 1 = conv(0)`` and
``2 = conv(0) + skip(1), 1 = pool(0)`` wire the same two modules into the same sum.
Here a node's tensor is the multiset of module outputs (and copies of the input)
that it adds up, with identity edges expanded, and two cells match when a bijection
of their modules, op for op, carries every module's input and the output onto the
other's. The bijection is searched for by brute force (NB201 has at most six
modules), so a match is proven, never guessed; a structural invariant only decides
which pairs are worth trying. Pure Python.
"""
from __future__ import annotations

import collections
import itertools
from typing import Hashable, Iterable

INPUT = "x"
"""The cell's input in a tensor's multiset."""


class Wiring:
    """The modules of one alias form (``(has_output, ((to, src, op), ...))``): each
    module's op and the tensor it reads, and the tensor the cell returns. A tensor is
    a ``Counter`` over module indices and :data:`INPUT`."""

    def __init__(self, form: tuple, alias_op: str = "skip_connect"):
        has_output, edges = form
        modules: list[tuple[int, str]] = []  # (source node, op); parallel equal edges are two modules
        into = collections.defaultdict(list)  # node -> its summands: ("skip", source) or ("module", index)
        for to, src, op in edges:
            if op == alias_op:
                into[to].append(("skip", src))
            else:
                into[to].append(("module", len(modules)))
                modules.append((src, op))
        memo: dict[int, collections.Counter] = {}

        def tensor(node: int) -> collections.Counter:
            if node == 0:
                return collections.Counter({INPUT: 1})
            if node not in memo:
                total = collections.Counter()
                for kind, value in into[node]:
                    total += tensor(value) if kind == "skip" else collections.Counter({value: 1})
                memo[node] = total
            return memo[node]

        self.ops = [op for _, op in modules]
        self.reads = [tensor(src) for src, _ in modules]
        output = max((to for to, _, _ in edges), default=0) if has_output else 0
        self.output = tensor(output)

    def invariant(self) -> Hashable:
        """Equal for matching wirings (a function of ops and structure only, not of
        module numbering); unequal invariants rule a match out."""
        memo: dict[int, tuple] = {}

        def expression(item) -> tuple:
            if item == INPUT:
                return (INPUT,)
            if item not in memo:
                memo[item] = (self.ops[item], summed(self.reads[item]))
            return memo[item]

        def summed(counter: collections.Counter) -> tuple:
            return tuple(sorted((expression(item), n) for item, n in counter.items()))

        return summed(self.output), tuple(sorted(self.ops))

    def matches(self, other: "Wiring") -> bool:
        """Whether some op-preserving bijection of modules carries this wiring onto
        ``other``'s: every module's input, and the output."""
        if sorted(self.ops) != sorted(other.ops):
            return False
        by_op = collections.defaultdict(list)
        for j, op in enumerate(other.ops):
            by_op[op].append(j)
        groups = [[i for i, op in enumerate(self.ops) if op == name] for name in sorted(by_op)]
        for images in itertools.product(*(itertools.permutations(by_op[name]) for name in sorted(by_op))):
            image = {i: j for group, targets in zip(groups, images) for i, j in zip(group, targets)}
            if _moved(self.output, image) == other.output and all(
                    _moved(self.reads[i], image) == other.reads[image[i]] for i in image):
                return True
        return False


def _moved(counter: collections.Counter, image: dict) -> collections.Counter:
    return collections.Counter({image.get(item, item): n for item, n in counter.items()})


def wiring_classes(forms: Iterable[tuple | None], alias_op: str = "skip_connect") -> dict:
    """``{form: representative form}`` over the distinct ``forms``: forms whose wirings
    match share the representative (the first of them met). ``None`` (a cell that
    computes zero) is its own class."""
    classes: dict = {}
    firsts: dict[Hashable, list[tuple[tuple, Wiring]]] = collections.defaultdict(list)
    for form in forms:
        if form in classes:
            continue
        if form is None:
            classes[form] = None
            continue
        wiring = Wiring(form, alias_op)
        bucket = firsts[wiring.invariant()]
        match = next((first for first, seen in bucket if wiring.matches(seen)), None)
        if match is None:
            bucket.append((form, wiring))
            match = form
        classes[form] = match
    return classes
