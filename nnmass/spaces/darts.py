"""The DARTS space (Liu, Simonyan, Yang, ICLR 2019) as NAS-Bench-301 (Siems et al.,
2020) benchmarks it, a :class:`~nnmass.spaces.base.SearchSpace`: one normal and one
reduction cell, each of 4 intermediate nodes that sum two ops on two different
earlier states (states 0 and 1 are the outputs of the two previous cells), the
cell's output the concatenation of nodes 2-5.

An architecture is ``(normal, reduce)``, each a tuple of 8 ``(op, input)`` pairs,
two per node in the order given (node ``2 + k`` holds pairs ``2k`` and ``2k + 1``).
Two strings name one:

- DARTS's ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5],
  reduce=[...], reduce_concat=[2, 3, 4, 5])`` (``range(2, 6)`` too, as DARTS prints it);
  this is the stored form (:meth:`DartsSpace.format`);
- NASLib's compact form, the keys of its ``zc_nasbench301.json``:
  ``[[(0, 0), (1, 5), ...], [...]]``, 8 ``(input, op id)`` pairs per cell.

The order of a node's two pairs and the numbering of the nodes are kept as written,
so both strings round-trip; :meth:`DartsSpace.canonical_key` undoes both (one network
per computation, up to the order of channels).
"""
from __future__ import annotations

import ast
from itertools import permutations
from typing import Any, Mapping

from ..errors import UsageError
from ..validate import parse_int, shown
from ..spec.darts import CONCAT, NODES, OPS
from .base import SearchSpace, Task

MAX_TEXT = 4000
"""Longer text is refused before it is parsed: no genotype string comes near it."""

GENOTYPE_FORM = ("Genotype(normal=[('sep_conv_3x3', 0), ... 8 (op, input) pairs], normal_concat=[2, 3, 4, 5], "
                 "reduce=[... 8 pairs], reduce_concat=[2, 3, 4, 5])")
COMPACT_FORM = "NASLib's [[(0, 0), (1, 5), ... 8 (input, op id) pairs], [... 8 pairs]]"
CELL_NAMES = ("normal", "reduce")


def _bad(text: str, why: str, form: str) -> UsageError:
    return UsageError(f"bad NB301/DARTS architecture {shown(text)}: {why}; write {form}")


def check_cell(cell, name: str, text: str, form: str, ops_from_ids: bool) -> tuple[tuple[str, int], ...]:
    """One cell as 8 ``(op, input)`` pairs; ``ops_from_ids`` reads NASLib's
    ``(input, op id)`` pairs instead of the genotype's ``(op, input)``.

    Raises:
        UsageError: not 8 pairs, an unknown op, an input from the node itself or a
            later one (a cycle), or a node reading one state twice.
    """
    if not isinstance(cell, (list, tuple)) or len(cell) != 2 * NODES:
        count = len(cell) if isinstance(cell, (list, tuple)) else "no list of"
        raise _bad(text, f"the {name} cell has {count} pairs; each of its {NODES} nodes takes exactly two "
                         f"inputs ({2 * NODES} pairs)", form)
    pairs = []
    for i, pair in enumerate(cell):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _bad(text, f"{name} pair {i} is {shown(pair)}, not a pair", form)
        op, source = (pair[1], pair[0]) if ops_from_ids else pair
        if ops_from_ids:
            if not isinstance(op, int) or isinstance(op, bool) or not 0 <= op < len(OPS):
                raise _bad(text, f"{name} pair {i} has op id {shown(op)}; valid: 0-{len(OPS) - 1} "
                                 f"({', '.join(OPS)})", form)
            op = OPS[op]
        elif op not in OPS:
            raise _bad(text, f"{name} pair {i} has unknown op {shown(op)}; valid: {', '.join(OPS)}", form)
        node = 2 + i // 2
        if not isinstance(source, int) or isinstance(source, bool) or source < 0:
            raise _bad(text, f"{name} pair {i} has input {shown(source)}; node {node} reads states 0-{node - 1}",
                       form)
        if source >= node:
            raise _bad(text, f"{name} node {node} reads state {source}, which is not computed before it "
                             f"(a cycle); node {node} reads states 0-{node - 1}", form)
        pairs.append((op, source))
    for k in range(NODES):
        if pairs[2 * k][1] == pairs[2 * k + 1][1]:
            raise _bad(text, f"{name} node {2 + k} reads state {pairs[2 * k][1]} twice; its two inputs must be "
                             "different states", form)
    return tuple(pairs)


