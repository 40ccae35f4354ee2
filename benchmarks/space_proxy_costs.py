"""Benchmark: what each proxy costs on the median network of every task of a space.

For each task of the shipped NASLib samples (NB101, NB301, TransNAS-Bench-101 micro
and macro; NB201 is ``proxies_ratio.py``'s), the architecture whose NASLib FLOPs are
the task's median (the first such row in file order) is built as the benchmark trains
it and scored with ``score_fused`` (the path ``nnmass rank`` and the studies take) on
a batch of --batch Gaussian inputs. Each task runs in a fresh process, so its peak
resident memory (``VmHWM``) is that task's alone.

In each process: one untimed warm-up (the data-free proxies, which pays lazy imports
and first-call set-up), then --runs timed runs; the scoring and one plain train-mode
forward pass of the same network and batch (the baseline) are timed in turn, and the
medians are reported, with their ratio. A pass shared by several proxies is split
evenly among them (see ``nnmass.proxies.fused``). One torch thread.

    python benchmarks/space_proxy_costs.py [--spaces nb101,nb301,tnb-micro,tnb-macro]
        [--proxies data-free|all|LIST] [--runs 3] [--batch 16] [--memory-limit-gb G]
        [--tasks LIST]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

DATA_FREE = "params,macs,nn_mass,synflow,zen"  # the quick suite-zero study's set


def median_row(space: str, task: str | None) -> dict:
    """The row whose NASLib FLOPs are the task's median (first in file order)."""
    from nnmass.spaces.samples import load_naslib_sample
    rows = load_naslib_sample(space, task)
    flops = sorted(r["naslib_flops"] for r in rows)
    middle = flops[(len(flops) - 1) // 2]
    return next(r for r in rows if r["naslib_flops"] == middle)


def peak_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024


def measure(space: str, task: str | None, names: list[str], runs: int, batch_size: int) -> dict:
    """Times one task's median network; runs in its own process."""
    import torch
    from nnmass.models.space_networks import build_in_space
    from nnmass.parallel.heap import fit_heap_to
    from nnmass.proxies import gaussian_batch
    from nnmass.proxies.fused import score_fused
    from nnmass.spaces import get_space

    torch.set_num_threads(1)
    row, sp = median_row(space, task), get_space(space)
    info = sp.task(task)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_in_space(sp, sp.parse(row["arch"]), task, {})
    batch = gaussian_batch(info.input_shape, batch_size=batch_size, num_classes=info.num_classes, seed=0)
    fit_heap_to(model)  # as nnmass's scoring processes do
    score_fused(model, batch, DATA_FREE)  # warm-up
    totals, plains, per_proxy = [], [], {n: [] for n in names}
    for _ in range(runs):
        start = time.perf_counter()
        with torch.no_grad():
            model.train()(batch.inputs)
        plains.append(time.perf_counter() - start)
        start = time.perf_counter()
        run = score_fused(model, batch, names)
        totals.append(time.perf_counter() - start)
        for name, seconds in run.seconds.items():
            per_proxy[name].append(seconds)
    return {"space": space, "task": task or info.name, "arch": row["arch"], "naslib_mflops": row["naslib_flops"],
            "params": sum(p.numel() for p in model.parameters()),
            "seconds": {n: statistics.median(v) for n, v in per_proxy.items()},
            "total": statistics.median(totals), "plain_forward": statistics.median(plains),
            "peak_mib": peak_mib(), "undefined": sorted(n for n, v in run.scores.items() if v != v)}


def tasks_of(space: str) -> list[str | None]:
    from nnmass.spaces.samples import sample_tasks
    tasks = sample_tasks(space)
    return tasks if space.startswith("tnb") else [None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaces", default="nb101,nb301,tnb-micro,tnb-macro")
    parser.add_argument("--proxies", default="data-free", help="data-free, all, or a comma-separated list")
    parser.add_argument("--tasks", default=None, help="only these tasks (comma-separated)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--memory-limit-gb", type=float, default=None,
                        help="cap each task's process (RLIMIT_AS): a proxy that needs more fails cleanly")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # SPACE/TASK: measure in this process
    args = parser.parse_args()
    from nnmass.proxies import names as proxy_names
    names = (DATA_FREE.split(",") if args.proxies == "data-free" else
             proxy_names() if args.proxies == "all" else args.proxies.split(","))
    if args.one:
        if args.memory_limit_gb:
            import resource
            cap = int(args.memory_limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        space, _, task = args.one.partition("/")
        print(json.dumps(measure(space, task or None, names, args.runs, args.batch)))
        return

    load = os.getloadavg()
    print(f"device: cpu ({platform.processor() or platform.machine()}), 1 torch thread; "
          f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(f"proxies: {', '.join(names)}; batch {args.batch} Gaussian; median of {args.runs} run(s)\n")
    print("| space | task | NASLib MFLOPs | weights | " + " | ".join(names)
          + " | all (s) | plain forward (s) | ratio | peak MiB |")
    print("|---" * (len(names) + 8) + "|")
    for space in args.spaces.split(","):
        for task in tasks_of(space):
            if args.tasks and (task or "") not in args.tasks.split(","):
                continue
            one = f"{space}/{task or ''}"
            limit = ["--memory-limit-gb", str(args.memory_limit_gb)] if args.memory_limit_gb else []
            out = subprocess.run([sys.executable, __file__, "--one", one, "--proxies", ",".join(names),
                                  "--runs", str(args.runs), "--batch", str(args.batch), *limit],
                                 capture_output=True, text=True)
            if out.returncode:
                why = (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1][:160]
                print(f"| {space} | {task or '-'} | failed: {why} |", flush=True)
                continue
            r = json.loads(out.stdout)
            print(f"| {space} | {r['task']} | {r['naslib_mflops']:.0f} | {r['params'] / 1e6:.2f}M | "
                  + " | ".join(f"{r['seconds'][n]:.3f}" for n in names)
                  + f" | **{r['total']:.2f}** | {r['plain_forward']:.3f} | {r['total'] / r['plain_forward']:.1f} "
                  f"| {r['peak_mib']:.0f} |" + (f" undefined: {', '.join(r['undefined'])}" if r["undefined"] else ""),
                  flush=True)


if __name__ == "__main__":
    main()
