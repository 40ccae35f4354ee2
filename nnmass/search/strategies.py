"""Where a search's candidates come from: the whole space, a seeded uniform sample,
or aging (regularised) evolution with a score as fitness.

Every draw comes from ``numpy.random.Generator(PCG64(seed))``, so a search repeats
exactly, and a killed search rerun with the same arguments asks for the same
networks (whose stored scores are then reused).
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Hashable, Sequence

import numpy as np

from ..errors import UsageError
from ..spaces import SearchSpace

MAX_DRAW_TRIES = 100  # draws per wanted architecture before a small space counts as exhausted


def generator(seed: int) -> np.random.Generator:
    """The search's generator: PCG64, stable across numpy releases."""
    return np.random.Generator(np.random.PCG64(seed))


def every_architecture(space: SearchSpace) -> list[Hashable]:
    """The whole space, in its fixed order.

    Raises:
        UsageError: the space cannot be listed (NB101, DARTS).
    """
    if space.size() is None:
        raise UsageError(f"--all lists the whole space, and {space.name} is too large for that; use "
                         "--samples N (uniform) or --strategy evolution --samples N")
    return list(space.enumerate())


def uniform_sample(space: SearchSpace, n: int, seed: int) -> list[Hashable]:
    """``n`` distinct architectures drawn uniformly (the zero-shot protocol: sample N,
    keep the best-scored). Draws repeat until ``n`` distinct ones are found; a space with
    fewer than ``n`` architectures is refused."""
    size = space.size()
    if size is not None and n > size:
        raise UsageError(f"--samples {n} is more than the {size:,} architectures of {space.name}; use --all")
    rng = generator(seed)
    seen: dict[str, Hashable] = {}
    for _ in range(n * MAX_DRAW_TRIES):
        arch = space.sample(rng)
        seen.setdefault(space.format(arch), arch)
        if len(seen) == n:
            break
    return list(seen.values())


def aging_evolution(space: SearchSpace, budget: int, seed: int,
                    fitness: Callable[[Sequence[Hashable]], Sequence[float]], *,
                    population: int = 64, tournament: int = 16, round_size: int = 8) -> list[Hashable]:
    """Aging evolution (Real et al., "Regularized Evolution for Image Classifier
    Architecture Search", AAAI 2019) with ``fitness`` as the objective.

    Starts from ``population`` uniform draws. Each round draws ``round_size`` children:
    each picks ``tournament`` members of the population at random, mutates the fittest
    (:meth:`SearchSpace.mutate`), and the oldest member dies for each child born. The
    search stops once ``budget`` distinct architectures have been evaluated.

    Args:
        fitness: scores of architectures, higher is better; called with every
            architecture evaluated so far (in order), so a score relative to a
            population (a combination) is taken over all of them.
        round_size: children per round, scored together; fixed, so the result does not
            depend on how many processes score them.

    Returns:
        Every distinct architecture evaluated, in the order of evaluation.
    """
    if budget < 2:
        raise UsageError("--strategy evolution needs --samples of at least 2")
    population = min(population, budget)
    tournament = max(1, min(tournament, population))
    rng = generator(seed)
    history = uniform_sample(space, population, seed) if space.size() is None or population < space.size() \
        else every_architecture(space)[:population]
    known = {space.format(a) for a in history}
    alive = deque(range(len(history)))  # indices into history, oldest first
    stalled = 0
    while len(history) < budget and stalled < MAX_DRAW_TRIES:
        scores = np.asarray(fitness(history), dtype=float)
        members = np.fromiter(alive, dtype=int)
        children = []
        for _ in range(min(round_size, budget - len(history))):
            picked = rng.choice(members, size=tournament, replace=False)
            finite = np.where(np.isfinite(scores[picked]), scores[picked], -np.inf)
            parent = history[int(picked[int(np.argmax(finite))])]
            child = space.mutate(parent, rng)
            key = space.format(child)
            if key not in known:
                known.add(key)
                children.append(child)
        stalled = 0 if children else stalled + 1
        for child in children:
            history.append(child)
            alive.append(len(history) - 1)
            alive.popleft()
    return history
