"""Benchmark: scoring networks with nnmass's faster exact kernels against torch's
own, in one process: channels-last pooling (``nnmass.models.pooling``) and zico's
row-wise std (``nnmass.proxies.zico.population_std``).

Each network is built once. The baseline is the same network with its
``ChannelsLastAvgPool2d`` and ``ChannelsLastMaxPool2d`` modules turned back into
torch's ``nn.AvgPool2d`` and ``nn.MaxPool2d``, scored with zico's std taken by
``torch.std``. Both are scored with every proxy (``score_fused(model, batch, "all")``,
the path of ``nnmass rank``), alternately, --runs times each, so the machine's load
falls on both alike. The scores must be equal bit for bit; the script stops if they
are not. Reported: the
median seconds of each, their ratio per network, and the same for the plain forward
and backward pass of ``benchmarks/proxies_ratio.py``. NB201: networks and batch as
there; ``--space nb101`` or ``nb301``: the first --networks rows of the shipped
NASLib sample that hold a pooling op, weights from torch seed 0, a Gaussian batch.

    python benchmarks/exact_kernels.py [--space nb201] [--networks 16] [--runs 3] [--dataset cifar10] [--batch 16]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import importlib
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

from nnmass.models.pooling import ChannelsLastAvgPool2d, ChannelsLastMaxPool2d
from nnmass.proxies.fused import score_fused
from nnmass.rank.scoring import NB201_DATASETS

from nb201_networks import sampled_networks  # beside this script
from proxies_ratio import plain_pass  # beside this script

zico = importlib.import_module("nnmass.proxies.zico")  # the module; ``nnmass.proxies.zico`` is the proxy


def with_torch_pools(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose channels-last pools are torch's."""
    model = copy.deepcopy(model)
    torch_class = {ChannelsLastAvgPool2d: nn.AvgPool2d, ChannelsLastMaxPool2d: nn.MaxPool2d}
    for m in model.modules():
        if type(m) in torch_class:
            m.__class__ = torch_class[type(m)]
    return model


def pools_of(model: nn.Module) -> int:
    """Pooling modules the network holds (cells and skeleton)."""
    return sum(type(m) in (ChannelsLastAvgPool2d, ChannelsLastMaxPool2d) for m in model.modules())


def space_networks(space: str, networks: int, batch_size: int):
    """``(archs, batch, build)`` for NB101 or NB301, as :func:`sampled_networks` gives NB201's."""
    from nnmass.models.space_networks import build_in_space
    from nnmass.proxies import gaussian_batch
    from nnmass.spaces import get_space
    from nnmass.spaces.samples import load_naslib_sample
    sp = get_space(space)
    info = sp.task(None)

    def build(arch):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return build_in_space(sp, sp.parse(arch), None, {})

    pooled = [r["arch"] for r in load_naslib_sample(space, None) if "pool" in r["arch"].lower()]
    batch = gaussian_batch(info.input_shape, batch_size=batch_size, num_classes=info.num_classes, seed=0)
    return pooled[:networks], batch, build


_row_wise_std = zico.population_std


def _torch_std(rows):
    return rows.std(0, correction=0)


def timed_scores(model, batch, torch_std: bool = False):
    """Seconds of scoring with every proxy, and the scores in hex."""
    zico.population_std = _torch_std if torch_std else _row_wise_std
    try:
        start = time.perf_counter()
        run = score_fused(model, batch, "all")
        return time.perf_counter() - start, {n: float(v).hex() for n, v in run.scores.items()}
    finally:
        zico.population_std = _row_wise_std



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="nb201", choices=("nb201", "nb101", "nb301"))
    parser.add_argument("--networks", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dataset", default="cifar10", choices=list(NB201_DATASETS))
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.space == "nb201":
        archs, batch, build = sampled_networks(args.dataset, args.networks, args.seed, args.batch)
    else:
        archs, batch, build = space_networks(args.space, args.networks, args.batch)
    warm = build(archs[0])
    timed_scores(warm, batch), timed_scores(with_torch_pools(warm), batch, torch_std=True)  # lazy imports

    rows = []
    for arch in archs:
        fast = build(arch)
        slow = with_torch_pools(fast)
        times = {"torch": [], "channels_last": [], "plain_torch": [], "plain_channels_last": []}
        for _ in range(args.runs):
            t_slow, s_slow = timed_scores(slow, batch, torch_std=True)
            t_fast, s_fast = timed_scores(fast, batch)
            if s_slow != s_fast:
                sys.exit(f"scores differ on {arch}: {s_slow} != {s_fast}")
            times["torch"].append(t_slow)
            times["channels_last"].append(t_fast)
            times["plain_torch"].append(plain_pass(slow, batch))
            times["plain_channels_last"].append(plain_pass(fast, batch))
        rows.append({k: statistics.median(v) for k, v in times.items()} | {"pools": pools_of(fast)})

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"device: cpu ({platform.processor() or platform.machine()}), 1 torch thread, torch {torch.__version__}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}"
          + (f"; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" if load else ""))
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    what = (f"NB201 architectures of the NASLib {args.dataset} sample (seed {args.seed})" if args.space == "nb201"
            else f"{args.space} architectures with a pooling op, the first of the NASLib sample")
    print(f"networks: {len(archs)} {what}, batch {args.batch}, {args.runs} run(s) each; "
          "all 13 proxies equal bit for bit on every network")
    print("| pooling modules | networks | all proxies, torch's kernels (s) | nnmass's (s) | ratio "
          "| plain fwd+bwd, torch's pools (s) | nnmass's (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    groups = sorted({r["pools"] for r in rows})
    for label, members in [(str(g), [r for r in rows if r["pools"] == g]) for g in groups] + [("all", rows)]:
        med = {k: statistics.median(r[k] for r in members) for k in members[0] if k != "pools"}
        total_torch = sum(r["torch"] for r in members)
        total_fast = sum(r["channels_last"] for r in members)
        plain_torch = sum(r["plain_torch"] for r in members)
        plain_fast = sum(r["plain_channels_last"] for r in members)
        print(f"| {label} | {len(members)} | {med['torch']:.3f} | {med['channels_last']:.3f} "
              f"| {total_fast / total_torch:.3f} | {med['plain_torch']:.4f} | {med['plain_channels_last']:.4f} "
              f"| {plain_fast / plain_torch:.3f} |")


if __name__ == "__main__":
    main()
