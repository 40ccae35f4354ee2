"""Benchmark: glibc's heap settings while NB201 networks are scored, by page faults, time
and peak memory.

Each setting scores the same --networks NB201 networks (``benchmarks/nb201_networks.py``,
drawn by ``PCG64(--seed)``) with every proxy (``score_fused``, the path of ``nnmass
rank``) in a fresh process pinned to one core, one torch thread, after one warm-up
network. Settings, run in turn --rounds times so the machine's drift falls on all:

- ``default``: glibc's own thresholds, which move with the blocks freed;
- ``mmap-only``: the mmap threshold fixed at 32 MiB (what ``fit_heap_to`` sets below
  20M parameters) with glibc's trim threshold left at 128 KiB, as before
  ``nnmass.parallel.heap`` set both;
- ``fitted``: ``fit_heap_to`` as the workers call it (32 MiB and a 64 MiB trim threshold).

Reported per run: seconds for the networks, minor page faults, peak resident memory
(``ru_maxrss``). Scores are the same under every setting (malloc does not touch values).

    python benchmarks/heap_trim.py [--networks 20] [--rounds 2] [--seed 1] [--core 1]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys

import torch

SETTINGS = ("default", "mmap-only", "fitted")

CHILD = """
import resource, sys, time
sys.path.insert(0, {here!r})
import torch
from nnmass.parallel import heap
from nnmass.proxies.fused import score_fused
from nb201_networks import sampled_networks

setting, networks, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(1)
archs, batch, build = sampled_networks("cifar10", networks + 1, seed, 16)

def fit(model):
    if setting == "fitted":
        heap.fit_heap_to(model)
    elif setting == "mmap-only":
        assert heap.set_mmap_threshold(heap.USUAL_THRESHOLD)
        heap._mallopt(heap.M_TRIM_THRESHOLD, 128 << 10)  # glibc's fixed default once the mmap threshold is set
    return model

score_fused(fit(build(archs[0])), batch, "all")  # warm-up
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
start = time.perf_counter()
for arch in archs[1:]:
    score_fused(fit(build(arch)), batch, "all")
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(seconds, usage.ru_minflt - faults, usage.ru_maxrss / 1024)
"""


def run(setting: str, networks: int, seed: int, core: int) -> tuple[float, int, float]:
    here = os.path.dirname(os.path.abspath(__file__))
    command = [sys.executable, "-c", CHILD.format(here=here), setting, str(networks), str(seed)]
    if sys.platform.startswith("linux"):
        command = ["taskset", "-c", str(core), *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--core", type=int, default=1, help="the CPU core each run is pinned to (Linux)")
    args = parser.parse_args()
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, Python {platform.python_version()}")
    print(f"{args.networks} NB201 networks (seed {args.seed}), all 13 proxies, batch 16, one thread, "
          f"core {args.core}\n")
    print("| round | setting | seconds | s per network | minor page faults | peak MiB |")
    print("|---|---|---|---|---|---|")
    totals = {s: [] for s in SETTINGS}
    for round_ in range(1, args.rounds + 1):
        for setting in SETTINGS:
            seconds, faults, peak = run(setting, args.networks, args.seed, args.core)
            totals[setting].append(seconds)
            print(f"| {round_} | {setting} | {seconds:.2f} | {seconds / args.networks:.3f} | {faults:,} | {peak:,.0f} |",
                  flush=True)
    base = sum(totals["mmap-only"])
    print("\nseconds over all rounds, relative to mmap-only: "
          + ", ".join(f"{s} {sum(v) / base:.3f}" for s, v in totals.items()))


if __name__ == "__main__":
    main()
