"""Wall time of the paper's MLP grid: batched ``train_many`` against one-by-one ``train``.

The grid is the paper's MNIST study (width 8, one cell, depths 16-32, several tc)
with several seeds per architecture; each seed has its own skip links and its own
weight init. Both ways train the same models with the same config in the same
run, and the script checks that they reach the same accuracies.

    python benchmarks/batched_training.py --device cuda                 # full grid
    python benchmarks/batched_training.py --depths 16,24,32 --tcs 10,40 --epochs 1   # a quick CPU run
    # exactly the `nnmass study mnist-mlp` grid (200 models, 20 epochs, lr 0.003):
    python benchmarks/batched_training.py --tcs 0,2,4,8,16,32,64,128 --epochs 20 --lr 0.003
"""
from __future__ import annotations

import argparse
import platform
import shlex
import sys
import time
from datetime import datetime, timezone

import torch

from nnmass.data import load_dataset
from nnmass.models import build
from nnmass.spec import DenseMLPSpec
from nnmass.train import default_config, fit_spec_to_data, train, train_many


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--dataset", default="mnist-5k")
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--depths", type=ints, default=ints("16,20,24,28,32"))
    p.add_argument("--tcs", type=ints, default=ints("5,10,20,40,80"))
    p.add_argument("--seeds", type=int, default=5, help="seeds per architecture (skips and init)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (the mnist-mlp study uses 0.003)")
    p.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    p.add_argument("--tolerance", type=float, default=1e-3, help="largest accuracy difference called a match")
    p.add_argument("--control", action="store_true",
                   help="also train every model one by one from an init scaled by 1 + 1e-7 (about one "
                        "float32 ulp), to show how far rounding alone moves final accuracies")
    return p.parse_args(argv)


def grid(args, data) -> tuple[list, list[int]]:
    specs, seeds = [], []
    for depth in args.depths:
        for tc in args.tcs:
            for seed in range(args.seeds):
                spec = DenseMLPSpec(width=args.width, depth=depth, tc=tc, seed=seed)
                specs.append(fit_spec_to_data(spec, data))
                seeds.append(seed)
    return specs, seeds


def counter(label: str, total: int):
    """A progress callback: one stderr line per tenth of the model-epochs done."""
    done = [0]

    def report(*record):
        done[0] += 1
        if done[0] % max(1, total // 10) == 0 or done[0] == total:
            print(f"  {label}: {done[0]}/{total} model-epochs", file=sys.stderr, flush=True)
    return report


def timed(fn):
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset(args.dataset, device=args.device)
    config = default_config(args.dataset, "dense-mlp", args.epochs, args.device, batch_size=args.batch_size,
                            lr=args.lr)
    specs, seeds = grid(args, data)
    device_name = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") \
        else f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads"
    print(f"date     {datetime.now(timezone.utc).isoformat(timespec='seconds')}")
    print(f"command  {shlex.join([sys.executable, *sys.argv])}")
    print(f"device   {args.device} ({device_name}); torch {torch.__version__}")
    print(f"grid     width {args.width}, depths {args.depths}, tc {args.tcs}, {args.seeds} seeds "
          f"= {len(specs)} models; {args.dataset}, {args.epochs} epochs, batch {config.batch_size}, "
          f"{config.optimizer} lr {config.lr:g}")
    # Warm-up (allocator, kernels) outside the timings.
    train_many(specs[:2], data, config.replace(epochs=1), init_seeds=seeds[:2])

    total = len(specs) * config.epochs
    batched, t_batched = timed(lambda: train_many(specs, data, config, init_seeds=seeds,
                                                  progress=counter("batched", total)))
    print(f"batched  {t_batched:8.2f} s  ({len(specs) // args.seeds} stacked groups of {args.seeds})")
    tick = counter("one-by-one", total)
    single, t_single = timed(lambda: [train(build(s, seed=k), data, config, progress=tick)
                                      for s, k in zip(specs, seeds)])
    print(f"one-by-one {t_single:6.2f} s")
    print(f"speed-up {t_single / t_batched:8.2f}x")
    diffs = [abs(a.test_acc - b.test_acc) for a, b in zip(batched, single)]
    matches = sum(d <= args.tolerance for d in diffs)
    print(f"accuracy match: {matches}/{len(specs)} models within {args.tolerance:g} "
          f"(mean |difference| {sum(diffs) / len(diffs):.2e}, largest {max(diffs):.2e}); mean test acc "
          f"batched {mean_acc(batched):.4f}, one-by-one {mean_acc(single):.4f}")
    if not args.control:
        return 0 if matches == len(specs) else 1
    # Over many epochs, training amplifies float rounding: batched kernels round
    # differently from single ones. The control measures that amplification alone.
    nudged = [train(nudge(build(s, seed=k)), data, config) for s, k in zip(specs, seeds)]
    control = [abs(a.test_acc - b.test_acc) for a, b in zip(nudged, single)]
    print(f"control (init x (1 + 1e-7), one by one): mean |difference| {sum(control) / len(control):.2e}, "
          f"largest {max(control):.2e}; mean test acc {mean_acc(nudged):.4f}")
    # A match: batched departs from one-by-one no more than rounding alone does.
    return 0 if sum(diffs) <= max(args.tolerance * len(diffs), 2 * sum(control)) else 1


def mean_acc(results) -> float:
    return sum(r.test_acc for r in results) / len(results)


def nudge(model):
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 + 1e-7)
    return model

if __name__ == "__main__":
    sys.exit(main())
