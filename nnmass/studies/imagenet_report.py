"""The report of the ImageNet zoo study: fit table per subset, Fig. 6, every model."""
from __future__ import annotations

from pathlib import Path

from ..render import code, heading, image, para, prepare_out_dir, table, write_blocks
from ..report import summary_rows
from .wrn_paper import FAMILY as WRN_FAMILY


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
             "top-1 DEFAULT": fmt(r.get("top1_default"), ".2f"), "#Params": f"{r['params']:,}", "GMACs": fmt(r["macs"] / 1e9, ".3f"),
             "NN-Mass": fmt(r["nn_mass"], ".1f"), "NN-Mass from": r["mass_method"], "status": r["mass_status"],
             "note": r.get("note", "")} for r in sorted(records, key=lambda r: (r["family"], r["name"]))]


def write_zoo_report(records: list[dict], fits: list[dict], out_dir: str | Path, command: str,
                     n_boot: int, seed: int) -> Path:
    """``report.md`` and ``report.html`` (plus ``fig6.png``) in ``out_dir``; returns the .md path."""
    from ..plots.fig6 import plot_fig6

    out = prepare_out_dir(out_dir)
    usable = [r for r in records if r["mass_status"] == "ok"]
    plot_fig6([r for r in usable if r["family"] == WRN_FAMILY], [r for r in usable if r["family"] != WRN_FAMILY],
              out / "fig6.png")
    tv = [r for r in records if r["family"] != WRN_FAMILY]
    paper = [r for r in records if r["family"] == WRN_FAMILY]
    counts = {s: sum(r["mass_status"] == s for r in tv) for s in ("ok", "partial", "failed")}
    formula = [r for r in tv if r["mass_method"] == "formula"]
    macs_agree = sum(bool(r.get("macs_match_meta")) for r in formula)
    blocks = [
        para(f"No training. The paper's own set: {len(paper)} models of the Wide-ResNet paper "
             "(Zagoruyko & Komodakis, BMVC 2016, arXiv:1605.07146v4, Tables 7 and 8) with that paper's "
             "top-1, each built here with the ResNet family at its width (WRN-18-k and WRN-34-k widen every "
             "stage by k; WRN-50-2 widens the bottleneck's 3x3): #Params, MACs and NN-Mass are ours. "
             f"Then {len(tv)} torchvision classification models with top-1 from their weights metadata: "
             "the IMAGENET1K_V1 weights (each paper's own recipe) where they exist, the DEFAULT weights' "
             "top-1 in its own fit. NN-Mass: "
             f"{len(formula)} in closed form, {sum(r['mass_method'] == 'graph' for r in tv)} from the traced "
             f"graph; {counts['ok']} measured, {counts['partial']} partial (some merges fit no cell rule), "
             f"{counts['failed']} failed. Partial and failed models stay out of the NN-Mass fits."),
        heading("Fits"),
        para("Least-squares line of top-1 (%) on the log of each predictor, one point per model. "
             f"Intervals: 95% percentile bootstrap over models ({n_boot} resamples, generator seed {seed}). "
             "The paper's R2 (0.87 for NN-Mass vs 0.64 for #Params) is for its own set, the first rows. "
             "Its MobileNetV2 width-family fit (0.96 vs 0.74) needs accuracies torchvision lacks: it "
             "has MobileNetV2 weights at width 1.0 only."),
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
