"""NN-Mass on NAS-Bench-201: how it ranks the shipped NASLib sample (725 architectures)
against accuracy under each option of the multi-branch rule, next to #params; and how
long one network takes.

For each option setting and each of cifar10, cifar100 and ImageNet16-120: Spearman and
Kendall tau-b of NN-Mass with NB201's validation accuracy (95% bootstrap intervals over
architectures), Spearman partial to log #params, and the number of distinct values next
to the number of distinct cell topologies NN-Mass can see (convs are layers, skips and
pools are links, none is nothing; dead edges pruned; the two middle nodes swapped where
that gives the same cell).

    python benchmarks/nb201_nn_mass.py            # prints JSON and a markdown table
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import time

import numpy as np

from nnmass.mass.nb201 import nb201_report
from nnmass.spec.nb201 import EDGES, parse_arch
from nnmass.stats import bootstrap_ci, correlations, partial_spearman
from nnmass.studies.nb201_data import load_nb201_sample

OPTIONS = {
    "default (pool links, parallel=level, shortcuts=all)": {},
    "pool_links=False": {"pool_links": False},
    "parallel=layer": {"parallel": "layer"},
    "shortcuts=identity": {"shortcuts": "identity"},
}
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def reduced_topology(arch: str, pools_are_links: bool = True) -> tuple:
    """The cell as NN-Mass sees it: L (a layer), I (a parameter-free link), N (nothing),
    dead edges pruned, nodes 1 and 2 swapped where the cell allows it."""
    kind = {"nor_conv_1x1": "L", "nor_conv_3x3": "L", "skip_connect": "I", "none": "N",
            "avg_pool_3x3": "I" if pools_are_links else "N"}
    ops = {e: kind[op] for e, op in zip(EDGES, parse_arch(arch))}
    changed = True
    while changed:
        changed = False
        for node in (1, 2):
            alive_in = any(ops[(node, j)] != "N" for j in range(node))
            used = any(ops[(to, node)] != "N" for to in range(node + 1, 4))
            for e in [e for e in ops if (e[0] == node and not used) or (e[1] == node and not alive_in)]:
                if ops[e] != "N":
                    ops[e], changed = "N", True
    key = tuple(ops[e] for e in EDGES)
    if ops[(2, 1)] == "N":  # nodes 1 and 2 both read node 0 only: they can swap
        swapped = {(1, 0): ops[(2, 0)], (2, 0): ops[(1, 0)], (2, 1): "N", (3, 0): ops[(3, 0)],
                   (3, 1): ops[(3, 2)], (3, 2): ops[(3, 1)]}
        key = min(key, tuple(swapped[e] for e in EDGES))
    return key


def rank_row(score, target, log_params, n_boot: int, seed: int) -> dict:
    c = correlations(score, target)
    def both(a, b):
        r = correlations(a, b)
        return [r["spearman"], r["kendall"]]

    lo, hi = bootstrap_ci(score, target, both, n=n_boot, seed=seed)
    return {"spearman": c["spearman"], "spearman_lo": float(lo[0]), "spearman_hi": float(hi[0]),
            "kendall": c["kendall"], "kendall_lo": float(lo[1]), "kendall_hi": float(hi[1]),
            "partial_spearman_log_params": partial_spearman(score, target, log_params)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=20, help="timed NN-Mass runs per network (median)")
    args = p.parse_args(argv)
    rows = {d: {r["arch"]: r for r in load_nb201_sample(d)} for d in DATASETS}
    archs = sorted(rows["cifar10"])
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": platform.processor() or platform.machine(), "architectures": len(archs),
               "options": {}}
    for label, options in OPTIONS.items():
        mass = {a: nb201_report(a, **options).nn_mass for a in archs}
        pools = options.get("pool_links", True)
        topologies = {reduced_topology(a, pools) for a in archs}
        entry = {"distinct_values": len(set(mass.values())), "distinct_topologies": len(topologies),
                 "datasets": {}}
        for d in DATASETS:
            common = [a for a in archs if a in rows[d]]
            score = np.array([mass[a] for a in common])
            acc = np.array([rows[d][a]["val_accuracy"] for a in common])
            log_params = np.log([rows[d][a]["naslib_params"] for a in common])
            entry["datasets"][d] = {"n": len(common), **rank_row(score, acc, log_params, args.bootstrap, args.seed)}
        results["options"][label] = entry
    results["params"] = {}
    for d in DATASETS:
        common = sorted(rows[d])
        params = np.array([rows[d][a]["naslib_params"] for a in common])
        acc = np.array([rows[d][a]["val_accuracy"] for a in common])
        results["params"][d] = {"n": len(common), **rank_row(params, acc, np.log(params), args.bootstrap, args.seed),
                                "distinct_values": len(set(params.tolist()))}
    results["timing"] = timing(archs, args.repeat)
    print(json.dumps(results, indent=1))
    print(markdown(results))
    return results


def timing(archs, repeat: int) -> dict:
    """Seconds per network, one thread: NN-Mass written out (graph + cells), and by fx trace."""
    import torch

    from nnmass.mass import measure
    from nnmass.models.nb201 import build_nb201
    from nnmass.trace import trace_graph

    torch.set_num_threads(1)
    sample = archs[:: max(1, len(archs) // 10)]
    parts = {"measure (written graph + cells)": [], "graph written out": [], "cells": [], "fx trace": []}
    from nnmass.mass.cells import find_cells
    from nnmass.mass.nb201 import nb201_graph
    for arch in sample:
        model, x = build_nb201(arch), torch.zeros(1, 3, 32, 32)
        ops = dict(zip(EDGES, parse_arch(arch)))
        graph = nb201_graph(ops, 16, 5, 10, 32)
        for label, fn in (("measure (written graph + cells)", lambda: measure(model, x)),
                          ("graph written out", lambda: nb201_graph(ops, 16, 5, 10, 32)),
                          ("cells", lambda: find_cells(graph)),
                          ("fx trace", lambda: trace_graph(model, x, method="fx"))):
            fn()
            times = []
            for _ in range(repeat if label != "fx trace" else max(3, repeat // 4)):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            parts[label].append(statistics.median(times))
    return {k: statistics.mean(v) for k, v in parts.items()}


def markdown(results: dict) -> str:
    lines = ["| NN-Mass option | distinct values / topologies | " + " | ".join(
        f"{d}: Spearman [95% CI] / Kendall / partial rho" for d in DATASETS) + " |",
             "|---|---|" + "---|" * len(DATASETS)]
    def cells(r):
        return f"{r['spearman']:.3f} [{r['spearman_lo']:.3f}, {r['spearman_hi']:.3f}] / {r['kendall']:.3f} / " \
               f"{r['partial_spearman_log_params']:.3f}"
    for label, entry in results["options"].items():
        lines.append(f"| {label} | {entry['distinct_values']} / {entry['distinct_topologies']} | "
                     + " | ".join(cells(entry["datasets"][d]) for d in DATASETS) + " |")
    lines.append(f"| #params | {results['params']['cifar10']['distinct_values']} values | "
                 + " | ".join(cells(results["params"][d]) for d in DATASETS) + " |")
    t = results["timing"]
    lines.append("")
    lines.append("seconds per network, one thread: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in t.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
