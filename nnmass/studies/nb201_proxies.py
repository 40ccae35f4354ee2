"""The NAS-Bench-201 proxy study: every proxy on the shipped NASLib sample (725
architectures on cifar10 and cifar100, 724 on ImageNet16-120), ranked against NB201's
validation accuracy, and checked against NASLib's own scores of the same networks.

Settings (fixed, so a study is one command): a batch of :data:`BATCH` Gaussian inputs
with uniform random labels (CIFAR-10 and ImageNet16 cannot be downloaded here), at
each dataset's image size (32x32 CIFAR, 16x16 ImageNet16-120) and classes, weights
and batch from seed :data:`SEED`. ``--quick`` ranks :data:`QUICK_ARCHS` architectures
per dataset, the same ones on all three, drawn from the cifar10 list by
``PCG64(QUICK_SEED)``.

NASLib's values of failed scores (``-inf``, ``-1e8``) are read as undefined, like our
nan; every statistic runs over the architectures where its score is defined. Every table
also ranks the combined scores of ``nnmass.proxies.combined.STUDY_COMBINATIONS``, each over
its dataset's architectures as the population.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..files.writing import write_text_atomically
from ..render import code, heading, image, para, table, write_blocks
from .nb201_data import DATASETS, load_nb201_sample
from .scoring_setup import peak_memory_mb, prepare_scoring_study

BATCH = 16  # see the README: 1.6 s per network for all 13 proxies on one core fits the 30-minute budget
SEED = 0
QUICK_ARCHS = 100
QUICK_SEED = 0
NASLIB_SENTINEL = -1e7  # NASLib writes -1e8 (and -inf) where a score failed

#: Our proxy -> NASLib's column, for every proxy NASLib also scored.
NASLIB_NAMES = {"params": "params", "macs": "flops", "synflow": "synflow", "snip": "snip",
                "grad_norm": "grad_norm", "grasp": "grasp", "fisher": "fisher", "jacob_cov": "jacov",
                "nwot": "nwot"}


def naslib_values(rows: list[dict], name: str) -> np.ndarray:
    """NASLib's ``naslib_<name>`` per row, nan where missing or a failure value."""
    out = np.array([np.nan if r[f"naslib_{name}"] is None else r[f"naslib_{name}"] for r in rows], dtype=float)
    out[~np.isfinite(out) | (out <= NASLIB_SENTINEL)] = np.nan
    return out


def study_tables(quick: bool) -> dict:
    """dataset -> :class:`nnmass.rank.table.RankTable` of the sample (or the quick subset)."""
    from ..rank.scoring import canonical_network
    from ..rank.table import RankTable, subsample

    keep = None
    if quick:
        archs = [r["arch"] for r in load_nb201_sample(DATASETS[0])]
        keep = {archs[i] for i in subsample(len(archs), QUICK_ARCHS, QUICK_SEED)}
    out = {}
    for dataset in DATASETS:
        rows = [r for r in load_nb201_sample(dataset) if keep is None or r["arch"] in keep]
        out[dataset] = RankTable([canonical_network(r["arch"], "nb201", canonical=False) for r in rows],
                                 np.array([r["val_accuracy"] for r in rows], dtype=float), rows, dataset,
                                 "nnmass/studies/nb201_naslib.csv")
    return out


def agreement_row(ours: np.ndarray, theirs: np.ndarray, n_boot: int, seed: int) -> dict:
    """Spearman between our score and NASLib's over the architectures where both are defined."""
    from ..rank.statistics import rank_row
    ones = np.ones_like(ours)
    row = rank_row("agreement", ours, theirs, ones, n_boot=n_boot, seed=seed, intervals=("spearman",))
    return {k: row[k] for k in ("n", "spearman", "spearman_lo", "spearman_hi")}


def accuracy_comparison(result, n_boot: int, seed: int) -> list[dict]:
    """For each proxy NASLib also scored: rho with accuracy of ours and of NASLib's, over
    the same architectures (both defined)."""
    from ..rank.statistics import rank_row
    rows = []
    for name, theirs_name in NASLIB_NAMES.items():
        if name not in result.scores:
            continue
        ours, theirs = result.scores[name], naslib_values(result.table.rows, theirs_name)
        both = np.isfinite(ours) & np.isfinite(theirs)
        params = result.scores["params"]
        a, b = (rank_row(name, np.where(both, values, np.nan), result.table.target, params, n_boot=n_boot,
                         seed=seed, intervals=("spearman",)) for values in (ours, theirs))
        rows.append({"proxy": name, "naslib": theirs_name, "n": a["n"],
                     **{f"ours_{k}": a[k] for k in ("spearman", "spearman_lo", "spearman_hi", "kendall")},
                     **{f"naslib_{k}": b[k] for k in ("spearman", "spearman_lo", "spearman_hi", "kendall")}})
    return rows


