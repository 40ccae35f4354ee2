"""Benchmark: the cost of scoring one NAS-Bench-201 network with every proxy, as a ratio.

ratio = (seconds of ``score_fused(model, batch, "all")``) / (seconds of one plain
forward and backward pass of the same network on the same batch: train mode, mean
cross-entropy, ``dL/dtheta`` of every parameter). With ``--path rank`` the numerator
is ``nnmass rank``'s own step, ``score_network``: it builds the network from its
string (the same weights) and gives ``macs`` in closed form, as a process does once
it has scored enough networks of a setting (the benchmark warms it up first).

Both are timed in the same run, on the same network, one after the other, so the
machine's load cancels out of the ratio as far as it can. Networks: NB201 as the
benchmark defines it (``build_nb201``, C=16, N=5, weights from torch seed 0),
architectures drawn by ``PCG64(--seed)`` from the shipped NASLib sample. Batch:
--batch Gaussian inputs (16, the study's), the dataset's classes. One torch thread.
Each network is timed --runs times, the plain pass and the scoring in turn; its
ratio is the median scoring time over the median plain time, and the median over
the networks is reported, with each proxy's median seconds (a pass shared by several
proxies is split evenly among them, see ``nnmass.proxies.fused``).

    python benchmarks/proxies_ratio.py [--networks 8] [--runs 3] [--dataset cifar10] [--batch 16]
        [--heap fitted|default] [--path fused|rank]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from nnmass import proxies
from nnmass.parallel.heap import fit_heap_to
from nnmass.proxies.fused import score_fused
from nnmass.rank.scoring import NB201_DATASETS, ScoreSetting, score_network
from nnmass.spaces import get_space
from nnmass.spaces.additive import most_networks
from nnmass.spec.nb201 import EDGES, OPS

from nb201_networks import sampled_networks  # beside this script


def plain_pass(model, batch) -> float:
    """Seconds of one forward and backward pass (a copy of the model, so its own state stays)."""
    model = copy.deepcopy(model).train()
    params = [p for p in model.parameters() if p.requires_grad]
    start = time.perf_counter()
    loss = F.cross_entropy(model(batch.inputs), batch.targets)
    torch.autograd.grad(loss, params)
    return time.perf_counter() - start


def scored(model, batch):
    """Seconds of scoring with every proxy, and the run."""
    start = time.perf_counter()
    run = score_fused(model, batch, "all")
    return time.perf_counter() - start, run


def rank_path(dataset: str, batch_size: int, warm_arch: str):
    """``scored(arch)`` as ``nnmass rank`` scores a network: ``score_network`` builds it
    from its string (the same seed-0 weights and batch as ``build``) and gives ``macs``
    in closed form, as a process does once it has seen enough networks. The warm-up
    gets it there and counts every term (each op on every edge), as a long run has."""
    setting = ScoreSetting.nb201(dataset, batch=batch_size)
    cache, names, space = {}, proxies.names(), get_space("nb201")
    for _ in range(most_networks(space)):
        score_network(warm_arch, ["macs"], setting, cache=cache)
    for op in OPS[1:]:  # every op but none, on all six edges
        score_network(space.format((op,) * len(EDGES)), ["macs"], setting, cache=cache)

    def scored_in_rank(arch):
        start = time.perf_counter()
        run = score_network(arch, list(names), setting, cache=cache)
        if run.error:
            raise RuntimeError(run.error)
        return time.perf_counter() - start, run

    return scored_in_rank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dataset", default="cifar10", choices=list(NB201_DATASETS))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--heap", choices=("fitted", "default"), default="fitted",
                        help="glibc's mmap threshold: fitted to each network, as nnmass's scoring "
                             "processes set it (nnmass.parallel.heap), or glibc's dynamic default")
    parser.add_argument("--path", choices=("fused", "rank"), default="fused",
                        help="what is timed: score_fused on the built network, or the rank path "
                             "(score_network: the network built from its string, macs in closed form)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classes, shape = NB201_DATASETS[args.dataset]
    archs, batch, build = sampled_networks(args.dataset, args.networks, args.seed, args.batch)

    warm = build(archs[0])
    plain_pass(warm, batch), scored(warm, batch)  # lazy imports, allocator
    if args.path == "fused":
        def score(model, arch):
            return scored(model, batch)
    else:
        in_rank = rank_path(args.dataset, args.batch, archs[0])

        def score(model, arch):
            return in_rank(arch)
    plain, total, ratios, per_proxy = [], [], [], {n: [] for n in proxies.names()}
    for arch in archs:
        model = build(arch)
        if args.heap == "fitted":
            fit_heap_to(model)
        t_plain, t_all = [], []
        for _ in range(args.runs):
            t_plain.append(plain_pass(model, batch))
            seconds, run = score(model, arch)
            t_all.append(seconds)
            for name, s in run.seconds.items():
                per_proxy[name].append(s)
        plain.append(statistics.median(t_plain))
        total.append(statistics.median(t_all))
        ratios.append(total[-1] / plain[-1])

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"device: cpu ({platform.processor() or platform.machine()}), 1 torch thread, torch {torch.__version__}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}"
          + (f"; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" if load else ""))
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(f"glibc mmap threshold: {args.heap}")
    print(f"networks: {len(archs)} NB201 architectures of the NASLib {args.dataset} sample (seed {args.seed}), "
          f"{classes} classes, batch {args.batch} x {'x'.join(map(str, shape))} Gaussian, {args.runs} run(s) each")
    print(f"plain forward+backward: median {statistics.median(plain):.4f} s per network")
    print(f"all {len(per_proxy)} proxies ({'score_fused' if args.path == 'fused' else 'score_network'}): median {statistics.median(total):.4f} s per network")
    print(f"ratio: median over networks {statistics.median(ratios):.2f} "
          f"[min {min(ratios):.2f}, max {max(ratios):.2f}]")
    print("per proxy, median s: " + ", ".join(f"{n} {statistics.median(v):.4f}" for n, v in per_proxy.items()))


if __name__ == "__main__":
    main()