def _literal(node: ast.AST, text: str, what: str):
    """A list literal of the genotype, or ``range(a, b)`` as DARTS prints a concat."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and not node.keywords and 1 <= len(node.args) <= 3):
        try:
            return list(range(*(ast.literal_eval(a) for a in node.args)))
        except (ValueError, TypeError):
            pass
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _bad(text, f"{what} is no list", GENOTYPE_FORM) from None


def parse_genotype(text: str):
    """``(normal, reduce)`` of a DARTS ``Genotype(...)`` string."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise _bad(text, "not a Genotype(...) expression", GENOTYPE_FORM) from None
    if not (isinstance(tree, ast.Call) and isinstance(tree.func, (ast.Name, ast.Attribute))
            and (getattr(tree.func, "id", None) or getattr(tree.func, "attr", None)) == "Genotype"):
        raise _bad(text, "not a Genotype(...) expression", GENOTYPE_FORM)
    fields = ("normal", "normal_concat", "reduce", "reduce_concat")
    if len(tree.args) > len(fields):
        raise _bad(text, f"Genotype takes {len(fields)} fields, got {len(tree.args)}", GENOTYPE_FORM)
    given = dict(zip(fields, tree.args))
    for kw in tree.keywords:
        if kw.arg not in fields or kw.arg in given:
            raise _bad(text, f"unexpected or repeated field {shown(kw.arg)}; fields: {', '.join(fields)}",
                       GENOTYPE_FORM)
        given[kw.arg] = kw.value
    missing = [f for f in fields if f not in given]
    if missing:
        raise _bad(text, f"missing field(s) {', '.join(missing)}", GENOTYPE_FORM)
    values = {f: _literal(given[f], text, f) for f in fields}
    for name in CELL_NAMES:
        concat = values[f"{name}_concat"]
        if not isinstance(concat, (list, tuple, range)) or list(concat) != list(CONCAT):
            raise _bad(text, f"{name}_concat is {shown(concat)}; NB301 cells concatenate nodes "
                             f"{list(CONCAT)} (range(2, 6))", GENOTYPE_FORM)
    return tuple(check_cell(values[name], name, text, GENOTYPE_FORM, False) for name in CELL_NAMES)


def parse_compact(text: str):
    """``(normal, reduce)`` of NASLib's compact ``[[(input, op id) x 8], [...]]``."""
    try:
        value = ast.literal_eval(text.strip())
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        raise _bad(text, "not a list of two cells", COMPACT_FORM) from None
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise _bad(text, "not a list of two cells (normal, reduction)", COMPACT_FORM)
    return tuple(check_cell(cell, name, text, COMPACT_FORM, True) for cell, name in zip(value, CELL_NAMES))


def _cell_text(cell) -> str:
    return "[" + ", ".join(f"({op!r}, {source})" for op, source in cell) + "]"


NODE_ORDERS = tuple(permutations(range(2, 2 + NODES)))
"""Every order of the intermediate nodes; ``order[i]`` is renumbered ``2 + i``."""


def canonical_cell(cell) -> tuple[tuple[str, int], ...]:
    """The smallest renumbering of ``cell``, its 8 ``(op, input)`` pairs, each node's two
    pairs sorted.

    A renumbering permutes nodes 2-5 (states 0 and 1, the cell's inputs, stay) so that
    every node still reads only states numbered below it, and remaps every input; the
    cell's output is the same set of nodes, as ``CONCAT`` holds them all. Cells are
    compared as tuples of their 8 pairs in node order, a pair by op name (string order),
    then input: the order of their formatted text too, as every op name in ``OPS`` has
    12 characters and every input one digit. The identity always qualifies.
    """
    nodes = [cell[2 * k:2 * k + 2] for k in range(NODES)]
    best = None
    for order in NODE_ORDERS:
        renumber = {0: 0, 1: 1, **{old: 2 + i for i, old in enumerate(order)}}
        pairs = []
        for i, old in enumerate(order):
            node = sorted((op, renumber[source]) for op, source in nodes[old - 2])
            if node[0][1] >= 2 + i or node[1][1] >= 2 + i:
                break  # this node would read itself or a later node
            pairs += node
        else:
            best = tuple(pairs) if best is None else min(best, tuple(pairs))
    return best


