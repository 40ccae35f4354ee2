"""The NAS-Bench-201 search space (Dong & Yang, ICLR 2020): its ops, its cell's edges,
and the architecture strings and NASLib ``op_indices`` that name a cell. Pure Python.

An architecture is written ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: the k-th group
lists node k's inputs ``op~j`` from nodes ``j = 0..k-1``. NASLib encodes the same
cell as six op ids in a different edge order (``op_indices``); both forms convert
here so published NASLib scores can be joined to built networks.
"""
from __future__ import annotations

from ..errors import UsageError
from ..validate import shown

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The five NB201 operations."""

EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""Cell edges ``(to, from)`` in the order the arch string lists them."""

NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
"""NASLib's op id -> NB201 op name."""

NASLIB_EDGES = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
"""Cell edges ``(to, from)`` in NASLib's ``op_indices`` order."""

_FORM = ("|op~0|+|op~0|op~1|+|op~0|op~1|op~2| with op one of " + ", ".join(OPS))


def parse_arch(text: str) -> tuple[str, ...]:
    """Validate an NB201 arch string and return its six ops in ``EDGES`` order.

    Raises:
        UsageError: ``text`` is not a well-formed NB201 architecture string; the
            one-line message names the first problem and the valid form.
    """
    if not isinstance(text, str):
        raise UsageError(f"NB201 arch must be a string, got {type(text).__name__}; valid form: {_FORM}")
    stripped = text.strip()

    def bad(problem: str) -> UsageError:
        return UsageError(f"bad NB201 arch {shown(stripped)}: {problem}; valid form: {_FORM}")

    if len(stripped) > 200:
        raise bad(f"{len(stripped)} characters, longer than any NB201 arch")
    groups = stripped.split("+")
    if len(groups) != 3:
        raise bad(f"{len(groups)} node group(s) separated by '+', needs 3")
    ops = []
    for node, group in enumerate(groups, start=1):
        if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
            raise bad(f"node {node} group {shown(group)} must start and end with '|'")
        edges = group[1:-1].split("|")
        if len(edges) != node:
            raise bad(f"node {node} has {len(edges)} input(s), needs {node}")
        for source, edge in enumerate(edges):
            op, tilde, index = edge.partition("~")
            if not tilde:
                raise bad(f"edge {shown(edge)} of node {node} is not op~index")
            if op not in OPS:
                raise bad(f"unknown op {shown(op)} on node {node}")
            if index != str(source):
                raise bad(f"input {source + 1} of node {node} reads node {shown(index)}, needs {source}")
            ops.append(op)
    return tuple(ops)


def format_arch(ops) -> str:
    """The NB201 arch string of six op names given in ``EDGES`` order."""
    o = tuple(ops)
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def arch_from_op_indices(indices) -> str:
    """The NB201 arch string of a NASLib ``op_indices`` sequence of six ints.

    Raises:
        UsageError: not six op ids in ``0..4``.
    """
    values = tuple(indices) if isinstance(indices, (list, tuple)) else None
    if (values is None or len(values) != len(NASLIB_EDGES)
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(NASLIB_OPS)
                       for v in values)):
        raise UsageError(f"bad NASLib op_indices {shown(indices)}: needs six ints in 0..4 "
                         "(0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3)")
    by_edge = {edge: NASLIB_OPS[v] for edge, v in zip(NASLIB_EDGES, values)}
    return format_arch(by_edge[edge] for edge in EDGES)


def op_indices_from_arch(text: str) -> tuple[int, ...]:
    """NASLib's ``op_indices`` of an NB201 arch string."""
    by_edge = dict(zip(EDGES, parse_arch(text)))
    return tuple(NASLIB_OPS.index(by_edge[edge]) for edge in NASLIB_EDGES)
