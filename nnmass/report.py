"""The report of a sweep: fit table, the paper's numbers beside ours, figures, trial
counts and the command that made it, as ``report.md`` and a self-contained
``report.html`` (images linked, not embedded, so both share the PNGs).

A report is built as a list of blocks (heading, paragraph, table, image, code)
and rendered twice, so the two formats never drift apart.
"""
from __future__ import annotations

import html
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from .errors import UsageError
from .files.writing import write_text_atomically
from .stats import PREDICTORS, TARGETS, fit_table
from .stats.proxy_fits import proxy_table
from .validate import shown

FORMATS = ("md", "html", "both")
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


def jsonable(table: Sequence[dict]) -> list[dict]:
    """Fit rows with nan turned into None, so the JSON is standard (no NaN literals)."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in table]


def _distinct(rows: Sequence[dict], key: str) -> str:
    return ", ".join(sorted({str(r[key]) for r in rows if r.get(key) is not None})) or "-"


def status_counts(rows: Sequence[dict]) -> dict[str, int]:
    counts = Counter(r.get("status", "done") for r in rows)
    return {s: counts.get(s, 0) for s in ("done", "diverged", "failed")} | dict(counts)


# ---- blocks and rendering ---------------------------------------------------------------

def heading(text: str, level: int = 2) -> tuple:
    return ("h", level, text)


def para(text: str) -> tuple:
    return ("p", text)


def table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> tuple:
    columns = list(columns or (rows[0] if rows else []))
    return ("table", columns, [[str(r.get(c, "")) for c in columns] for r in rows])


def image(path: str, alt: str) -> tuple:
    return ("img", path, alt)


def code(text: str) -> tuple:
    return ("code", text)


def render_markdown(blocks: Sequence[tuple]) -> str:
    out = []
    for b in blocks:
        if b[0] == "h":
            out.append("#" * b[1] + " " + b[2])
        elif b[0] == "p":
            out.append(b[1])
        elif b[0] == "table":
            cols, rows = b[1], b[2]
            esc = lambda s: s.replace("|", "\\|")
            out.append("\n".join(["| " + " | ".join(map(esc, cols)) + " |", "|" + "---|" * len(cols)]
                                 + ["| " + " | ".join(map(esc, r)) + " |" for r in rows]))
        elif b[0] == "img":
            out.append(f"![{b[2]}]({b[1]})")
        elif b[0] == "code":
            out.append("```\n" + b[1] + "\n```")
    return "\n\n".join(out) + "\n"


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}"
        "img{max-width:100%}pre{background:#f6f6f6;padding:0.7em;overflow-x:auto}")


def render_html(blocks: Sequence[tuple], title: str) -> str:
    e = html.escape
    out = [f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{e(title)}</title>"
           f"<style>{_CSS}</style></head><body>"]
    for b in blocks:
        if b[0] == "h":
            out.append(f"<h{b[1]}>{e(b[2])}</h{b[1]}>")
        elif b[0] == "p":
            out.append(f"<p>{e(b[1])}</p>")
        elif b[0] == "table":
            head = "".join(f"<th>{e(c)}</th>" for c in b[1])
            body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in b[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif b[0] == "img":
            out.append(f"<p><img src='{e(b[1])}' alt='{e(b[2])}'></p>")
        elif b[0] == "code":
            out.append(f"<pre>{e(b[1])}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_blocks(blocks: Sequence[tuple], out_dir: Path, title: str, formats: str = "both") -> Path:
    """Write ``report.md`` and/or ``report.html``; returns the first written."""
    if formats not in FORMATS:
        raise UsageError(f"report format must be one of {', '.join(FORMATS)}, got {formats!r}")
    written = []
    if formats in ("md", "both"):
        written.append(out_dir / "report.md")
        write_text_atomically(written[-1], "--out", render_markdown([heading(title, 1), *blocks]))
    if formats in ("html", "both"):
        written.append(out_dir / "report.html")
        write_text_atomically(written[-1], "--out", render_html([heading(title, 1), *blocks], title))
    return written[0]


def prepare_out_dir(out_dir: str | Path) -> Path:
    if not str(out_dir).strip():
        raise UsageError(f"--out needs a folder name, got {str(out_dir)!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"report folder {str(out)!r} is a file; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create report folder {str(out)!r}: {e.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write report folder {str(out)!r}: it is not writable")
    return out


# ---- the sweep report ---------------------------------------------------------------------

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
        table(summary_rows(fits, reference)),
    ]
    from .rank.report import sweep_proxy_blocks

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
