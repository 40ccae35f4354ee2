"""Rank a table: score its networks (resumably, in the score store), then the
statistics of every proxy against the table's target."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..proxies.combined import add_combined, members_to_score
from .identity import network_keys
from .runner import ScoringJob, ScoringSummary, score_jobs
from .scoring import ScoreSetting
from ..parallel.statistics_pool import statistics_pool
from .statistics import rank_table
from .store import ScoreStore
from .table import RankTable

SIZE_PROXY = "params"  # the partial correlations hold log #params fixed, so it is always scored


@dataclass
class RankResult:
    """The scores and statistics of one ranked table.

    Attributes:
        names: the rows' proxies and combinations' expressions, in order.
        rows: one statistics row per proxy or combination (see ``nnmass.rank.statistics``).
        scores, seconds: proxy or combination -> one value per table row (nan: undefined
            or failed); a combination's seconds are the sum of its members'.
        errors: network -> error text, for networks whose scoring raised.
    """

    table: RankTable
    setting: ScoreSetting
    names: list[str]
    rows: list[dict]
    scores: dict[str, np.ndarray]
    seconds: dict[str, np.ndarray]
    summary: ScoringSummary
    errors: dict[str, str] = field(default_factory=dict)


def stored_arrays(store: ScoreStore, setting: ScoreSetting, networks: list[str], names: list[str]):
    """proxy -> values and proxy -> seconds, one per network (nan where missing), and
    network -> error (a network's first stored error, of any proxy).

    The store's rows are read one at a time into one slot per distinct network, then
    spread to the table's rows, so a whole space costs a few arrays, not a dict a score."""
    ids = network_keys(networks, setting.space)
    slot = {key: i for i, key in enumerate(dict.fromkeys(ids.values()))}
    values = {p: np.full(len(slot), np.nan) for p in names}
    secs = {p: np.full(len(slot), np.nan) for p in names}
    first_error: dict[str, str] = {}
    for key, proxy, value, seconds, error in store.score_rows(setting.key(), slot):
        if proxy in values:
            values[proxy][slot[key]] = value
            secs[proxy][slot[key]] = seconds or np.nan
        if error and key not in first_error:
            first_error[key] = error
    row_slot = np.array([slot[ids[n]] for n in networks], dtype=np.intp)
    scores = {p: values[p][row_slot] for p in names}
    seconds = {p: secs[p][row_slot] for p in names}
    errors = {n: first_error[ids[n]] for n in ids if ids[n] in first_error}
    return scores, seconds, errors


def scored_names(names: list[str]) -> list[str]:
    """The proxies to score for ``names`` (proxies and combinations): each member once,
    and #params for the partial correlations."""
    members = list(members_to_score(names))
    return members + ([SIZE_PROXY] if SIZE_PROXY not in members else [])


def rank_networks(table: RankTable, names: list[str], setting: ScoreSetting, store: ScoreStore, *, workers: int = 1,
         device: str = "cpu", progress: bool = True, n_boot: int = 1000, seed: int = 0,
         desc: str = "scoring", threads: int = 1, ray=None) -> RankResult:
    """Score every network of ``table`` with every proxy in ``names`` (plus #params, for
    the partial correlations), then rank.

    Args:
        names: proxies and combinations (``nnmass.proxies.combined``); each member is scored
            once, and a combination ranks the table's rows as its population.
        seed: the bootstrap generator's seed (the scores use ``setting.seed``).
        threads: torch threads of each scoring process on a CPU.
        ray: a :class:`nnmass.parallel.ray_tasks.RayCluster` to score on instead of local processes.
    """
    return rank_tables({desc: (table, names, setting)}, store, workers=workers, device=device, progress=progress,
                       n_boot=n_boot, seed=seed, desc=desc, threads=threads, ray=ray)[desc]


def rank_tables(tables: Mapping[str, tuple[RankTable, list[str], ScoreSetting]], store: ScoreStore, *,
                workers: int = 1, device: str = "cpu", progress: bool = True, n_boot: int = 1000, seed: int = 0,
                desc: str = "scoring", threads: int = 1, ray=None) -> dict[str, RankResult]:
    """:func:`rank_networks` for several tables (a study's tasks), label -> ``(table, names,
    setting)``: every table's networks in one scoring pass
    (:func:`nnmass.rank.runner.score_jobs`), then each table's statistics, their rows in
    ``workers`` processes where there are several and no Ray cluster."""
    summaries = score_jobs(list(scoring_jobs(tables).values()), store, workers=workers, device=device,
                           progress=progress, desc=desc, threads=threads, ray=ray)
    with statistics_pool(workers if ray is None and n_boot > 0 else 1) as pool:
        return {label: rank_stored(table, names, setting, store, summary, n_boot=n_boot, seed=seed, pool=pool)
                for (label, (table, names, setting)), summary in zip(tables.items(), summaries)}


def scoring_jobs(tables: Mapping[str, tuple[RankTable, list[str], ScoreSetting]]) -> dict[str, ScoringJob]:
    """label -> the :class:`ScoringJob` of a table: its networks and every proxy its rows need."""
    return {label: ScoringJob(table.networks, scored_names(names), setting)
            for label, (table, names, setting) in tables.items()}


def rank_stored(table: RankTable, names: list[str], setting: ScoreSetting, store: ScoreStore,
                summary: ScoringSummary, *, n_boot: int = 1000, seed: int = 0, pool=None) -> RankResult:
    """The statistics of :func:`rank_networks` from scores already in the store (scored by
    a pass that ``summary`` describes, e.g. one job of ``nnmass.rank.runner.score_jobs``);
    a network not stored ranks as undefined. ``pool``: processes for the rows
    (:func:`nnmass.parallel.statistics_pool.statistics_pool`)."""
    scored = scored_names(names)
    scores, seconds, errors = stored_arrays(store, setting, table.networks, scored)
    labels = add_combined(names, scores, seconds)
    rows = rank_table({n: scores[n] for n in labels}, table.target, scores[SIZE_PROXY],
                      {n: seconds[n] for n in labels}, n_boot=n_boot, seed=seed, pool=pool)
    return RankResult(table, setting, labels, rows, scores, seconds, summary, errors)
