"""Choose the members of the ``ensemble`` combined score on NAS-Bench-201 CIFAR-10.

Runs the forward selection that ``nnmass/proxies/combined.py`` writes down, on a score
store that ``nnmass rank`` filled with every proxy of the shipped NB201 sample::

    nnmass rank nnmass/studies/nb201_naslib.csv --space nb201 --dataset cifar10 \\
        --arch-column arch --target val_accuracy --proxies all --workers 1 --store X.sqlite
    python tools/choose_ensemble.py --store X.sqlite

It prints the chosen members and the rho path (on the selection half, on the other
half and on both; the other half's columns use its networks scored so far) and writes
nothing: the store is opened read-only.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnmass.proxies.combined import combine  # noqa: E402
from nnmass.proxies.proxy_names import PROXY_NAMES  # noqa: E402
from nnmass.rank.scoring import ScoreSetting  # noqa: E402
from nnmass.rank.table import read_table, subsample  # noqa: E402
from nnmass.stats import spearman  # noqa: E402

TABLE = "nnmass/studies/nb201_naslib.csv"
DATASET = "cifar10"
SELECTION_ROWS = 363  # the seeded half that `--limit 363 --seed 0` keeps
SELECTION_SEED = 0
MIN_GAIN = 0.005


def stored_scores(store: Path, networks: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """proxy -> one value per network (nan: undefined), read-only from the score store, and
    whether each network has every proxy stored."""
    key = ScoreSetting.for_space("nb201", DATASET, inputs="gaussian", batch=16, seed=0).key()  # rank defaults
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT network, proxy, value FROM scores WHERE setting = ? AND error IS NULL",
                          (key,)).fetchall()
    finally:
        db.close()
    found = {(n, p): v for n, p, v in rows}
    complete = np.array([all((n, p) in found for p in PROXY_NAMES) for n in networks])
    scores = {p: np.array([np.nan if found.get((n, p)) is None else found[n, p] for n in networks], dtype=float)
              for p in PROXY_NAMES}
    return scores, complete


def rho(members: list[str], scores: dict, target: np.ndarray, rows: np.ndarray) -> float:
    """Spearman of the members' combination, aggregated over ``rows`` as the population."""
    combined = combine([scores[m][rows] for m in members])
    keep = np.isfinite(combined) & np.isfinite(target[rows])
    return spearman(combined[keep], target[rows][keep])


def forward_selection(scores: dict, target: np.ndarray, rows: np.ndarray):
    """The members chosen on ``rows``, and each step's (added proxy, rho)."""
    chosen, path, best = [], [], -np.inf
    while len(chosen) < len(PROXY_NAMES):
        trials = [(rho(chosen + [p], scores, target, rows), p) for p in PROXY_NAMES if p not in chosen]
        value, proxy = max(trials, key=lambda t: t[0])  # max keeps the first of equal values: registry order
        if chosen and value - best < MIN_GAIN:
            path.append((proxy, value, False))
            break
        chosen.append(proxy)
        path.append((proxy, value, True))
        best = value
    return chosen, path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path, help="score store of the nnmass rank command")
    parser.add_argument("--table", default=TABLE, help=f"the NB201 sample (default {TABLE})")
    args = parser.parse_args()
    if not args.store.is_file():
        sys.exit(f"choose_ensemble: no score store at {args.store}")
    table = read_table(args.table, "arch", "val_accuracy", space="nb201", dataset=DATASET)
    scores, complete = stored_scores(args.store, table.networks)
    n = len(table)
    selection = np.array(subsample(n, SELECTION_ROWS, SELECTION_SEED))
    if not complete[selection].all():
        sys.exit(f"choose_ensemble: {int((~complete[selection]).sum())} networks of the selection half lack "
                 f"scores in {args.store}; run the nnmass rank command of the docstring first")
    # The check columns use the other half's networks scored so far (all of them once rank has finished).
    held = np.setdiff1d(np.flatnonzero(complete), selection)
    everything = np.sort(np.concatenate([selection, held]))
    print(f"NB201 {DATASET}: {n} networks; selection half {selection.size} rows (--limit {SELECTION_ROWS} "
          f"--seed {SELECTION_SEED}); other half {held.size} of {n - selection.size} rows scored; "
          f"stop when a member adds < {MIN_GAIN}")
    chosen, path = forward_selection(scores, table.target, selection)
    print(f"{'step':>4}  {'member':<10} {'rho selection':>13} {'gain':>8} {'rho other half':>14} {'rho all':>8}")
    members, previous = [], np.nan
    for step, (proxy, value, taken) in enumerate(path, 1):
        trial = members + [proxy]
        gain = value - previous if members else np.nan
        print(f"{step:>4}  {('+' if members else '') + proxy:<10} {value:>13.4f} {gain:>8.5f} "
              f"{rho(trial, scores, table.target, held):>14.4f} {rho(trial, scores, table.target, everything):>8.4f}"
              + ("" if taken else "   (not taken: gain below the threshold)"))
        if taken:
            members, previous = trial, value
    print(f"ensemble = {'+'.join(chosen)}")


if __name__ == "__main__":
    main()
