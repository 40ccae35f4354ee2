"""The report of the ImageNet zoo study: fit table per subset, Fig. 6, every model."""
from __future__ import annotations

from pathlib import Path

from ..report import code, heading, image, para, prepare_out_dir, summary_rows, table, write_blocks
from .imagenet_models import PAPER_SUBSET


def zoo_summary_rows(fits: list[dict]) -> list[dict]:
    """Printable fit rows with the subset in front and the paper's R^2 beside ours."""
    out = []
    for r in fits:
        ref = {(r["target"], r["predictor"]): r["paper_r2"]} if r.get("paper_r2") is not None else {}
        out.append({"subset": r["subset"], **summary_rows([r], ref)[0]})
    return out


def _model_rows(records: list[dict]) -> list[dict]:
    fmt = lambda v, f: "" if v is None else format(v, f)
    return [{"model": r["name"], "family": r["family"], "weights": r["weights"], "top-1": fmt(r["top1"], ".2f"),
             "top-1 V1": fmt(r.get("top1_v1"), ".2f"), "#Params": f"{r['params']:,}", "GMACs": fmt(r["macs"] / 1e9, ".3f"),
             "NN-Mass": fmt(r["nn_mass"], ".1f"), "NN-Mass from": r["mass_method"], "status": r["mass_status"],
             "note": r.get("note", "")} for r in sorted(records, key=lambda r: (r["family"], r["name"]))]


def write_zoo_report(records: list[dict], fits: list[dict], out_dir: str | Path, command: str,
                     n_boot: int, seed: int) -> Path:
    """``report.md`` and ``report.html`` (plus ``fig6.png``) in ``out_dir``; returns the .md path."""
    from ..plots.fig6 import plot_fig6

    out = prepare_out_dir(out_dir)
    usable = [r for r in records if r["mass_status"] == "ok"]
    plot_fig6(usable, out / "fig6.png", subset=PAPER_SUBSET)
    counts = {s: sum(r["mass_status"] == s for r in records) for s in ("ok", "partial", "failed")}
    formula = [r for r in records if r["mass_method"] == "formula"]
    macs_agree = sum(bool(r.get("macs_match_meta")) for r in formula)
    blocks = [
        para(f"{len(records)} torchvision classification models, no training: top-1 from each model's "
             f"weights metadata. NN-Mass: {sum(r['mass_method'] == 'formula' for r in records)} in closed "
             f"form, {sum(r['mass_method'] == 'graph' for r in records)} from the traced graph; "
             f"{counts['ok']} measured, {counts['partial']} partial (some merges fit no cell rule), "
             f"{counts['failed']} failed. Partial and failed models stay out of the NN-Mass fits."),
        heading("Fits"),
        para("Least-squares line of top-1 (%) on the log of each predictor, one point per model. "
             f"Intervals: 95% percentile bootstrap over models ({n_boot} resamples, generator seed {seed}). "
             "The paper fits ResNets and WRNs with accuracies from the Wide-ResNet paper (R2 0.87 for "
             "NN-Mass vs 0.64 for #Params) and the MobileNetV2 width family (0.96 vs 0.74); torchvision "
             "has MobileNetV2 weights at width 1.0 only, so that family fit cannot be redone here."),
        table(zoo_summary_rows(fits)),
        heading("Top-1 vs #Params and NN-Mass (cf. paper Fig. 6)", 3),
        image("fig6.png", "Fig. 6: ImageNet top-1 vs #Params and NN-Mass"),
        heading("Models"),
        para("MACs per image at the model's crop size (224 for most), from the closed form, else from "
             "torchvision's `_ops` metadata (labelled GFLOPS), read as GMACs: it equals our closed-form MAC "
             f"count to its 3 decimals on {macs_agree} of {len(formula)} closed-form models."),
        table(_model_rows(records)),
        heading("Made by"),
        code(command),
    ]
    return write_blocks(blocks, out, "nnmass study imagenet-zoo", "both")
