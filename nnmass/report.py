"""The report of a sweep: fit table, the paper's numbers beside ours, the proxies'
rank table, figures, trial counts and the command that made it, as blocks that
:mod:`nnmass.render` writes as ``report.md`` and ``report.html``.
"""
from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from .errors import UsageError
from .files.writing import write_text_atomically
from .json_values import jsonable
from .render import code, heading, image, para, prepare_out_dir, table, write_blocks
from .stats import MIN_ARCHITECTURES, PREDICTORS, TARGETS, fit_table
from .stats.proxy_fits import best_predictor, proxy_table
from .table import with_ci
from .validate import shown

PREDICTOR_LABELS = {"nn_mass": "log NN-Mass", "params": "log #Params", "macs": "log MACs"}

# The paper's R^2 for the linear fits it reports (Sec. 4.2-4.3, Fig. 3, 6, 16). Its LDI
# fit is under the models' own init (ldi_mean); ldi_prop2_mean (He fan_out init, Prop. 2's
# assumption) is an extra of ours, with no paper value beside it.
PAPER_R2 = {
    "mnist-mlp": {("test_acc", "nn_mass"): 0.85, ("test_acc", "params"): 0.19,
                  ("ldi_mean", "nn_mass"): 0.79, ("ldi_mean", "params"): 0.31},
    "cifar10-cnn": {("test_acc", "nn_mass"): 0.84, ("test_acc", "params"): 0.76},  # wm = 2
    "imagenet-resnets": {("top1", "nn_mass"): 0.87, ("top1", "params"): 0.64},
    "imagenet-mobilenet_v2": {("top1", "nn_mass"): 0.96, ("top1", "params"): 0.74},
}


def paper_reference(rows: Sequence[dict]) -> dict:
    """The paper's R^2 for a sweep like ``rows`` (MLP on MNIST, CNN on CIFAR-10), else {}."""
    kinds = {(r.get("family"), (r.get("dataset") or "").split("-")[0]) for r in rows if r.get("status") == "done"}
    if kinds == {("dense-mlp", "mnist")}:
        return PAPER_R2["mnist-mlp"]
    if kinds == {("dense-cnn", "cifar10")}:
        return PAPER_R2["cifar10-cnn"]
    return {}


def load_rows(store: str | Path) -> list[dict]:
    """Every trial of an existing store, opened read-only; a missing or empty store is a
    :class:`UsageError`, and rows altered by hand are skipped with a note on stderr."""
    from .store import ResultStore
    from .store.rows import note_altered, split_rows

    with ResultStore(store, readonly=True) as s:
        rows, altered = split_rows(s.trials())
    if not rows and altered:
        raise UsageError(f"store {str(store)!r} holds no usable trials: all {len(altered)} were altered "
                         f"(key {altered[0][0]}: {altered[0][1]})")
    if not rows:
        raise UsageError(f"store {str(store)!r} holds no trials; run `nnmass sweep GRID --store {store}` first")
    note_altered(store, altered)  # rows edited by hand are skipped, and counted
    return rows


def select_rows(rows: list[dict], store, sweep: str | None = None, dataset: str | None = None,
                pool: bool = False) -> list[dict]:
    """The trials of one sweep on one dataset. A store holding several is never pooled
    silently: choose with ``sweep``/``dataset``, or ask for ``pool``."""
    for key, wanted in (("sweep", sweep), ("dataset", dataset)):
        if wanted is not None:
            have = sorted({str(r.get(key)) for r in rows})
            rows = [r for r in rows if r.get(key) == wanted]
            if not rows:
                raise UsageError(f"store {str(store)!r} has no trials of {key} {shown(wanted)}; it has: "
                                 + shown(", ".join(have))[1:-1])
    mixed = [(key, sorted({str(r.get(key)) for r in rows})) for key in ("sweep", "dataset")]
    mixed = [(key, names) for key, names in mixed if len(names) > 1]
    if mixed and not pool:
        what = "; ".join(f"{key}s {shown(', '.join(names))[1:-1]}" for key, names in mixed)
        raise UsageError(f"store {str(store)!r} mixes {what}: choose with "
                         + " and ".join(f"--{key} NAME" for key, _ in mixed) + ", or fit them together with --pool")
    return rows


