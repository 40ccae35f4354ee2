"""Benchmark: seconds per zero-cost proxy on a NAS-Bench-201-sized CNN, on one CPU core.

Ours: ``nnmass.proxies.run_proxies`` (no copy of the model; stand-in tensors).
Baseline: the straightforward loop, each proxy on its own fresh ``copy.deepcopy``
of the model. Both give the same values (checked). The network is built here:
NAS-Bench-201's macro skeleton (stem, 3 stages of N cells, residual reductions,
BN-ReLU, global pooling, linear) with the cell given by --ops.

    python benchmarks/proxies_speed.py [--batch-size 8] [--cells 5] [--ops conv3,conv3,conv3,skip,conv3,conv3]
                                       [--all] [--runs 5] [--threads 1] [--device cpu]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import math
import platform
import statistics
import sys
import time

import torch
from torch import nn

from nnmass import proxies

OPS = ("conv3", "conv1", "skip", "pool", "none")
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]


def relu_conv_bn(c_in: int, c_out: int, k: int, stride: int = 1) -> nn.Module:
    return nn.Sequential(nn.ReLU(), nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out))


class Zero(nn.Module):
    def forward(self, x):
        return x * 0.0


class Cell(nn.Module):
    """Node j sums one op on each earlier node (ops in the order of EDGES)."""

    def __init__(self, c: int, ops: list[str]):
        super().__init__()
        make = {"conv3": lambda: relu_conv_bn(c, c, 3), "conv1": lambda: relu_conv_bn(c, c, 1), "skip": nn.Identity,
                "pool": lambda: nn.AvgPool2d(3, 1, 1, count_include_pad=False), "none": Zero}
        self.ops = nn.ModuleList(make[op]() for op in ops)

    def forward(self, x):
        nodes = [x]
        for j in (1, 2, 3):
            nodes.append(sum(op(nodes[i]) for (t, i), op in zip(EDGES, self.ops) if t == j))
        return nodes[3]


class Reduction(nn.Module):
    """NB201's residual reduction block: two ReLU-conv-BN, average-pool + 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.a, self.b = relu_conv_bn(c_in, c_out, 3, 2), relu_conv_bn(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x):
        return self.b(self.a(x)) + self.shortcut(x)


class CellNet(nn.Module):
    def __init__(self, ops: list[str], cells: int = 5, c: int = 16, classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)]
        for stage in range(3):
            if stage:
                layers.append(Reduction(c, 2 * c))
                c *= 2
            layers += [Cell(c, ops) for _ in range(cells)]
        self.features = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())
        self.pool, self.classifier = nn.AdaptiveAvgPool2d(1), nn.Linear(c, classes)

    def forward(self, x):
        return self.classifier(self.pool(self.lastact(self.features(x))).flatten(1))


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--cells", type=int, default=5, help="cells per stage (NB201: 5)")
    parser.add_argument("--ops", default="conv3,conv3,conv3,skip,conv3,conv3",
                        help=f"six cell ops from {', '.join(OPS)} (default: NB201's best CIFAR-10 cell)")
    parser.add_argument("--all", action="store_true", help="every proxy, not only the data-free ones")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    ops = args.ops.split(",")
    if len(ops) != 6 or not set(ops) <= set(OPS):
        parser.error(f"--ops needs six of {', '.join(OPS)}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = CellNet(ops, args.cells).to(args.device)
    batch = proxies.gaussian_batch((3, 32, 32), batch_size=args.batch_size, seed=0, device=args.device)
    names = proxies.names() if args.all else list(proxies.DATA_FREE)

    ours = {n: [] for n in names}
    base = {n: [] for n in names}
    for _ in range(args.runs + 1):  # the first run warms caches and is dropped
        run = proxies.run_proxies(model, batch, names)
        for name in names:
            start = time.perf_counter()
            value = proxies.get(name).function(copy.deepcopy(model), batch)
            base[name].append(time.perf_counter() - start)
            ours[name].append(run.seconds[name])
            assert same(value, run.scores[name]), (name, value, run.scores[name])

    params, macs = proxies.params(model, batch), proxies.macs(model, batch)
    print(f"device: {args.device} ({platform.processor() or platform.machine()}), {args.threads} thread(s), "
          f"torch {torch.__version__}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}")
    print(f"command: {' '.join([sys.executable] + sys.argv)}")
    print(f"network: NB201 skeleton, {args.cells} cells/stage, cell {args.ops}; {params / 1e6:.3f} M params, "
          f"{macs / 1e6:.1f} M MACs; batch {args.batch_size} x 3x32x32; median of {args.runs} runs")
    print(f"{'proxy':10s} {'ours (s)':>9s} {'deepcopy loop (s)':>18s} {'speed-up':>9s}  value")
    for name in names:
        o, b = statistics.median(ours[name][1:]), statistics.median(base[name][1:])
        print(f"{name:10s} {o:9.4f} {b:18.4f} {b / o:8.2f}x  {run.scores[name]:.6g}")
    for label, subset in (("data-free", [n for n in names if n in proxies.DATA_FREE]), ("all", names)):
        if subset and (label == "data-free" or args.all):
            o = statistics.median(sum(ours[n][i] for n in subset) for i in range(1, args.runs + 1))
            b = statistics.median(sum(base[n][i] for n in subset) for i in range(1, args.runs + 1))
            print(f"total {label} ({len(subset)}): ours {o:.4f} s, deepcopy loop {b:.4f} s, {b / o:.2f}x")


if __name__ == "__main__":
    main()
