"""Benchmark: seconds per NAS-Bench-201 network for every proxy, fused vs per-proxy, one core.

Networks: NB201 as the benchmark defines it (``nnmass.models.nb201.build_nb201``, C=16,
N=5), architectures drawn by ``PCG64(--seed)`` from the shipped NASLib sample, at a
dataset's image size and classes. Batch: --batch Gaussian inputs (16, the study's).

Three ways to score one network with every proxy, all giving the same values
(checked, exactly):

- loop + deepcopy: the straightforward loop, each proxy on its own ``copy.deepcopy``
  of the model (what one writes without stand-in tensors);
- per-proxy: ``nnmass.proxies.run_proxies``, each proxy's own function, no copies;
- fused: ``nnmass.proxies.fused.score_fused``, one data pass shared by seven proxies.

It also times the data-free set (params, macs, nn_mass, synflow, zen) per network,
against the target of 0.3 s on one core. The first network is scored once before
timing (warm-up: lazy imports and allocator), then each way runs --runs times per
network and its median is kept.

    python benchmarks/proxies_nb201.py [--networks 20] [--dataset cifar10] [--batch 16] [--runs 1]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import math
import os
import platform
import statistics
import sys
import time

import torch

from nnmass import proxies
from nnmass.proxies.fused import score_fused
from nnmass.rank.scoring import NB201_DATASETS

from nb201_networks import sampled_networks  # beside this script


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def loop_with_copies(model, batch, names):
    return {n: proxies.get(n).function(copy.deepcopy(model), batch) for n in names}


def timed(fn, runs: int):
    out, times = None, []
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return out, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--dataset", default="cifar10", choices=list(NB201_DATASETS))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    classes, shape = NB201_DATASETS[args.dataset]
    archs, batch, build = sampled_networks(args.dataset, args.networks, args.seed, args.batch)
    names, free = proxies.names(), list(proxies.DATA_FREE)

    score_fused(build(archs[0]), batch, names)  # warm-up
    proxies.run_proxies(build(archs[0]), batch, free)
    times = {"loop + deepcopy": [], "per-proxy": [], "fused": [], "data-free": []}
    for arch in archs:
        model = build(arch)
        copied, t_copy = timed(lambda: loop_with_copies(model, batch, names), args.runs)
        own, t_own = timed(lambda: proxies.run_proxies(model, batch, names).scores, args.runs)
        fused, t_fused = timed(lambda: score_fused(model, batch, names).scores, args.runs)
        _, t_free = timed(lambda: score_fused(model, batch, free), args.runs)
        assert all(same(copied[n], own[n]) and same(own[n], fused[n]) for n in names), arch
        for key, t in zip(times, (t_copy, t_own, t_fused, t_free)):
            times[key].append(t)

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"device: cpu ({platform.processor() or platform.machine()}), 1 torch thread, torch {torch.__version__}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}"
          + (f"; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" if load else ""))
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(f"networks: {len(archs)} NB201 architectures of the NASLib {args.dataset} sample (seed {args.seed}), "
          f"{classes} classes, batch {args.batch} x {'x'.join(map(str, shape))} Gaussian, "
          f"median of {args.runs} run(s) per network")
    print(f"{'way':18s} {'median s/net':>12s} {'mean s/net':>11s} {'max s/net':>10s}")
    for key, values in times.items():
        label = key if key != "data-free" else f"data-free ({len(free)})"
        print(f"{label:18s} {statistics.median(values):12.3f} {statistics.mean(values):11.3f} {max(values):10.3f}")
    print(f"fused speed-up: {statistics.mean(times['loop + deepcopy']) / statistics.mean(times['fused']):.2f}x over "
          f"loop + deepcopy, {statistics.mean(times['per-proxy']) / statistics.mean(times['fused']):.2f}x over "
          "per-proxy (mean seconds)")
    within = sum(t <= 0.3 for t in times["data-free"])
    print(f"data-free set <= 0.3 s: {within} of {len(archs)} networks")


if __name__ == "__main__":
    main()
