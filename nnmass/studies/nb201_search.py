"""The NB201 search study: which architecture each training-free score picks from
NAS-Bench-201, against the whole table of 15,625 validation accuracies.

For each dataset and score:

- **the zero-shot protocol**: draw N architectures uniformly (N in :data:`SAMPLE_SIZES`),
  keep the best-scored, look up its accuracy; :data:`REPEATS` seeded repeats give the
  mean and standard deviation of the chosen accuracy;
- **the whole pool searched at once**, with the score alone and with a cascade (every
  architecture screened by ``mass_size``, the best :data:`CASCADE_KEEP` scored);
- beside them: the optimum, random choice (the pool's mean accuracy) and the
  architecture with the most parameters;
- rho, Kendall, top-10% precision and rho partial to log #params over the pool.

A combination is aggregated over the population being searched: the N drawn
architectures in the protocol, the pool when it is searched at once. The pool is the
whole space; ``--quick`` uses the data-free ``params``, ``nn_mass`` and ``mass_size``
only. Target: validation accuracy (the table
ships no test accuracy). Every score comes from the resumable score store.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from ..files.writing import write_text_atomically

BATCH = 16
SEED = 0
SAMPLE_SIZES = (100, 1000)
REPEATS = 20
CASCADE_SCREEN = "mass_size"
CASCADE_KEEP = 0.1
QUICK_SCORES = ("params", "nn_mass", "mass_size")
QUICK_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def _order_best_first(values: np.ndarray, archs: list[str]) -> list[int]:
    return sorted(range(len(archs)), key=lambda i: (-values[i] if math.isfinite(values[i]) else math.inf, archs[i]))


def _first_of(networks: list[str], index) -> np.ndarray:
    """The positions in ``index`` of each distinct network's first occurrence."""
    seen, out = set(), []
    for i in index:
        if networks[i] not in seen:
            seen.add(networks[i])
            out.append(int(i))
    return np.array(out, dtype=int)


def zero_shot_protocol(values_of, archs: list[str], accuracy: np.ndarray, n: int, repeats: int, seed: int) -> dict:
    """Mean and std over ``repeats`` of the accuracy of the best-scored of ``n`` uniform
    draws (without replacement) from ``archs``; ``values_of(index)`` scores a subset (so
    a combination is aggregated over the drawn population)."""
    picks = []
    for r in range(repeats):
        rng = np.random.Generator(np.random.PCG64([seed, n, r]))
        index = rng.choice(len(archs), size=min(n, len(archs)), replace=False)
        values = values_of(index)
        best = _order_best_first(values, [archs[i] for i in index])[0]
        picks.append(float(accuracy[index[best]]))
    return {"n": n, "repeats": repeats, "mean": float(np.mean(picks)), "std": float(np.std(picks)), "picks": picks}


def space_rows(dataset: str, pool: int | None = None) -> tuple[list[str], np.ndarray, list[str]]:
    """``(archs, accuracy, networks)`` of the full NB201 table on a dataset (the first
    ``pool`` of a seeded permutation, in table order, with ``pool``); each network is its
    architecture's canonical form, so each computation is scored once."""
    from ..rank.scoring import canonical_network
    from ..spaces.nb201_full import load_nb201_full
    rows = load_nb201_full(dataset)
    if pool is not None:
        keep = np.random.Generator(np.random.PCG64(SEED)).permutation(len(rows))[:pool]
        rows = [rows[i] for i in sorted(keep)]
    archs = [r["arch"] for r in rows]
    return archs, np.array([r["val_accuracy"] for r in rows], dtype=float), [canonical_network(a, "nb201") for a in archs]


