"""Combined scores: several proxies ranked together over a population. numpy, no torch.

A combination is written ``a+b+c`` with proxy names (whitespace is ignored), or by
the name of a shipped combination, which may drop members (``mass_size-params``); a
single name is a plain proxy. A combination cannot hold another one. It is not a proxy:
one network alone has no rank, so a combination has a value only relative to the
population being ranked or searched.

**The rule** is the rank aggregation of AZ-NAS (Lee & Ham, CVPR 2024), with no weights
and nothing fitted. Over a population of n networks, each member m ranks the networks
in ascending order of its score: the best (highest) score gets rank n, the worst rank 1.
The combined score of a network is

    sum over members m of log(rank_m / n)

so the network best on every member scores 0 and higher is better. Tied scores get
their average rank. An undefined member score (nan) ranks last: below every defined
score of that member, and the undefined networks share (average) the lowest ranks. A
network undefined on every member is undefined (nan) in the combination. A population
of one network has no ranks: a combination refuses it.

**Shipped combinations:**

- ``mass_size`` = ``nn_mass+params``: the paper's thesis as a score, "at a similar
  size, more NN-Mass means better accuracy". Both members are data-free and closed-form
  on a cell space (about 10 ms per network).
- ``ensemble``: the recommended combination of the project's proxies, chosen once on
  NAS-Bench-201 CIFAR-10 by the procedure below and never re-tuned on another space.

**How ``ensemble`` is chosen** (written down before any combination was computed):

- Data: the NB201 CIFAR-10 rows of the shipped sample ``nnmass/studies/nb201_naslib.csv``
  (725 networks), target ``val_accuracy`` (validation, not test, accuracy), scored by
  ``nnmass rank ... --proxies all`` at its defaults (seed 0, batch 16, Gaussian inputs).
- Selection set: a seeded half, the 363 rows that ``--limit 363 --seed 0`` keeps. The
  other 362 rows are never used to choose; the path is reported on them too, as a check
  of how much the selection overfits.
- Candidates: all 13 proxies, each as its registry orients it (higher is better by the
  proxy's own paper); none is sign-flipped or weighted.
- Forward selection: start empty; at each step add the candidate whose addition gives
  the highest Spearman rho between the combined score (aggregated over the selection
  set) and the target; exact ties go to the earlier proxy in the registry's order. Stop
  when the best addition raises rho by less than 0.005. The first step is the best
  single proxy.
- Why a mechanical rule: the single proxies' rho on this sample were already published
  in the README, so a member set picked by hand "one per kind of signal" would be picked
  knowing them; a rule fixed in advance leaves no such freedom. Why 0.005: rho's 95%
  interval on this sample is about ±0.02 to ±0.04, so a member that adds less than
  0.005 adds nothing the sample can see, only cost.
- ``tools/choose_ensemble.py`` runs the procedure on a score store and prints the path.

**What it chose:** ``meco`` alone. Rho on the selection half: meco 0.8807; the best
addition, zico, gives 0.8856, a gain of 0.00498, below the 0.005 threshold, so the
selection stopped after one member (on the other half: 0.8712 and 0.8781). ``ensemble`` is therefore a one-member combination:
meco's rank, log(rank / n), which orders networks as meco does (undefined values last).
The study tables show ``meco+nn_mass`` beside it, what NN-Mass adds to it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import UsageError
from ..validate import shown
from .proxy_names import PROXY_NAMES, list_items

NAMED: dict[str, tuple[str, ...]] = {
    "mass_size": ("nn_mass", "params"),
    "ensemble": ("meco",),  # tools/choose_ensemble.py on NB201 CIFAR-10; never re-tuned (see above)
}
"""The shipped combinations: name -> members."""


def _with_and_without_nn_mass() -> str:
    """``ensemble`` without NN-Mass, or, where it has no NN-Mass, with it: the row that
    shows what NN-Mass adds to the recommended combination."""
    members = NAMED["ensemble"]
    return "ensemble-nn_mass" if "nn_mass" in members else "+".join((*members, "nn_mass"))


STUDY_COMBINATIONS = ("mass_size", "ensemble", _with_and_without_nn_mass())
"""The combined scores every study table ranks beside the single proxies."""


@dataclass(frozen=True)
class Combination:
    """Proxies ranked together over a population (see the module docstring).

    Attributes:
        expression: its canonical text, the ``proxy`` of its rows: a shipped name
            (``mass_size``, ``mass_size-params``) or members joined by ``+``.
        members: the proxies, in the order written.
    """

    expression: str
    members: tuple[str, ...]

    def combine(self, scores: Mapping[str, Sequence[float]]) -> np.ndarray:
        """The combined score of each network, from ``scores`` (proxy -> one value per
        network of the population, aligned)."""
        return combine([scores[m] for m in self.members])


def combine(members: Sequence[Sequence[float]]) -> np.ndarray:
    """The aggregation of the module docstring: per network, the sum over members of
    log(rank / n), ranks ascending over the population (average ranks for ties,
    non-finite values last); nan where every member is undefined.

    Args:
        members: one array per member, each with one value per network, aligned.

    Raises:
        UsageError: no member, arrays of different lengths, or fewer than 2 networks.
    """
    columns = [np.asarray(v, dtype=float).ravel() for v in members]
    if not columns:
        raise UsageError("a combined score needs at least one member")
    n = columns[0].size
    if any(c.size != n for c in columns):
        raise UsageError(f"the members' score arrays differ in length: {[c.size for c in columns]}")
    if n < 2:
        raise UsageError(f"a combined score ranks networks against each other: it needs a population of at "
                         f"least 2 networks, got {n}")
    from scipy.stats import rankdata  # here, so that checking a grid's names does not load scipy

    total = np.zeros(n)
    for column in columns:
        defined = np.isfinite(column)
        # -inf sorts below every defined value, and rankdata averages the ranks of equal keys.
        total += np.log(rankdata(np.where(defined, column, -np.inf), method="average") / n)
    total[~np.any([np.isfinite(c) for c in columns], axis=0)] = np.nan
    return total


def _valid() -> str:
    return f"valid: {', '.join(PROXY_NAMES)}; combinations: {', '.join(NAMED)} or names joined by '+'"


def _named(text: str, what: str) -> Combination:
    """A shipped combination, or ``NAME-member[-member...]``: it without those members."""
    name, *dropped = text.split("-")
    if name not in NAMED:
        raise UsageError(f"{what}: {shown(text)}: only a shipped combination ({', '.join(NAMED)}) can drop "
                         f"members with '-'")
    members = list(NAMED[name])
    for member in dropped:
        if member not in members:
            raise UsageError(f"{what}: {shown(text)}: {shown(member)} is not a member of {name} "
                             f"({'+'.join(NAMED[name])})")
        members.remove(member)
    if not members:
        raise UsageError(f"{what}: {shown(text)} drops every member of {name}")
    return Combination(text, tuple(members))


def parse_score(text: str, what: str = "--proxies") -> str | Combination:
    """One proxy name (returned as the name) or one combination expression.

    Raises:
        UsageError: an empty or unknown name, a repeated member, or a shipped
            combination inside a ``+`` expression; one line.
    """
    if not isinstance(text, str):
        raise UsageError(f"{what}: expected a proxy name or a combination, got {shown(text)}; {_valid()}")
    expression = "".join(text.split()).lower()  # whitespace is ignored
    if expression in PROXY_NAMES:
        return expression
    if "+" not in expression:
        if "-" in expression or expression in NAMED:
            return _named(expression, what)
        problem = "empty proxy name" if not expression else f"unknown proxy {shown(text)}"
        raise UsageError(f"{what}: {problem}; {_valid()}")
    members = expression.split("+")
    for member in members:
        if member == "":
            raise UsageError(f"{what}: empty member in {shown(text)}; {_valid()}")
        if member.split("-")[0] in NAMED:
            raise UsageError(f"{what}: {shown(text)} puts the combination {member} inside another; write its "
                             f"members instead ({'+'.join(NAMED[member.split('-')[0]])})")
        if member not in PROXY_NAMES:
            raise UsageError(f"{what}: unknown proxy {shown(member)} in {shown(text)}; {_valid()}")
        if members.count(member) > 1:
            raise UsageError(f"{what}: {shown(text)} names {member} twice; each member counts once")
    return Combination(expression, tuple(members))


def parse_scores(spec: str | Iterable[str], what: str = "--proxies") -> tuple[str | Combination, ...]:
    """``"synflow,mass_size,nn_mass+zico"``, ``"all"`` (every proxy) or a list of such
    items as proxy names and :class:`Combination` objects, in the given order, without
    repeats.

    Raises:
        UsageError: any bad item (see :func:`parse_score`), or nothing named; one line.
    """
    items = list_items(spec, what)
    out: list[str | Combination] = []
    for item in items:
        if isinstance(item, Combination):
            wanted = [item]
        elif isinstance(item, str) and item.strip().lower() == "all":
            wanted = list(PROXY_NAMES)
        else:
            wanted = [parse_score(item, what)]
        out.extend(w for w in wanted if label(w) not in {label(o) for o in out})
    if not out:
        raise UsageError(f"{what}: nothing named; {_valid()}")
    return tuple(out)


def label(score: str | Combination) -> str:
    """The name a score's rows carry: the proxy name or the combination's expression."""
    return score.expression if isinstance(score, Combination) else score


def members_to_score(requested: str | Iterable[str | Combination]) -> tuple[str, ...]:
    """The proxies to compute for ``requested`` (as :func:`parse_scores` takes it): each
    single proxy and each combination's members, once each, in order of first use."""
    out: list[str] = []
    for score in parse_scores(requested):
        for name in (score.members if isinstance(score, Combination) else (score,)):
            if name not in out:
                out.append(name)
    return tuple(out)


