"""How the batch size changes the proxies on NAS-Bench-201: agreement with NASLib's scores
and rho with accuracy, at two batch sizes, on the same architectures.

NASLib scored each network on 64 real training images; ``nnmass study nb201-proxies``
uses 16 Gaussian inputs to fit its time budget. This script scores --networks
architectures of the shipped sample (drawn by ``--limit``'s rule, seed 0) at each
--batches size on Gaussian inputs and prints, per proxy NASLib also scored, the
Spearman between our score and NASLib's and each one's rho with validation accuracy,
over the same architectures. Scores go to --store (resumable; the study's store can
be given to reuse its batch-16 scores).

    python benchmarks/proxies_batch.py [--networks 80] [--dataset cifar10] [--batches 16,64] [--workers 2]
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

from nnmass.rank.ranking import rank_networks
from nnmass.rank.scoring import ScoreSetting
from nnmass.rank.store import ScoreStore
from nnmass.rank.table import subsample
from nnmass.studies.nb201_proxies import NASLIB_NAMES, SEED, accuracy_comparison, agreement_row, naslib_values, \
    study_tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=80)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--batches", default="16,64")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", default="nnmass-runs/proxies-batch.sqlite")
    args = parser.parse_args()
    table = study_tables(False)[args.dataset]
    table = table.subset(subsample(len(table), args.networks, 0))
    names = list(NASLIB_NAMES)
    results = {}
    with ScoreStore(args.store) as store:
        for batch in (int(b) for b in args.batches.split(",")):
            setting = ScoreSetting.nb201(args.dataset, batch=batch, seed=SEED)
            results[batch] = rank_networks(table, names, setting, store, workers=args.workers, progress=False,
                                           n_boot=200, desc=f"batch {batch}")
    print(f"date: {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}")
    print(f"command: {' '.join([os.path.basename(sys.executable)] + sys.argv)}")
    print(f"{len(table)} architectures of the NASLib {args.dataset} sample, Gaussian inputs, seed {SEED}")
    header = "proxy      " + "".join(f"  agree b={b:<4d}  rho b={b:<4d}" for b in results) + "  rho NASLib"
    print(header)
    for name in names:
        line = f"{name:10s} "
        naslib_rho = None
        for batch, result in results.items():
            agree = agreement_row(result.scores[name], naslib_values(table.rows, NASLIB_NAMES[name]), 0, 0)
            comparison = next(c for c in accuracy_comparison(result, 0, 0) if c["proxy"] == name)
            naslib_rho = comparison["naslib_spearman"]
            line += f"  {agree['spearman']:10.3f}  {comparison['ours_spearman']:10.3f}"
        print(line + f"  {naslib_rho:10.3f}")


if __name__ == "__main__":
    main()
