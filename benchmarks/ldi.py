"""Benchmark: batched LDI spectra (nnmass.ldi) against a per-sample baseline.

The baseline is the straightforward method: for every sample and every hidden
layer, the explicit Jacobian of the layer function ``u -> phi(W u + b)`` by
``torch.autograd.functional.jacobian``, then ``torch.linalg.svdvals``. Both run
on the same model and inputs in the same process; the script reports both
times, the speedup, and the largest difference between the two spectra.

    python benchmarks/ldi.py                      # width 8, depth 32, batch 256, 784 inputs, CPU
    python benchmarks/ldi.py --device cuda
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import shlex
import statistics
import sys
import time

import torch
from torch.autograd.functional import jacobian

from nnmass.errors import UsageError
from nnmass.ldi import layer_spectra
from nnmass.ldi.inputs import dataset_batch, gaussian_inputs
from nnmass.models import build
from nnmass.spec import DenseMLPSpec


def per_sample_spectra(model, x: torch.Tensor) -> torch.Tensor:
    """``(layers, batch, width)`` singular values, one autograd Jacobian and SVD per sample and layer."""
    inputs = {}
    hooks = [layer.register_forward_pre_hook(lambda m, args, i=i: inputs.setdefault(i, args[0].detach()))
             for i, layer in enumerate(model.layers)]
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    out = []
    for i in range(1, len(model.layers)):
        layer = model.layers[i]
        f = lambda u: model.act(layer(u))  # noqa: E731 - the layer as a function of its input
        out.append(torch.stack([torch.linalg.svdvals(jacobian(f, u)) for u in inputs[i]]))
    return torch.stack(out)


def batched_spectra(model, x: torch.Tensor) -> torch.Tensor:
    return torch.stack([s.values[:, 0] for s in layer_spectra(model, x)])


def timed(fn, device: torch.device, repeat: int) -> tuple[float, torch.Tensor]:
    """Median wall time of ``repeat`` runs (after one warm-up run) and the last result."""
    times, result = [], fn()
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        result = fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--depth", type=int, default=32)
    p.add_argument("--tc", type=int, default=10)
    p.add_argument("--input-dim", type=int, default=784, help="784 = MNIST-sized inputs")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--activation", default="relu")
    p.add_argument("--inputs", default="gaussian", help="gaussian, or a dataset such as mnist-5k")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=5, help="timed runs of the batched method (median)")
    p.add_argument("--baseline-repeat", type=int, default=1, help="timed runs of the baseline (median)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: torch's own choice); both methods use it")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda requested but CUDA is not available here")
    device = torch.device(args.device)
    # The hidden layout: every measured layer is w x (w + t_i), as in earlier results.
    spec = DenseMLPSpec(input_dim=args.input_dim, width=args.width, depth=args.depth, tc=args.tc,
                        activation=args.activation, seed=args.seed, layout="hidden")
    if args.inputs == "gaussian":
        x = gaussian_inputs(spec, args.batch, args.seed, device)
    else:
        from nnmass.data import load_dataset
        from nnmass.spec.data_fit import fit_spec_to_data
        data = load_dataset(args.inputs, device=device)
        spec = fit_spec_to_data(spec, data)
        x = dataset_batch(data, args.batch, args.seed, device)
    model = build(spec, seed=args.seed).to(device)

    ours_s, ours = timed(lambda: batched_spectra(model, x), device, args.repeat)
    base_s, base = timed(lambda: per_sample_spectra(model, x), device, args.baseline_repeat)
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join([sys.executable, sys.argv[0], *(sys.argv[1:] if argv is None else argv)]),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else
        f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)",
        "torch": torch.__version__,
        "spec": {"width": args.width, "depth": args.depth, "tc": args.tc, "input_dim": spec.input_dim,
                 "activation": args.activation},
        "batch": args.batch, "inputs": args.inputs, "layers": len(model.layers) - 1,
        "batched_s": ours_s, "per_sample_s": base_s, "speedup": base_s / ours_s,
        "max_abs_diff": (ours - base).abs().max().item(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>13}: {value}")
    return result


if __name__ == "__main__":
    try:
        main()
    except UsageError as e:
        sys.exit(f"ldi benchmark: error: {e}")
