"""Design without training: the candidate of highest NN-Mass within a #Params/MACs
budget, or the cheapest one that reaches a model's NN-Mass (the paper's Sec. 4,
Tables 1-2). Closed form, chunk by chunk; no module is built."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError
from ..spec import Spec
from .catalog import SPACES
from .pareto import ParetoStream
from .spaces import Space, SpaceDef, make_space

# Masses are sums of float terms: "reaches the target" tolerates rounding in the last bits.
_MASS_RTOL = 1e-9


@dataclass(frozen=True)
class Candidate:
    """One evaluated candidate: its index in the space, key values and closed-form numbers."""

    index: int
    values: dict
    nn_mass: float
    params: int
    macs: int

    def to_dict(self) -> dict:
        return {"index": self.index, "values": self.values, "nn_mass": self.nn_mass,
                "params": self.params, "macs": self.macs}


@dataclass
class DesignResult:
    """What a search found. ``best`` is ``None`` when no candidate is feasible; then
    ``closest`` is the one with the smallest worst-case overshoot of the constraints."""

    space: Space
    objective: str
    max_params: int | None
    max_macs: int | None
    match_mass: float | None
    evaluated: int
    feasible: int
    best: Candidate | None
    top: list[Candidate]
    pareto: list[Candidate]
    closest: Candidate | None
    seconds: float
    cloud: dict = field(default_factory=dict)  # a feasible subsample for plots: arrays

    def violation(self, c: Candidate) -> float:
        """Largest ratio of a candidate's value to its limit (<= 1 when feasible)."""
        return float(_violation(np.array([c.nn_mass]), np.array([c.params]), np.array([c.macs]),
                                self.max_params, self.max_macs, self.match_mass)[0])


def resolve_space(space, ranges: dict | None = None, input_size: int | None = None) -> Space:
    """A :class:`Space` from a space name (or definition) and ranges."""
    if isinstance(space, Space):
        return space
    if isinstance(space, str):
        if space not in SPACES:
            raise UsageError(f"unknown design space {space!r}; valid: {', '.join(SPACES)}")
        space = SPACES[space]
    if not isinstance(space, SpaceDef):
        raise TypeError(f"space must be a name, SpaceDef or Space, not {type(space).__name__}")
    ranges = dict(ranges or {})
    if input_size is not None:
        key = space.key("input_size")
        if key is None:
            raise UsageError(f"--input-size does not apply to {space.name}; valid for: "
                             f"{', '.join(n for n, d in SPACES.items() if d.key('input_size'))}")
        key.check("input_size", (input_size,), "--input-size")
        if "input_size" in ranges and str(ranges["input_size"]) != str(input_size):
            raise UsageError("input_size given both as --input-size and as a range; give it once")
        ranges["input_size"] = input_size
    return make_space(space, ranges)


def design(space, ranges: dict | None = None, max_params: int | None = None, max_macs: int | None = None,
           input_size: int | None = None, match_mass: float | None = None, top_k: int = 10, *,
           chunk_size: int = 2**20, progress=None, cloud_points: int = 4000) -> DesignResult:
    """Search a candidate space in closed form.

    Args:
        space: ``"dense-cnn"``, ``"dense-mlp"``, ``"mobilenet_v2"`` (or a Space).
        ranges: ``{key: range}`` over the space's defaults (see :func:`make_space`).
        max_params, max_macs: budget (``None``: no limit).
        input_size: image side of the candidates (CNN spaces).
        match_mass: if given, the objective is to reach at least this NN-Mass with
            the fewest MACs, then params; otherwise the highest NN-Mass (Eq. 2/3)
            within budget, then the fewest MACs and params.
        top_k: how many of the best to keep.
        chunk_size: candidates evaluated at once (memory stays ~ 100 bytes each).
        progress: ``progress(done, total)`` after every chunk.

    Returns:
        :class:`DesignResult`. Ties go to the lower index, so the result does not
        depend on ``chunk_size``.
    """
    if top_k < 1:
        raise UsageError(f"--top must be >= 1, got {top_k}")
    if chunk_size < 1:
        raise UsageError(f"chunk size must be >= 1, got {chunk_size}")
    space = resolve_space(space, ranges, input_size)
    objective = "match" if match_mass is not None else "max-mass"
    started = time.perf_counter()
    total = space.size
    cloud = _Cloud(cloud_points)
    top = _Top(top_k, objective)
    front = ParetoStream()
    feasible = 0
    closest = (np.inf, -1, None)  # (violation, index, (mass, params, macs))
    done = 0
    for start, stop in space.chunks(chunk_size):
        mass, params, macs = space.evaluate(start, stop, chunk_size)
        ok = _feasible(mass, params, macs, max_params, max_macs, match_mass)
        hits = np.flatnonzero(ok)
        if hits.size:
            index = hits + start
            m, p, c = mass[hits], params[hits], macs[hits]
            feasible += hits.size
            top.update(m, p, c, index)
            front.update(m, c, p, index)
            cloud.update(m, p, c, index)
        elif feasible == 0:
            v = _violation(mass, params, macs, max_params, max_macs, match_mass)
            j = int(np.argmin(v))
            if closest[1] < 0 or v[j] < closest[0]:
                closest = (float(v[j]), start + j, (mass[j], params[j], macs[j]))
        done += stop - start
        if progress is not None:
            progress(done, total)

    def candidates(i, m, p, c):
        return [Candidate(*row) for row in zip(np.asarray(i).tolist(), space.values_many(i),
                                               np.asarray(m, dtype=float).tolist(), np.asarray(p).tolist(),
                                               np.asarray(c).tolist())]

    ranked = candidates(top.i, top.m, top.p, top.c)
    order = np.lexsort((front.params, front.macs))
    pareto = candidates(front.index[order], front.mass[order], front.params[order], front.macs[order])
    near = None
    if feasible == 0 and closest[1] >= 0:
        near = candidates([closest[1]], *([x] for x in closest[2]))[0]
    return DesignResult(space, objective, max_params, max_macs, match_mass, done, feasible,
                        ranked[0] if ranked else None, ranked, pareto, near,
                        time.perf_counter() - started, cloud.arrays())


