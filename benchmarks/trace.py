"""Benchmark: trace torchvision resnet152 and compute its NN-Mass on one CPU core.

Prints the device, date, command and the median seconds of a few runs, next to
a plain forward pass at 224x224 (what a tracer that computes would cost).

    python benchmarks/trace.py [--runs 5]
"""
from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time

import torch
import torchvision

from nnmass.mass import measure


def median_seconds(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = torchvision.models.resnet152()
    x = torch.zeros(1, 3, 224, 224)
    report = measure(model, x)  # warm-up: imports and first-call caches
    traced = median_seconds(lambda: measure(model, x), args.runs)
    with torch.no_grad():
        forward = median_seconds(lambda: model(x), args.runs)
    print(f"device: {platform.processor() or platform.machine()}, 1 thread, torch {torch.__version__}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}")
    print(f"command: {' '.join([sys.executable] + sys.argv)}")
    print(f"resnet152 NN-Mass {report.nn_mass:.4f}, {len(report.cells)} cells")
    print(f"trace + mass: {traced:.3f} s (median of {args.runs})")
    print(f"forward pass at 224x224: {forward:.3f} s (median of {args.runs}); ratio {forward / traced:.1f}x")


if __name__ == "__main__":
    main()