def add_combined(requested, scores: dict, seconds: dict | None = None) -> list[str]:
    """Add each requested combination's values (and per-network seconds: the sum of its
    members') to ``scores`` (and ``seconds``), keyed by its expression; return the labels
    of ``requested`` in order. ``scores`` holds every member, one value per network of the
    population."""
    labels = []
    for score in parse_scores(requested):
        if isinstance(score, Combination):
            scores[score.expression] = score.combine(scores)
            if seconds is not None:
                seconds[score.expression] = np.sum([np.asarray(seconds[m], dtype=float) for m in score.members],
                                                   axis=0)
        labels.append(label(score))
    return labels


def refuse_combinations(spec, what: str, why: str) -> None:
    """Raise a one-line UsageError if ``spec`` (a ``--proxies`` value or list) names a
    combination, where only single proxies make sense (``why`` says why)."""
    items = spec.split(",") if isinstance(spec, str) else spec if isinstance(spec, (list, tuple)) else []
    for item in items:
        text = "".join(item.split()).lower() if isinstance(item, str) else ""
        if "+" in text or text.split("-")[0] in NAMED:
            parse_score(item, what)  # a malformed one is told as such: an unknown or empty member
            raise UsageError(f"{what}: {shown(item)} is a combined score, which {why}; list single proxies "
                             f"({', '.join(PROXY_NAMES)})")