def _ci(row: dict, name: str) -> str:
    lo, hi = row.get(f"{name}_lo"), row.get(f"{name}_hi")
    if lo is None or lo != lo:  # nan
        return f"{row[name]:.3f}"
    return f"{row[name]:.3f} [{lo:.3f}, {hi:.3f}]"


def summary_rows(table: Sequence[dict], reference: dict | None = None) -> list[dict]:
    """The fit table as short printable rows (R^2 and correlations with their CIs)."""
    reference = reference or {}
    out = []
    for r in table:
        paper = reference.get((r["target"], r["predictor"]))
        out.append({"target": r["target"], "predictor": PREDICTOR_LABELS.get(r["predictor"], r["predictor"]),
                    "n": r["n"], "R2 [95% CI]": _ci(r, "r2"), "paper R2": "" if paper is None else f"{paper:.2f}",
                    "Pearson": _ci(r, "pearson"), "Spearman": _ci(r, "spearman"), "Kendall": _ci(r, "kendall"),
                    "slope": f"{r['slope']:.4g}"})
    return out


def proxy_json_rows(proxies: dict) -> list[dict]:
    """The rows of a proxy rank table as fit-list entries, marked ``"kind": "rank"``."""
    return [{"kind": "rank", **r} for r in proxies["rows"]]


def _distinct(rows: Sequence[dict], key: str) -> str:
    return ", ".join(sorted({str(r[key]) for r in rows if r.get(key) is not None})) or "-"


def status_counts(rows: Sequence[dict]) -> dict[str, int]:
    counts = Counter(r.get("status", "done") for r in rows)
    return {s: counts.get(s, 0) for s in ("done", "diverged", "failed")} | dict(counts)


# ---- the sweep report ---------------------------------------------------------------------

PREDICTOR_NAMES = {"nn_mass": "NN-Mass", "params": "#Params", "macs": "MACs"}


def sweep_proxy_rows(table: dict, target: str | None = None) -> list[dict]:
    """The rank table of a sweep's proxies (``nnmass.stats.proxy_fits.proxy_table``) as
    printable rows, best Spearman first within each target."""
    rows = [r for r in table["rows"] if target is None or r["target"] == target]
    order = {t: i for i, t in enumerate(dict.fromkeys(r["target"] for r in rows))}
    rows = sorted(rows, key=lambda r: (order[r["target"]], -r["spearman"] if math.isfinite(r["spearman"]) else 9))
    return [{"target": r["target"], "predictor": PREDICTOR_NAMES.get(r["predictor"], r["predictor"]), "n": r["n"],
             "Spearman [95% CI]": with_ci(r, "spearman"), "Kendall [95% CI]": with_ci(r, "kendall")} for r in rows]


def sweep_proxy_blocks(proxies: dict, n_boot: int, seed: int) -> list[tuple]:
    """Report blocks: which predictor ranks each target best, and the table."""
    if not proxies["rows"]:
        return []
    best = best_predictor(proxies)
    lead = (f"For test accuracy the best is {PREDICTOR_NAMES.get(best['predictor'], best['predictor'])} "
            f"(Spearman {with_ci(best, 'spearman')}, {best['n']} architectures). ") if best else ""
    left_out = (f" Undefined on every trial, so left out: {', '.join(proxies['undefined'])}." if proxies["undefined"]
                else "")
    return [heading("Training-free proxies"),
            para(lead + "Rank correlation of each target with each predictor at init: NN-Mass, #Params, MACs and "
                 f"the grid's proxies ({', '.join(proxies['proxies'])}), every predictor on the same architectures "
                 "(finite target and a finite value of every predictor; n is what was ranked). Rank correlations, "
                 "not R2 of log fits: proxies have no common scale or sign. Each point is one architecture (mean "
                 f"over its seeds); intervals: 95% bootstrap over architectures and their seeds ({n_boot} "
                 f"resamples, seed {seed})." + left_out),
            table(sweep_proxy_rows(proxies))]