def run_nb201_proxy_study(*, quick: bool = False, store: str | Path | None = None, out: str | Path | None = None,
                          workers: int | None = None, device: str = "cpu", progress: bool = True,
                          n_boot: int = 1000, seed: int = 0, command: str = "", tables: dict | None = None,
                          shard: tuple[int, int] | None = None, ray=None):
    """Score, rank and report; returns a :class:`nnmass.studies.run.StudyResult`.

    Args:
        workers: scoring processes (default: the usable CPUs, at most 8).
        seed: the bootstrap generator's seed.
        tables: dataset -> RankTable to run instead of the sample (tests).
        shard: ``(K, N)``: score only shard K of N of the networks, no report (``--shard``).
        ray: a :class:`nnmass.parallel.ray_tasks.RayCluster` to score on instead of local processes.
    """
    from ..proxies.combined import STUDY_COMBINATIONS
    from ..proxies.proxy_names import PROXY_NAMES
    from ..rank.ranking import rank_tables
    from ..rank.scoring import ScoreSetting
    from ..rank.store import ScoreStore
    from .run import StudyResult

    workers, store, out = prepare_scoring_study("nb201-proxies", quick, store, out, workers, device, shard)
    names = [*PROXY_NAMES, *STUDY_COMBINATIONS]
    tables = {dataset: (tab, names, ScoreSetting.nb201(dataset, batch=BATCH, seed=SEED))
              for dataset, tab in (tables or study_tables(quick)).items()}
    if shard is not None:
        from ..rank.ranking import scoring_jobs
        from .sharding import score_shard
        return score_shard("nb201-proxies", scoring_jobs(tables), store, shard, workers=workers, device=device,
                           progress=progress, ray=ray)
    start = time.perf_counter()
    with ScoreStore(store) as db:
        # The three datasets' networks in one scoring pass: the workers start once.
        results = rank_tables(tables, db, workers=workers, device=device,
                              progress=progress, n_boot=n_boot, seed=seed, desc="nb201-proxies", ray=ray)
    timings = {dataset: result.summary.to_dict() for dataset, result in results.items()}
    agreement = {d: {name: agreement_row(r.scores[name], naslib_values(r.table.rows, theirs), n_boot, seed)
                     for name, theirs in NASLIB_NAMES.items()} for d, r in results.items()}
    comparison = {d: accuracy_comparison(r, n_boot, seed) for d, r in results.items()}
    seconds = time.perf_counter() - start
    memory = peak_memory_mb()
    record = {"quick": quick, "batch": BATCH, "seed": SEED, "workers": workers, "device": device,
              "executor": "local" if ray is None else "ray",
              "seconds": seconds, "peak_memory_mb": memory, "scoring": timings,
              "networks": {d: len(set(r.table.networks)) for d, r in results.items()},
              "rank": {d: r.rows for d, r in results.items()}, "agreement": agreement, "accuracy_vs_naslib": comparison,
              "errors": {d: r.errors for d, r in results.items() if r.errors}}
    report = write_study_report(results, record, out, command, n_boot, seed)
    import json

    from ..json_values import jsonable
    write_text_atomically(out / "results.json", "--out", json.dumps(jsonable(record), indent=2) + "\n")
    summary = [{"dataset": d, "proxy": row["proxy"], "n": row["n"], "rho": row["spearman"],
                "NASLib rho (same archs)": next((c["naslib_spearman"] for c in comparison[d]
                                                  if c["proxy"] == row["proxy"]), math.nan),
                "rho ours vs NASLib": agreement[d].get(row["proxy"], {}).get("spearman", math.nan)}
               for d, r in results.items() for row in r.rows]
    return StudyResult("nb201-proxies", jsonable([{**row, "dataset": d} for d, r in results.items() for row in r.rows]),
                       summary, report, store, seconds, {"workers": workers, "peak_memory_mb": memory,
                                                         "scoring": timings})