def spec_of(space, candidate, seed: int = 0) -> Spec:
    """The full spec of a candidate (a :class:`Candidate`, an index or a values dict).

    DenseNet-type specs sample and store their skip links from ``seed``.
    """
    space = resolve_space(space)
    if isinstance(candidate, Candidate):
        values = candidate.values
    elif isinstance(candidate, (int, np.integer)):
        if not 0 <= candidate < space.size:
            raise UsageError(f"candidate index must be in 0..{space.size - 1}, got {candidate}")
        values = space.values_at(int(candidate))
    else:
        values = {**space.fixed, **dict(candidate)}
    return space.definition.to_spec(space, values, seed)


def _feasible(mass, params, macs, max_params, max_macs, match_mass) -> np.ndarray:
    ok = np.ones(len(mass), dtype=bool)
    if max_params is not None:
        ok &= params <= max_params
    if max_macs is not None:
        ok &= macs <= max_macs
    if match_mass is not None:
        ok &= mass >= match_mass * (1 - _MASS_RTOL)
    return ok


def _violation(mass, params, macs, max_params, max_macs, match_mass) -> np.ndarray:
    """Worst ratio over the constraints (value/limit; target/mass for the NN-Mass floor)."""
    v = np.zeros(len(mass))
    if max_params is not None:
        v = np.maximum(v, params / max_params)
    if max_macs is not None:
        v = np.maximum(v, macs / max_macs)
    if match_mass is not None and match_mass > 0:
        with np.errstate(divide="ignore"):
            v = np.maximum(v, np.where(mass > 0, match_mass / np.maximum(mass, 1e-300), np.inf))
    return v


class _Top:
    """The ``k`` best feasible candidates under an objective, kept across chunks."""

    def __init__(self, k: int, objective: str):
        self.k, self.objective = k, objective
        self.m = np.empty(0)
        self.p = np.empty(0, dtype=np.int64)
        self.c = np.empty(0, dtype=np.int64)
        self.i = np.empty(0, dtype=np.int64)

    def _keys(self, m, p, c, i):
        # np.lexsort sorts by the last key first.
        if self.objective == "match":
            return (i, -m, p, c)
        return (i, p, c, -m)

    def update(self, m, p, c, i) -> None:
        primary = self._keys(m, p, c, i)[-1]
        if len(primary) > self.k:
            # Everything tied with the k-th best on the first key may still rank in.
            cut = np.partition(primary, self.k - 1)[self.k - 1]
            sel = primary <= cut
            m, p, c, i = m[sel], p[sel], c[sel], i[sel]
        m, p, c, i = (np.concatenate(a) for a in ((self.m, m), (self.p, p), (self.c, c), (self.i, i)))
        order = np.lexsort(self._keys(m, p, c, i))[: self.k]
        self.m, self.p, self.c, self.i = m[order], p[order], c[order], i[order]


class _Cloud:
    """A deterministic subsample of feasible candidates for plots: those whose index is
    a multiple of a stride that doubles whenever more than ``2 n`` are held."""

    def __init__(self, n: int):
        self.n, self.stride = max(n, 1), 1
        self.parts: list[tuple] = []
        self.count = 0

    def update(self, m, p, c, i) -> None:
        pick = i % self.stride == 0
        self.parts.append((m[pick], p[pick], c[pick], i[pick]))
        self.count += int(pick.sum())
        while self.count > 2 * self.n:
            self.stride *= 2
            self.parts = [tuple(a[part[3] % self.stride == 0] for a in part) for part in self.parts]
            self.count = sum(len(part[3]) for part in self.parts)

    def arrays(self) -> dict:
        empty = np.empty(0, dtype=np.int64)
        m, p, c, _ = (np.concatenate(a) for a in zip(*self.parts)) if self.parts else (empty * 1.0, empty, empty, 0)
        return {"nn_mass": m, "params": p, "macs": c}