class DartsSpace(SearchSpace):
    """NAS-Bench-301's DARTS space on CIFAR-10; ``darts:`` and ``nb301:`` read both forms."""

    name = "nb301"
    prefixes = ("nb301", "darts")
    tasks = {"cifar10": Task("cifar10", 10, (3, 32, 32))}
    default_task = "cifar10"
    set_keys = ("C", "layers", "ops")

    def parse(self, text: str):
        """A ``Genotype(...)`` string or NASLib's compact ``[[(0, 0), ...], [...]]``."""
        if not isinstance(text, str) or not text.strip():
            raise _bad(text, "empty", f"{GENOTYPE_FORM} or {COMPACT_FORM}")
        if len(text) > MAX_TEXT:
            raise UsageError(f"NB301/DARTS architecture of {len(text)} characters; a genotype has fewer than "
                             f"{MAX_TEXT}")
        stripped = text.strip()
        if stripped[0] in "[(":
            return parse_compact(stripped)
        return parse_genotype(stripped)

    def format(self, arch) -> str:
        normal, reduce = arch
        concat = list(CONCAT)
        return (f"Genotype(normal={_cell_text(normal)}, normal_concat={concat}, "
                f"reduce={_cell_text(reduce)}, reduce_concat={concat})")

    def naslib_key(self, arch) -> str:
        return "[" + ", ".join("[" + ", ".join(f"({source}, {OPS.index(op)})" for op, source in cell) + "]"
                               for cell in arch) + "]"

    def canonical_key(self, arch) -> str:
        """The genotype in its cell normal form (:func:`canonical_cell`, normal and reduction
        cell each on its own): shared by exactly the genotypes that differ only in the
        order of a node's two summands and in the numbering of the intermediate nodes.

        Renumbering the nodes only permutes the four channel blocks of the cell's
        concatenated output (every node is in it). Its readers, the 1x1 input
        projections of the next two cells (ReLU, then conv) and the classifier (after
        pooling), take each channel through a per-channel op and then a linear map over
        all channels: the two networks are the same computation up to a permutation of
        those maps' input weights, and share one canonical network.
        """
        return self.format(tuple(canonical_cell(cell) for cell in arch))

    def network_args(self, arch, task=None, sets: Mapping[str, Any] | None = None) -> dict:
        """``build_darts``'s arguments for NB301's network of ``arch``; ``--set C=36 --set
        layers=20`` is DARTS's evaluation network, ``--set ops=darts`` its ops (affine BN,
        plain pools)."""
        sets = self.check_sets(sets)
        classes = self.task(task).num_classes
        C = parse_int(sets.get("C", 32), "C", 2, 1024)
        if C % 2:
            raise UsageError(f"C must be even (a factorized reduction splits it in two halves); got {C}")
        layers = parse_int(sets.get("layers", 8), "layers", 3, 200)
        ops = sets.get("ops", "naslib")
        if ops not in ("naslib", "darts"):
            raise UsageError(f"ops must be naslib or darts; got {shown(ops)}")
        return {"arch": arch, "num_classes": classes, "C": C, "layers": layers, "affine": ops == "darts"}

    def sample(self, rng):
        """Each node: two different earlier states and an op for each, uniformly."""
        def cell():
            pairs = []
            for k in range(NODES):
                sources = rng.choice(k + 2, size=2, replace=False)
                ops = rng.integers(0, len(OPS), 2)
                pairs += [(OPS[int(o)], int(s)) for o, s in zip(ops, sources)]
            return tuple(pairs)
        return cell(), cell()

    def mutate(self, arch, rng):
        """One pair of one cell changes its op or its input (never to the state the
        node's other pair reads)."""
        cells = [list(c) for c in arch]
        which, index = int(rng.integers(2)), int(rng.integers(2 * NODES))
        op, source = cells[which][index]
        node, other = 2 + index // 2, cells[which][index ^ 1][1]
        sources = [s for s in range(node) if s not in (source, other)]
        if sources and rng.random() < 0.5:
            cells[which][index] = (op, sources[int(rng.integers(len(sources)))])
        else:
            ops = [o for o in OPS if o != op]
            cells[which][index] = (ops[int(rng.integers(len(ops)))], source)
        return tuple(tuple(c) for c in cells)


SPACE = DartsSpace()
