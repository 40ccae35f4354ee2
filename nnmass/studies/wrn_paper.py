"""The paper's own ImageNet model set for Fig. 6(a,b): the Wide-ResNet paper's models
with that paper's accuracies (the NN-Mass paper's footnote 7: "we directly use the
accuracy/#Params from Tables 7, 8 in the Wide-ResNet paper").

Source: S. Zagoruyko and N. Komodakis, "Wide Residual Networks", BMVC 2016,
arXiv:1605.07146v4. Table 7: non-bottleneck ResNet-18/34 widened by k (the stem
stays at 64 channels; WRN-34 has no k = 3 entry). Table 8: bottleneck
ResNet-50/101/152 and WRN-50-2-bottleneck (the inner 3x3 twice as wide), also in
the authors' repository (szagoruyko/wide-residual-networks, pretrained/README.md).
Single-crop ILSVRC-2012 validation top-1 error; top-1 accuracy is 100 - error.

Every model is built from its spec here, so #Params, MACs and NN-Mass are ours;
the table's #Params (printed to 0.1M) is kept beside ours as a check.
"""
from __future__ import annotations

SOURCE = "Wide-ResNet paper (arXiv:1605.07146v4)"

# (name, nnmass family, --set values, top-1 error %, #Params as printed (M), table)
WRN_PAPER_MODELS = (
    ("WRN-18-1", "wrn18", {"widen": 1.0}, 30.4, 11.7, 7),
    ("WRN-18-1.5", "wrn18", {"widen": 1.5}, 27.06, 25.9, 7),
    ("WRN-18-2", "wrn18", {"widen": 2.0}, 25.58, 45.6, 7),
    ("WRN-18-3", "wrn18", {"widen": 3.0}, 24.06, 101.8, 7),
    ("WRN-34-1", "wrn34", {"widen": 1.0}, 26.77, 21.8, 7),
    ("WRN-34-1.5", "wrn34", {"widen": 1.5}, 24.5, 48.6, 7),
    ("WRN-34-2", "wrn34", {"widen": 2.0}, 23.39, 86.0, 7),
    ("ResNet-50", "resnet50", {}, 24.01, 25.6, 8),
    ("ResNet-101", "resnet101", {}, 22.44, 44.5, 8),
    ("ResNet-152", "resnet152", {}, 22.16, 60.2, 8),
    ("WRN-50-2", "wide_resnet50_2", {}, 21.9, 68.9, 8),
)
FAMILY = "wrn-paper"


def paper_records() -> list[dict]:
    """One zoo record per model of :data:`WRN_PAPER_MODELS`, with NN-Mass, #Params and
    MACs from the closed form and top-1 from the Wide-ResNet paper."""
    from ..families import spec_for
    from ..mass import spec_report

    records = []
    for name, family, sets, error, params_paper, table in WRN_PAPER_MODELS:
        report = spec_report(spec_for(family, sets))
        records.append({
            "name": name, "family": FAMILY, "weights": f"{SOURCE}, Table {table}",
            "top1": round(100 - error, 2), "top1_v1": None, "params": int(report.params),
            "params_paper": params_paper, "macs": int(report.macs), "nn_mass": float(report.nn_mass),
            "mass_method": "formula", "mass_status": "ok", "spec": {"model": family, **sets},
            "note": f"top-1 from Table {table} of the Wide-ResNet paper"})
    return records
