"""NN-Mass on TransNAS-Bench-101: how it ranks NASLib's micro and macro samples on
each of the seven tasks, next to #params, and how long one network takes.

NN-Mass is measured once per architecture (the encoder at the benchmark's 64
channels, a 64x64 input: NN-Mass depends on widths and links, not on resolution).
Heads and decoders add no long-range link; jigsaw's nine tile passes multiply the
encoder's mass by 9 on every network, which leaves its ranking unchanged, so one
value per architecture serves every task.

    python benchmarks/tnb_nn_mass.py              # prints a markdown table and JSON
"""
from __future__ import annotations

import argparse
import json
import math
import time

import torch

from nnmass import measure
from nnmass.models.space_networks import build_in_space
from nnmass.spaces import get_space
from nnmass.spaces.samples import load_naslib_sample
from nnmass.stats import correlations, partial_spearman


def masses(name: str) -> tuple[dict[str, float], float]:
    """NN-Mass of every architecture of the space's sample, and the seconds per network."""
    space, out = get_space(name), {}
    archs = sorted({r["arch"] for r in load_naslib_sample(name)})
    start = time.perf_counter()
    for arch in archs:
        model = build_in_space(space, space.parse(arch), "class_scene").eval()
        out[arch] = measure(model, torch.zeros(1, 3, 64, 64), allow_unclassified=False).nn_mass
    return out, (time.perf_counter() - start) / len(archs)


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    results = []
    print("| space | task | n | distinct | at 0 | NN-Mass rho | partial to log params | params rho |")
    print("|---|---|---|---|---|---|---|---|")
    for name in ("tnb-micro", "tnb-macro"):
        values, seconds = masses(name)
        for task in get_space(name).tasks:
            rows = load_naslib_sample(name, task)
            m = [values[r["arch"]] for r in rows]
            acc = [r["val_accuracy"] for r in rows]
            logp = [math.log(r["naslib_params"]) for r in rows]
            row = {"space": name, "task": task, "n": len(rows), "distinct": len(set(m)),
                   "zero": sum(v == 0 for v in m), "rho": correlations(m, acc)["spearman"],
                   "partial": partial_spearman(m, acc, logp), "params_rho": correlations(logp, acc)["spearman"],
                   "seconds_per_network": seconds}
            results.append(row)
            print(f"| {name} | {task} | {row['n']} | {row['distinct']} | {row['zero']} | {row['rho']:.3f} | "
                  f"{row['partial']:.3f} | {row['params_rho']:.3f} |")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
