"""The cells of NAS-Bench-101 (Ying et al., ICML 2019): ops, validity, pruning, NB101's
JSON form and its rule for splitting a vertex's channels; shared by the space
(:mod:`nnmass.spaces.nb101`) and the network (:mod:`nnmass.models.nb101`). Pure Python."""
from __future__ import annotations

import itertools
import json

from ..errors import UsageError
from ..validate import shown

INPUT, OUTPUT = "input", "output"
CONV1X1, CONV3X3, MAXPOOL = "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"
OPS = (CONV1X1, CONV3X3, MAXPOOL)
"""The ops an interior vertex may take."""
NASLIB_OPS = (INPUT, OUTPUT, MAXPOOL, CONV1X1, CONV3X3)
"""NASLib's op ids: the position of each op in this tuple."""
MAX_VERTICES = 7
MAX_EDGES = 9
FORMS = ('NB101 JSON {"matrix": [[0, 1, ...], ...], "ops": ["input", ..., "output"]} '
         "or NASLib's (matrix row by row, then op ids 0-4)")

Arch = tuple  # (matrix: tuple of row tuples, ops: tuple of op names), pruned


def bad_cell(what: str) -> UsageError:
    return UsageError(f"bad NB101 cell: {what}")


def make_arch(matrix, ops) -> Arch:
    """The pruned architecture of a cell given as a matrix and ops, checked as NB101 checks it.

    Raises:
        UsageError: one line naming what is wrong (size, an entry not 0/1, a back edge
            or self-loop, a wrong op, an output the input does not reach, too many edges).
    """
    n = len(ops)
    if not 2 <= n <= MAX_VERTICES:
        raise bad_cell(f"{n} vertices; NB101 cells have 2 to {MAX_VERTICES}")
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise bad_cell(f"the matrix must be {n}x{n} for {n} ops")
    if any(v not in (0, 1) or isinstance(v, float) for row in matrix for v in row):
        raise bad_cell("matrix entries must be 0 or 1")
    for i, j in itertools.product(range(n), repeat=2):
        if matrix[i][j] and j <= i:
            raise bad_cell(f"edge {i} -> {j} is a {'self-loop' if i == j else 'back edge'} (a cycle); "
                       "the matrix must be strictly upper-triangular")
    if ops[0] != INPUT or ops[-1] != OUTPUT:
        raise bad_cell(f"the first op must be {INPUT!r} and the last {OUTPUT!r}, got {shown(ops[0])} and {shown(ops[-1])}")
    for op in ops[1:-1]:
        if op not in OPS:
            raise bad_cell(f"unknown op {shown(op)}; interior ops: {', '.join(OPS)}")
    keep = _on_paths([[int(v) for v in row] for row in matrix])
    if n - 1 not in keep:
        raise bad_cell("the output is not reachable from the input")
    pruned = tuple(tuple(int(matrix[i][j]) for j in keep) for i in keep)
    edges = sum(map(sum, pruned))
    if edges > MAX_EDGES:
        raise bad_cell(f"{edges} edges; NB101 allows at most {MAX_EDGES}")
    return pruned, tuple(ops[i] for i in keep)


def _on_paths(matrix) -> list[int]:
    """The vertices on some input -> output path (none when the output is unreachable)."""
    n = len(matrix)
    ahead = {0}
    for j in range(1, n):
        if any(matrix[i][j] for i in ahead):
            ahead.add(j)
    behind = {n - 1}
    for i in range(n - 2, -1, -1):
        if any(matrix[i][j] for j in behind):
            behind.add(i)
    on = ahead & behind
    return sorted(on) if n - 1 in on else []


def format_arch(arch: Arch) -> str:
    """NB101's JSON form, sorted keys and no spaces."""
    matrix, ops = arch
    return json.dumps({"matrix": [list(r) for r in matrix], "ops": list(ops)}, sort_keys=True,
                      separators=(",", ":"))


def vertex_channels(matrix, c_in: int, c_out: int) -> list[int]:
    """NB101's channels of each vertex of a (pruned) cell: the output's ``c_out`` split
    as evenly as possible over the vertices that feed it (earlier vertices take the
    remainder, one each); any other interior vertex takes the most channels among the
    interior vertices it feeds; vertex 0 has ``c_in``."""
    n = len(matrix)
    ch = [0] * n
    ch[0], ch[-1] = c_in, c_out
    feeding = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    if feeding:
        share, extra = divmod(c_out, len(feeding))
        for k, v in enumerate(feeding):
            ch[v] = share + (1 if k < extra else 0)
    for v in range(n - 2, 0, -1):
        if not matrix[v][n - 1]:
            ch[v] = max(ch[d] for d in range(v + 1, n - 1) if matrix[v][d])
    return ch