def run_nb201_search_study(*, quick: bool = False, store: str | Path | None = None, out: str | Path | None = None,
                           workers: int | None = None, device: str = "cpu", progress: bool = True,
                           n_boot: int = 1000, seed: int = 0, command: str = "", scores: list | None = None,
                           datasets: list | None = None, pool: int | None = None,
                           shard: tuple[int, int] | None = None, ray=None):
    """Score, search and report; returns a :class:`nnmass.studies.run.StudyResult`.

    Args:
        scores, datasets: instead of the study's (tests); ``pool``: the first ``pool``
            architectures of a seeded permutation of the space instead of all (tests).
        shard: ``(K, N)``: score only shard K of N of the networks, no report (``--shard``).
        ray: a :class:`nnmass.parallel.ray_tasks.RayCluster` to score on instead of local processes.
    """
    from ..proxies.combined import STUDY_COMBINATIONS
    from ..proxies.proxy_names import PROXY_NAMES
    from ..rank.ranking import stored_arrays
    from ..json_values import jsonable
    from ..rank.runner import score_networks
    from ..rank.scoring import ScoreSetting
    from ..parallel.statistics_pool import statistics_pool
    from ..rank.statistics import rank_table
    from ..rank.store import ScoreStore
    from ..search.scores import members, values as score_values
    from .scoring_setup import peak_memory_mb, prepare_scoring_study
    from .run import StudyResult

    workers, store, out = prepare_scoring_study("nb201-search", quick, store, out, workers, device, shard)
    scores = list(scores or (QUICK_SCORES if quick else list(PROXY_NAMES) + list(STUDY_COMBINATIONS)))
    datasets = list(datasets or (QUICK_DATASETS if quick else ("cifar10", "cifar100", "ImageNet16-120")))
    needed = list(dict.fromkeys(m for s in scores + [CASCADE_SCREEN, "params"] for m in members(s)))
    if shard is not None:
        from ..rank.runner import ScoringJob
        from .sharding import score_shard
        jobs = {d: ScoringJob(space_rows(d, pool)[2], needed, ScoreSetting.for_space("nb201", d, batch=BATCH, seed=SEED))
                for d in datasets}
        return score_shard("nb201-search", jobs, store, shard, workers=workers, device=device, progress=progress,
                           ray=ray)
    start, record = time.perf_counter(), {"quick": quick, "batch": BATCH, "seed": SEED, "scores": scores,
                                          "repeats": REPEATS, "cascade_screen": CASCADE_SCREEN,
                                          "cascade_keep": CASCADE_KEEP,
                                          "datasets": {}, "workers": workers, "device": device,
                                          "executor": "local" if ray is None else "ray"}
    with ScoreStore(store) as db, statistics_pool(workers if ray is None else 1) as stats_pool:
        for dataset in datasets:
            archs, accuracy, networks = space_rows(dataset, pool)
            setting = ScoreSetting.for_space("nb201", dataset, batch=BATCH, seed=SEED)
            summary = score_networks(networks, needed, setting, db, workers=workers, device=device,
                                     progress=progress, desc=dataset, ray=ray)
            stored, seconds, _ = stored_arrays(db, setting, networks, needed)
            first = _first_of(networks, range(len(networks)))  # a shared network's time counts once

            def values(expression, index=None):
                pick = slice(None) if index is None else index
                return score_values(expression, {m: stored[m][pick] for m in members(expression)})

            def cost(expression, index=None):
                once = first if index is None else _first_of(networks, index)
                return float(np.nansum([seconds[m][once] for m in members(expression)]))

            screen = values(CASCADE_SCREEN)
            kept = _order_best_first(screen, archs)[:max(1, math.ceil(CASCADE_KEEP * len(archs)))]
            per_score = {}
            wholes = {s: values(s) for s in scores}
            rank_rows = rank_table(wholes, accuracy, stored["params"], n_boot=n_boot, seed=seed, pool=stats_pool)
            for s, row in zip(scores, rank_rows):
                whole = wholes[s]
                best = _order_best_first(whole, archs)[0]
                cascade_values = values(s, np.array(kept))
                cascade_best = kept[_order_best_first(cascade_values, [archs[i] for i in kept])[0]]
                per_score[s] = {
                    "rank": row,
                    "protocol": [zero_shot_protocol(lambda ix: values(s, ix), archs, accuracy, n, REPEATS, seed)
                                 for n in SAMPLE_SIZES if n <= len(archs)],
                    "whole": {"arch": archs[best], "accuracy": float(accuracy[best]), "seconds": cost(s)},
                    "cascade": {"arch": archs[cascade_best], "accuracy": float(accuracy[cascade_best]),
                                "seconds": cost(CASCADE_SCREEN) + cost(s, np.array(kept)), "kept": len(kept)},
                }
            most_params = _order_best_first(stored["params"], archs)[0]
            optimum = int(np.argmax(accuracy))
            record["datasets"][dataset] = {
                "architectures": len(archs), "scoring": summary.to_dict(), "scores": per_score,
                "optimum": {"arch": archs[optimum], "accuracy": float(accuracy[optimum])},
                "random": {"mean": float(accuracy.mean()), "std": float(accuracy.std())},
                "most_params": {"arch": archs[most_params], "accuracy": float(accuracy[most_params])},
                "percentile": {s: float((accuracy > v["whole"]["accuracy"]).mean() * 100)
                               for s, v in per_score.items()},
            }
    record["seconds"] = time.perf_counter() - start
    record["peak_memory_mb"] = peak_memory_mb()
    from .nb201_search_report import write_search_report
    report = write_search_report(record, out, command, n_boot, seed)
    write_text_atomically(out / "results.json", "--out", json.dumps(jsonable(record), indent=2) + "\n")
    summary_rows = [{"dataset": d, "score": s, "rho": v["rank"]["spearman"],
                     "whole: accuracy": v["whole"]["accuracy"], "cascade: accuracy": v["cascade"]["accuracy"],
                     **{f"N={p['n']}: mean": p["mean"] for p in v["protocol"]}}
                    for d, rec in record["datasets"].items() for s, v in rec["scores"].items()]
    return StudyResult("nb201-search", jsonable(summary_rows), summary_rows, report, store, record["seconds"],
                       {"workers": workers, "peak_memory_mb": record["peak_memory_mb"]})
