"""Benchmark: peak resident memory of `nnmass rank` against the number of networks.

For each N of --networks, writes a table of N NB201 architectures with distinct
canonical networks (a seeded draw from the shipped full table, CIFAR-10 accuracies)
and runs, in a fresh process each time, with a fresh store:

    nnmass rank TABLE --space nb201 --dataset cifar10 --arch-column arch --target cifar10
        --proxies P --workers W --bootstrap B --store S --json --no-progress

The run happens inside a small measuring process that calls ``nnmass.cli.main``
(so its own peak is the parent's) and reports:

- parent: ``getrusage(RUSAGE_SELF).ru_maxrss`` after the command returned;
- workers: each worker's ``VmHWM`` (peak resident size) from ``/proc``, read every
  --poll seconds while it lives (the last reading before it exits), and
  ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, the largest reaped worker, exact.

With --all-rows it also ranks the shipped full table itself, every one of its 15,625
rows (5,425 distinct canonical networks; the rows sharing a network are scored once).

The largest N's peaks are divided by the smallest's; the target is at most 1.10
(10% more) for the parent and for every worker.

    python benchmarks/rank_memory.py [--networks 100 1000] [--all-rows] [--proxies params,nn_mass,synflow]
        [--workers 2] [--bootstrap 0] [--keep DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def _rss_peak_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _worker_pids(parent: int) -> list[int]:
    """The scoring processes this process spawned (not multiprocessing's resource tracker)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and b"resource_tracker" not in cmdline:
            pids.append(int(entry))
    return pids


def measure(argv: list[str], poll: float) -> dict:
    """Run ``nnmass`` with ``argv`` in this process; the peaks of it and its workers."""
    from nnmass.cli import main

    peaks: dict[int, int] = {}
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            for pid in _worker_pids(os.getpid()):
                kib = _rss_peak_kib(pid)
                if kib is not None:
                    peaks[pid] = max(peaks.get(pid, 0), kib)
            stop.wait(poll)

    thread = threading.Thread(target=watch, daemon=True)
    start = time.perf_counter()
    thread.start()
    code = main(argv)
    stop.set()
    thread.join()
    seconds = time.perf_counter() - start
    return {"code": code, "seconds": seconds,
            "parent_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "largest_worker_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "workers_mib": sorted(kib / 1024 for kib in peaks.values())}


def write_table(path: Path, n: int, seed: int) -> None:
    """N architectures of the full NB201 table with N distinct canonical networks."""
    from nnmass.spaces import get_space
    from nnmass.spaces.nb201_full import load_nb201_full

    space = get_space("nb201")
    rows = load_nb201_full("cifar10")
    order = np.random.Generator(np.random.PCG64(seed)).permutation(len(rows))
    seen, kept = set(), []
    for i in order:
        key = space.canonical_key(space.parse(rows[i]["arch"]))
        if key not in seen:
            seen.add(key)
            kept.append(rows[i])
            if len(kept) == n:
                break
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "cifar10"])
        w.writerows([r["arch"], r["val_accuracy"]] for r in kept)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--networks", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--proxies", default="params,nn_mass,synflow")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0, help="the draw of the architectures")
    p.add_argument("--all-rows", action="store_true",
                   help="also rank every row of the shipped full NB201 table, as it is")
    p.add_argument("--bootstrap", type=int, default=0,
                   help="rank's bootstrap resamples (0: none; 1000 is rank's own default, the end-to-end command)")
    p.add_argument("--keep", type=Path, default=None,
                   help="write the tables, score stores and rank's JSON here and keep them (default: a temporary folder)")
    p.add_argument("--poll", type=float, default=0.05, help="seconds between /proc readings")
    p.add_argument("--measure", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)  # the measuring process
    args = p.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.poll)))
        return

    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}")
    from nnmass.spaces.nb201_full import nb201_full_path

    full = nb201_full_path()
    runs = [(n, None) for n in sorted(args.networks)]
    if args.all_rows:
        with open(full) as f:
            runs.append((sum(1 for _ in f) - 1, full))  # its rows, less the header
    results = {}
    with contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory() as tmp:
        Path(tmp).mkdir(parents=True, exist_ok=True)
        for n, table in runs:
            if table is None:
                table = Path(tmp) / f"nb201_{n}.csv"
                write_table(table, n, args.seed)
            argv = ["rank", str(table), "--space", "nb201", "--dataset", "cifar10", "--arch-column", "arch",
                    "--target", "cifar10", "--proxies", args.proxies, "--workers", str(args.workers),
                    "--bootstrap", str(args.bootstrap), "--store", str(Path(tmp) / f"scores_{n}.sqlite"), "--json", "--no-progress"]
            out = subprocess.run([sys.executable, __file__, "--poll", str(args.poll), "--measure", *argv],
                                 capture_output=True, text=True, check=True)
            *ranked, last = out.stdout.strip().splitlines()
            r = json.loads(last)
            if args.keep:
                (Path(tmp) / f"rank_{n}.json").write_text("\n".join(ranked) + "\n")
            if r["code"] != 0:
                sys.exit(f"rank failed on {n} networks: {out.stderr[-2000:]}")
            results[n] = r
            label = "rows" if table == full else "N"  # every row of the full table, or N distinct networks
            print(f"{label}={n:6d}  {r['seconds']:7.1f} s  parent {r['parent_mib']:7.1f} MiB  largest worker (rusage) "
                  f"{r['largest_worker_mib']:7.1f} MiB  workers (/proc VmHWM) "
                  f"{', '.join(f'{m:.1f}' for m in r['workers_mib'])} MiB", flush=True)
    small, large = results[min(results)], results[max(results)]
    print(f"ratio N={max(results)} / N={min(results)}: parent {large['parent_mib'] / small['parent_mib']:.3f}, "
          f"largest worker {large['largest_worker_mib'] / small['largest_worker_mib']:.3f}, "
          + (f"each worker {max(large['workers_mib']) / max(small['workers_mib']):.3f} (max) "
             f"{min(large['workers_mib']) / min(small['workers_mib']):.3f} (min); "
             if large["workers_mib"] and small["workers_mib"] else "no worker processes (--workers 1); ")
          + f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
