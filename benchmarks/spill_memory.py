"""Benchmark: peak memory and time of scoring a network with every proxy, with saved
activations spilled to disk past the budget (``nnmass.proxies.spill``) and without.

Each network is named ``SPACE/TASK@P``: the architecture at percentile P of the task's
NASLib FLOPs in the shipped sample (the first such row in file order). It is scored by
``score_network``, the step ``nnmass rank`` and the studies take (fitted heap, fused
proxies), once with ``NNMASS_SPILL_MB=0`` (off) and once with --budget MB, each in a
fresh process so that its peak resident memory (``VmHWM``) is its own. The two
processes run at the same time, so they share the machine's load; one torch thread
each. The scores of both are compared bit for bit.

    python benchmarks/spill_memory.py [--networks tnb-micro/segmentsemantic@50,...]
        [--budget 1024] [--batch 16] [--proxies all]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

from space_proxy_costs import peak_mib  # beside this script

DEFAULT_NETWORKS = "tnb-micro/segmentsemantic@50,tnb-macro/autoencoder@50,tnb-macro/autoencoder@90"


def row_at(space: str, task: str, percentile: float) -> dict:
    """The row at ``percentile`` of the task's NASLib FLOPs (first in file order), the
    index rounded to the nearest. ``space_proxy_costs.median_row`` rounds the median's
    index down instead; where a task has an even number of rows the two can pick
    different networks, and each benchmark's published rows came from its own rule."""
    from nnmass.spaces.samples import load_naslib_sample
    rows = load_naslib_sample(space, task)
    flops = sorted(r["naslib_flops"] for r in rows)
    at = flops[min(len(flops) - 1, int(percentile / 100 * (len(flops) - 1) + 0.5))]
    return next(r for r in rows if r["naslib_flops"] == at)


def measure(spec: str, names: str, batch: int) -> dict:
    """Score one network in this process; the budget comes from the environment."""
    import torch
    from nnmass.proxies import spill
    from nnmass.rank.scoring import ScoreSetting, score_network

    written = {"tensors": 0, "bytes": 0}

    class Counted(spill._OnDisk):
        def __init__(self, tensor, *args):
            super().__init__(tensor, *args)
            written["tensors"] += 1
            written["bytes"] += tensor.nbytes

    spill._OnDisk = Counted
    torch.set_num_threads(1)
    where, _, percentile = spec.partition("@")
    space, _, task = where.partition("/")
    row = row_at(space, task, float(percentile or 50))
    setting = ScoreSetting.for_space(space, task, batch=batch, seed=0)
    start = time.perf_counter()
    scored = score_network(row["arch"], names.split(","), setting)
    seconds = time.perf_counter() - start
    return {"arch": row["arch"], "gflops": row["naslib_flops"] / 1000, "seconds": seconds, "peak_mib": peak_mib(),
            "scores": {n: float(v).hex() for n, v in scored.scores.items()}, "error": scored.error,
            "spilled": written}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", default=DEFAULT_NETWORKS)
    parser.add_argument("--budget", type=int, default=1024, help="MB of resident memory before spilling")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--proxies", default="all")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # SPEC: measure in this process
    args = parser.parse_args()
    if args.proxies == "all":
        from nnmass.proxies.proxy_names import PROXY_NAMES
        args.proxies = ",".join(PROXY_NAMES)
    if args.one:
        print(json.dumps(measure(args.one, args.proxies, args.batch)))
        return
    load = os.getloadavg()
    print(f"device: cpu ({platform.processor() or platform.machine()}), 1 torch thread per process; "
          f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(f"proxies: {args.proxies}; batch {args.batch} Gaussian; off and {args.budget} MB run side by side\n")
    print("| network | arch | NASLib GFLOPs | peak MiB off | peak MiB spilled | seconds off | seconds spilled "
          "| time ratio | written | same scores |")
    print("|---" * 10 + "|")
    for spec in args.networks.split(","):
        runs = {}
        for budget in ("0", str(args.budget)):
            env = {**os.environ, "NNMASS_SPILL_MB": budget, "OMP_NUM_THREADS": "1"}
            runs[budget] = subprocess.Popen([sys.executable, __file__, "--one", spec, "--proxies", args.proxies,
                                             "--batch", str(args.batch)], env=env, text=True,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = {}
        for budget, proc in runs.items():
            stdout, stderr = proc.communicate()
            if proc.returncode:
                out = None
                print(f"| {spec} | failed: {(stderr.strip().splitlines() or ['?'])[-1][:160]} |", flush=True)
                break
            out[budget] = json.loads(stdout)
        if out is None:
            continue
        off, on = out["0"], out[str(args.budget)]
        same = off["scores"] == on["scores"] and not off["error"] and not on["error"]
        print(f"| {spec} | `{off['arch']}` | {off['gflops']:.1f} | {off['peak_mib']:.0f} | **{on['peak_mib']:.0f}** "
              f"| {off['seconds']:.1f} | {on['seconds']:.1f} | {on['seconds'] / off['seconds']:.2f} "
              f"| {on['spilled']['tensors']} tensors, {on['spilled']['bytes'] / 2**30:.1f} GiB "
              f"| {'yes' if same else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()
