"""One search: candidates -> budget -> screen -> score -> the best, with what each
stage saw and how long it took."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Hashable

import numpy as np

from ..errors import UsageError
from ..rank.table import in_shard
from ..spaces import SearchSpace
from .costs import candidate_costs
from .scores import population_scores
from .strategies import aging_evolution, every_architecture, uniform_sample


@dataclass
class Stage:
    """One stage of a search: how many candidates it saw and kept, and its time."""

    name: str
    seen: int
    kept: int
    seconds: float
    detail: str = ""

    def to_dict(self) -> dict:
        return {"stage": self.name, "seen": self.seen, "kept": self.kept, "seconds": self.seconds,
                "detail": self.detail}


@dataclass
class SearchResult:
    """The ranked candidates of a search, best first.

    Attributes:
        archs: the scored candidates, best first, each as its canonical network's string
            (:meth:`~nnmass.spaces.base.SearchSpace.canonical_key`).
        scores, params, macs: aligned with ``archs`` (costs nan beyond the reported top
            when no budget asked for all of them).
        candidates: architectures the strategy proposed; ``evaluated``: scored with the score.
    """

    space: str
    score: str
    strategy: str
    archs: list[str]
    scores: np.ndarray
    params: np.ndarray
    macs: np.ndarray
    candidates: int
    evaluated: int
    seconds: float
    stages: list[Stage] = field(default_factory=list)
    failed: int = 0
    computed: int = 0  # networks scored now (the rest came from the store)


@dataclass(frozen=True)
class SearchPlan:
    """What to search and how (the command line's choices)."""

    space: SearchSpace
    score: str
    strategy: str = "random"  # "all", "random" or "evolution"
    samples: int | None = None
    screen: str | None = None
    keep: float | None = None
    max_params: float | None = None
    max_macs: float | None = None
    seed: int = 0
    shard: tuple[int, int] | None = None  # (K, N): only shard K of N of the candidates, rank's partition

    def __post_init__(self):
        if self.strategy not in ("all", "random", "evolution"):
            raise UsageError(f"unknown strategy {self.strategy!r}; valid: all, random, evolution")
        if self.strategy != "all" and self.samples is None:
            raise UsageError("give --all or --samples N")
        if (self.screen is None) != (self.keep is None):
            raise UsageError("--screen EXPR and --keep FRACTION go together")
        if self.keep is not None and not 0 < self.keep <= 1:
            raise UsageError(f"--keep must be a fraction in (0, 1], got {self.keep}")
        if self.strategy == "evolution" and (self.screen or self.max_params or self.max_macs):
            raise UsageError("--strategy evolution evaluates each child as it is born; --screen and budgets "
                             "apply to --all and --samples")
        if self.strategy == "evolution" and self.shard is not None:
            raise UsageError("--strategy evolution breeds from its own scores, so it cannot be split; --shard "
                             "applies to --all and --samples")


def _order(values: np.ndarray, archs: list[str]) -> list[int]:
    """Indices best first: higher score first, undefined last, ties by string (stable)."""
    return sorted(range(len(archs)), key=lambda i: (-values[i] if math.isfinite(values[i]) else math.inf, archs[i]))


def run_search(plan: SearchPlan, setting, store, *, workers: int = 1, device: str = "cpu",
               progress: bool = True, top: int = 10, ray=None, task: str | None = None) -> SearchResult:
    """Run ``plan`` with scores under ``setting`` in ``store`` (see ``nnmass.rank``);
    params and MACs are given for every candidate when a budget is set, else for the
    ``top`` best. With ``ray`` (a :class:`nnmass.parallel.ray_tasks.RayCluster`) networks
    are scored as Ray tasks. ``task`` is the space's task the candidates are costed for
    (default: the setting's, else the space's default)."""
    space, start, stages = plan.space, time.perf_counter(), []
    task = task or setting.task or space.default_task  # NB201's setting keys its task by classes only
    sets = dict(setting.sets or ()) or None  # the space's --set values: its networks, so their costs

    computed = [0]

    def scored(archs: list[str], expression: str, desc: str):
        values, seconds, summary = population_scores(archs, expression, setting, store, workers=workers,
                                                     device=device, progress=progress, desc=desc, ray=ray)
        computed[0] += summary.scored
        return values, seconds, summary

    t = time.perf_counter()
    if plan.strategy == "evolution":
        def fitness(history: list[Hashable]):
            return scored([space.format(a) for a in history], plan.score, "evolution")[0]
        found = aging_evolution(space, plan.samples, plan.seed, fitness)
    elif plan.strategy == "all":
        found = every_architecture(space)
    else:
        found = uniform_sample(space, plan.samples, plan.seed)
    proposed = list(dict.fromkeys(space.format(a) for a in found))
    # Each computation once: candidates are canonical networks (equivalent strings share one).
    archs = list(dict.fromkeys(space.canonical_key(space.parse(a)) for a in proposed))
    how = f"{plan.strategy}; {len(archs):,} distinct canonical networks"
    if plan.shard is not None:
        archs = [archs[i] for i in in_shard(archs, plan.shard, setting.seed)]
        how += f"; shard {plan.shard[0]}/{plan.shard[1]} holds {len(archs):,}"
        if not archs:
            raise UsageError(f"shard {plan.shard[0]}/{plan.shard[1]} holds none of the candidates; use fewer shards")
    parsed = {a: space.parse(a) for a in archs}
    stages.append(Stage("candidates", len(proposed), len(archs), time.perf_counter() - t, how))
    candidates = len(proposed)

    cost: dict[str, tuple[float, float]] = {}
    if plan.max_params is not None or plan.max_macs is not None:
        t = time.perf_counter()
        params, macs, how = candidate_costs(space, [parsed[a] for a in archs], task, sets)
        cost.update((a, (p, m)) for a, p, m in zip(archs, params, macs))
        archs = [a for a in archs if (plan.max_params is None or cost[a][0] <= plan.max_params)
                 and (plan.max_macs is None or cost[a][1] <= plan.max_macs)]
        stages.append(Stage("budget", candidates, len(archs), time.perf_counter() - t, how))
        if not archs:
            raise UsageError("no candidate is within --max-params/--max-macs; widen the budget")

    if plan.screen is not None:
        t = time.perf_counter()
        values, _, _ = scored(archs, plan.screen, "screening")
        order = _order(values, archs)
        kept = max(1, math.ceil(plan.keep * len(archs)))
        stages.append(Stage("screen", len(archs), kept, time.perf_counter() - t, plan.screen))
        archs = sorted(archs[i] for i in order[:kept])

    t = time.perf_counter()
    values, _, summary = scored(archs, plan.score, "scoring")
    stages.append(Stage("score", len(archs), len(archs), time.perf_counter() - t, plan.score))
    order = _order(values, archs)
    ranked = [archs[i] for i in order]
    shown = [a for a in ranked[:top] if a not in cost]  # costs of the reported ones only
    if shown:
        params, macs, _ = candidate_costs(space, [parsed[a] for a in shown], task, sets)
        cost.update((a, (p, m)) for a, p, m in zip(shown, params, macs))
    nan = (math.nan, math.nan)
    return SearchResult(space.name, plan.score, plan.strategy, ranked, values[order],
                        np.array([cost.get(a, nan)[0] for a in ranked]), np.array([cost.get(a, nan)[1] for a in ranked]),
                        candidates=candidates, evaluated=len(archs), seconds=time.perf_counter() - start,
                        stages=stages, failed=summary.failed, computed=computed[0])

