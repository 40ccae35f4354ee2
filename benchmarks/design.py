"""Candidates per second: closed-form design evaluation against building each candidate.

Usage: python benchmarks/design.py [--space mobilenet_v2] [--sample 8] [--device cpu|meta]

Both run on one CPU core in the same process: the closed-form side evaluates the
whole default space (NN-Mass, params and MACs) by broadcast terms and element by
element, then runs the full search (ranking and Pareto front); the baseline builds an evenly spaced sample of the same
candidates as torch modules and counts them (sum(p.numel()), FlopCounterMode / 2).
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # one core, set before numpy loads its thread pools

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from nnmass.design import design, make_space, spec_of  # noqa: E402
from nnmass.design.catalog import SPACES  # noqa: E402


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def closed_form_rate(space, chunk_size: int) -> float:
    start = time.perf_counter()
    for lo, hi in space.chunks(chunk_size):
        space.evaluate(lo, hi, chunk_size)
    return space.size / (time.perf_counter() - start)


def direct_rate(space, chunk_size: int) -> float:
    """Element by element on decoded columns, without the broadcast terms."""
    start = time.perf_counter()
    for lo in range(0, space.size, chunk_size):
        space.evaluate_direct(lo, min(space.size, lo + chunk_size))
    return space.size / (time.perf_counter() - start)


def build_rate(space, sample: int, device: str):
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from nnmass.models import build, input_shape

    torch.set_num_threads(1)
    indices = np.linspace(0, space.size - 1, sample).astype(np.int64)
    mass, params, macs = space.evaluate(0, space.size)
    start = time.perf_counter()
    mismatches = 0
    for i in indices:
        spec = spec_of(space, int(i))
        with torch.device(device), torch.no_grad():
            model = build(spec).eval()
            with FlopCounterMode(display=False) as counter:
                model(torch.zeros(input_shape(spec, 1)))
        counted = (sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2)
        mismatches += counted != (params[i], macs[i])
    return sample / (time.perf_counter() - start), mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="mobilenet_v2", choices=sorted(SPACES))
    parser.add_argument("--sample", type=int, default=8, help="candidates built for the baseline")
    parser.add_argument("--device", default="cpu", choices=("cpu", "meta"),
                        help="where the baseline builds and runs its modules (meta: no arithmetic)")
    parser.add_argument("--chunk-size", type=int, default=2**20)
    args = parser.parse_args()

    space = make_space(SPACES[args.space])
    print(f"date     {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC")
    print(f"command  {' '.join([sys.executable.rsplit('/', 1)[-1]] + sys.argv)}")
    print(f"cpu      {cpu_name()} (1 thread), numpy {np.__version__}, python {platform.python_version()}")
    axes = dict(zip((a.name for a in space.axes), space.shape))
    print(f"space    {args.space}: {space.size:,} candidates, axes {axes}")

    closed_form_rate(space, args.chunk_size)  # warm up caches and allocator
    eval_rate = closed_form_rate(space, args.chunk_size)
    elementwise = direct_rate(space, args.chunk_size)
    start = time.perf_counter()
    result = design(space, max_macs=None, max_params=int(np.median(space.evaluate(0, space.size)[1])),
                    chunk_size=args.chunk_size)
    search_rate = space.size / (time.perf_counter() - start)
    base_rate, mismatches = build_rate(space, args.sample, args.device)

    print(f"closed-form evaluation  {eval_rate:14,.0f} candidates/s")
    print(f"element-wise evaluation (no broadcast terms) {elementwise:14,.0f} candidates/s")
    print(f"full search (rank, Pareto front of {len(result.pareto):,}, median-params budget) "
          f"{search_rate:14,.0f} candidates/s")
    print(f"build + count ({args.device}, {args.sample} sampled) {base_rate:14,.2f} candidates/s "
          f"({mismatches} count mismatches with the closed form)")
    print(f"speed-up  evaluation {eval_rate / base_rate:,.0f}x, full search {search_rate / base_rate:,.0f}x")


if __name__ == "__main__":
    main()