def write_study_report(results: dict, record: dict, out: Path, command: str, n_boot: int, seed: int) -> Path:
    """``report.md`` / ``report.html`` with the agreement, accuracy and comparison tables
    and one figure per dataset."""
    from ..plots.proxies import plot_proxy_ranking
    from ..proxies.combined import STUDY_COMBINATIONS
    from ..rank.report import printable_rows
    from ..table import number_text, with_ci

    datasets = list(results)
    memory, agree = record["peak_memory_mb"], record["agreement"]
    n = {d: len(results[d].table) for d in datasets}
    blocks = [
        para(f"NAS-Bench-201 architectures of the NASLib sample ({', '.join(f'{d}: {n[d]}' for d in datasets)}"
             f"{', quick subset' if record['quick'] else ''}), each built as NB201 defines it and scored at "
             f"initialization with every proxy on a batch of {BATCH} Gaussian inputs with uniform random labels "
             f"(32x32 for CIFAR, 16x16 for ImageNet16-120), weights and batch from seed {SEED}. Target: NB201's "
             "validation accuracy after 200 epochs, as the sample gives it. Statistics run over the architectures "
             f"where a score is defined (n). Intervals: 95% percentile bootstrap over architectures ({n_boot} "
             f"resamples, generator seed {seed})."),
        para(f"Wall time {record['seconds']:.0f} s with {record['workers']} worker process(es) on {record['device']}; "
             f"peak memory {memory['parent']:.0f} MB (this process) and {memory['largest_worker']:.0f} MB (the "
             "largest worker). Scores are in the store; a rerun reuses them."),
        heading("Agreement with NASLib's scores"),
        para("Spearman between our score and NASLib's, over the architectures where both are defined. NASLib "
             "scored each network on a batch of 64 real training images on a GPU; ours use Gaussian inputs with "
             "random labels and a batch of 16, so data-free scores (params, macs, synflow) should agree almost "
             "exactly and data-dependent ones less (see the README). NASLib's flops count more than "
             "multiply-accumulates of convolutions and linear layers (pooling, BN, adds)."),
        table([{"ours": name, "NASLib": theirs,
                **{d: f"{with_ci(agree[d][name], 'spearman', ci_fmt='.2f')} (n={agree[d][name]['n']})"
                   for d in datasets}} for name, theirs in NASLIB_NAMES.items()]),
        heading("Accuracy: our scores and NASLib's on the same architectures"),
        para("Spearman rho of each score with validation accuracy, ours and NASLib's over the architectures where "
             "both are defined."),
        table([{"dataset": d, "proxy": c["proxy"], "n": c["n"], "ours": with_ci(c, "ours_spearman", ci_fmt=".2f"),
                "NASLib's": with_ci(c, "naslib_spearman", ci_fmt=".2f"),
                "ours - NASLib's": number_text(c["ours_spearman"] - c["naslib_spearman"])}
               for d in datasets for c in record["accuracy_vs_naslib"][d]]),
    ]
    for d in datasets:
        r = results[d]
        figure = f"proxies_{d}.png"
        plot_proxy_ranking({name: r.scores[name] for name in r.names}, r.table.target, r.rows, out / figure,
                           title=f"NB201 {d}: {len(r.table)} architectures", target_label="val accuracy (%)")
        undefined = {row["proxy"]: row["undefined"] for row in r.rows if row["undefined"]}
        blocks += [heading(f"{d}: every proxy against validation accuracy"),
                   table(printable_rows(r.rows)),
                   para(f"{', '.join(STUDY_COMBINATIONS)}: combined scores (nnmass.proxies.combined), the sum over "
                        "their members of log(rank / n), ranked over these architectures; the last shows what "
                        "NN-Mass adds to ensemble."),
                   para("Undefined (nan) scores: " + (", ".join(f"{k} {v}" for k, v in undefined.items()) or "none")
                        + f". Scoring: {record['scoring'][d]['scored']} networks scored now, "
                          f"{record['scoring'][d]['reused']} reused from the store, {record['scoring'][d]['failed']} "
                          f"failed, {record['scoring'][d]['scoring_seconds']:.0f} s of scoring (summed over the networks; "
                          "the three datasets share one pass of the workers)."),
                   image(figure, f"{d}: each proxy's score against validation accuracy, and rho with intervals")]
        if r.errors:
            first = next(iter(r.errors.items()))
            blocks.append(para(f"{len(r.errors)} networks failed to score; first: {first[0]}: {first[1]}"))
    blocks += [heading("Made by"), code(command or "nnmass study nb201-proxies")]
    return write_blocks(blocks, out, "nnmass study nb201-proxies" + (" --quick" if record["quick"] else ""), "both")