def _figures(rows: list[dict], out: Path) -> list[tuple]:
    from .plots.fig3 import plot_fig3
    from .plots.fig4 import plot_fig4
    from .plots.fig5 import plot_fig5

    blocks = []
    done = [r for r in rows if r.get("status") == "done"]
    if not done:
        return blocks
    if all(r.get("family") == "dense-mlp" for r in done):
        plot_fig3(done, out / "fig3.png")
        blocks += [heading("Accuracy and LDI vs #Params and NN-Mass (cf. paper Fig. 3)", 3),
                   image("fig3.png", "Fig. 3: test accuracy and LDI vs #Params and NN-Mass")]
    else:
        plot_fig5(done, out / "fig5.png")
        blocks += [heading("Accuracy vs #Params, NN-Mass and MACs (cf. paper Fig. 5)", 3),
                   image("fig5.png", "Fig. 5: test accuracy vs #Params, NN-Mass and MACs")]
    if plot_fig4(done, out / "fig4.png") is not None:
        blocks += [heading("Training curves at equal NN-Mass and width (cf. paper Fig. 4)", 3),
                   para("Groups: same width, mean NN-Mass within 5% of each other, distinct depths "
                        "(mean test accuracy over seeds per epoch)."),
                   image("fig4.png", "Fig. 4: test accuracy per epoch, equal NN-Mass, different depth")]
    return blocks


def write_report(store_or_rows, out_dir: str | Path, title: str = "nnmass sweep report", extra: dict | None = None,
                 *, formats: str = "both", n_boot: int = 1000, seed: int = 0, command: str | None = None,
                 reference: dict | None = None) -> Path:
    """Write the report of a sweep and return the path of ``report.md`` (or ``.html``).

    Args:
        store_or_rows: a store path, a ``ResultStore`` or a list of trial rows.
        out_dir: folder for the report and its PNGs (created).
        extra: optional ``{"blocks": [...]}`` appended after the standard sections,
            ``{"table": [...]}`` to reuse a fit table already computed and
            ``{"proxy_table": {...}}`` a proxy rank table (``nnmass.stats.proxy_fits``).
        n_boot, seed: bootstrap resamples and the seed of their generator.
        command: the command line recorded in the report (default: ``sys.argv``).
        reference: the paper's R^2 per ``(target, predictor)``; default inferred.
    """
    if isinstance(store_or_rows, (str, Path)):
        rows = load_rows(store_or_rows)
    elif hasattr(store_or_rows, "trials"):
        rows = store_or_rows.trials()
    else:
        rows = list(store_or_rows)
    extra = extra or {}
    out = prepare_out_dir(out_dir)
    reference = paper_reference(rows) if reference is None else reference
    fits = extra.get("table") or fit_table(rows, TARGETS, PREDICTORS, n_boot=n_boot, seed=seed)
    counts = status_counts(rows)
    blocks = [
        para(f"{len(rows)} trials: " + ", ".join(f"{v} {k}" for k, v in counts.items())
             + f". Sweeps: {_distinct(rows, 'sweep')}; datasets: {_distinct(rows, 'dataset')}."),
        heading("Fits"),
        para("Least-squares line of each target on the log of each predictor; each point is one "
             "architecture (mean over its seeds). Every predictor of a target is fitted on the same "
             "architectures: those with a value > 0 for every predictor (NN-Mass 0, no skips, has no "
             "log, so those models leave every fit; n is what was fitted). Intervals: 95% percentile "
             "bootstrap over architectures and the seeds within them "
             f"({n_boot} resamples, generator seed {seed}). 'paper R2' is the value the paper reports "
             "for the same fit."),
    ]
    fitted = max((r["n"] for r in fits), default=0)
    blocks.append(table(summary_rows(fits, reference)) if fitted >= MIN_ARCHITECTURES else
                  para(f"No fit: a line needs at least {MIN_ARCHITECTURES} architectures with finished trials "
                       f"and a value for every predictor, and this store has {fitted}."))
    proxies = extra.get("proxy_table") or proxy_table(rows, n_boot=n_boot, seed=seed)
    blocks += sweep_proxy_blocks(proxies, n_boot, seed)
    blocks += _figures(rows, out)
    failed = [r for r in rows if r.get("status") != "done"]
    if failed:
        blocks += [heading("Trials that did not finish"),
                   table([{"status": r["status"], "family": r.get("family"), "seed": r.get("seed"),
                           "error": (r.get("error") or "")[:160]} for r in failed[:50]])]
    blocks += list(extra.get("blocks", []))
    blocks += [heading("Made by"), code(command or "nnmass " + " ".join(sys.argv[1:]))]
    write_text_atomically(out / "fits.json", "--out", json.dumps(jsonable(fits + proxy_json_rows(proxies)), indent=2) + "\n")
    return write_blocks(blocks, out, title, formats)
