"""The ImageNet zoo study (the paper's Fig. 6), with no training and no download.

Every torchvision classification model, with the ImageNet-1K top-1 recorded in
its own weights metadata (``get_model_weights(name).DEFAULT.meta``), its
#Params (``meta['num_params']``), its MACs and its NN-Mass:

- NN-Mass and MACs in closed form (:mod:`nnmass.mass.closed_form`, :mod:`nnmass.cost`)
  for the families nnmass has specs for (ResNets, Wide-ResNets, MobileNetV2,
  DenseNets, VGG), with the closed-form #Params checked against the metadata;
- else NN-Mass from the traced graph (:func:`nnmass.measure`, built on the meta
  device so no weights are allocated) and MACs from ``meta['_ops']``.
  torchvision calls ``_ops`` GFLOPS, but it equals our multiply-accumulate count
  to the 3 decimals it keeps (checked on every closed-form model), so we read it
  as GMACs. A model whose trace leaves merges unclassified is marked 'partial'
  and one that cannot be traced 'failed', with the reason; neither enters the
  NN-Mass fits.

Accuracy: the IMAGENET1K_V1 weights where they exist (one recipe, each paper's
own), else the only weights there are; the DEFAULT weights' top-1 is kept as
``top1_default`` (torchvision's DEFAULT mixes V1 recipes for resnet18/34 with
its V2 recipe for the rest). The paper's own model set, the Wide-ResNet paper's
models with that paper's accuracies, comes from :mod:`.wrn_paper`.
torchvision has MobileNetV2 weights at width 1.0 only, so the paper's
MobileNetV2 family fit cannot be redone from metadata.
"""
from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

from .wrn_paper import FAMILY as WRN_FAMILY

# (name prefix, family); first match wins, so longer prefixes come first.
FAMILY_PREFIXES = (
    ("wide_resnet", "wide_resnet"), ("resnext", "resnext"), ("resnet", "resnet"),
    ("mobilenet_v2", "mobilenet_v2"), ("mobilenet_v3", "mobilenet_v3"), ("mnasnet", "mnasnet"),
    ("efficientnet_v2", "efficientnet_v2"), ("efficientnet", "efficientnet"), ("regnet_x", "regnet_x"),
    ("regnet_y", "regnet_y"), ("densenet", "densenet"), ("vgg", "vgg"), ("convnext", "convnext"),
    ("vit", "vit"), ("swin_v2", "swin_v2"), ("swin", "swin"), ("maxvit", "maxvit"),
    ("shufflenet", "shufflenet_v2"), ("squeezenet", "squeezenet"), ("alexnet", "alexnet"),
    ("googlenet", "googlenet"), ("inception", "inception"),
)
PAPER_SUBSET = ("resnet", "wide_resnet")  # torchvision's counterparts of the paper's Fig. 6(a,b) set
CACHE_VERSION = 3  # bump when what a record holds or how it is measured changes


def model_family(name: str) -> str:
    """The family a torchvision model name belongs to (``wide_resnet50_2`` -> ``wide_resnet``)."""
    return next((fam for prefix, fam in FAMILY_PREFIXES if name.startswith(prefix)), name)


def _metadata(name: str) -> dict:
    from torchvision.models import get_model_weights

    enum = get_model_weights(name)
    default = enum.DEFAULT
    meta = default.meta
    v1 = getattr(enum, "IMAGENET1K_V1", None)
    chosen = v1 if v1 is not None else default
    top1 = lambda weights: float(weights.meta["_metrics"]["ImageNet-1K"]["acc@1"])
    return {"name": name, "family": model_family(name), "weights": str(chosen).split(".")[-1],
            "top1": top1(chosen), "top1_default": top1(default), "default_weights": str(default).split(".")[-1],
            "top1_v1": top1(v1) if v1 is not None else None,
            "params": int(meta["num_params"]), "gmacs_meta": float(meta["_ops"]),
            "crop": int(default.transforms.keywords.get("crop_size", 224))}


def _closed_form(rec: dict) -> bool:
    """Fill NN-Mass and MACs from the spec of a registered family; False if none."""
    from ..families import FAMILIES, spec_for
    from ..mass import spec_report

    if rec["name"] not in FAMILIES:
        return False
    report = spec_report(spec_for(rec["name"]))
    rec.update(nn_mass=float(report.nn_mass), macs=int(report.macs), mass_method="formula", mass_status="ok",
               params_closed_form=int(report.params),
               # torchvision keeps 3 decimals of GMACs in _ops: agreement to rounding
               macs_match_meta=abs(report.macs / 1e9 - rec["gmacs_meta"]) <= 0.0005 + 1e-9)
    if report.params != rec["params"]:
        rec["note"] = f"closed-form params {report.params} differ from metadata {rec['params']}"
    return True


def _build(name: str, crop: int):
    """The model with no weights: on the meta device (no memory), else on CPU for the
    few builders that compute shapes from tensor values (RegNets)."""
    import torch
    from torchvision.models import get_model

    # ViTs fix their input size at build time; the DEFAULT weights of some expect more than 224.
    kwargs = {"image_size": crop} if model_family(name) == "vit" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's init-scheme FutureWarnings
        try:
            with torch.device("meta"):
                return get_model(name, weights=None, **kwargs), torch.device("meta")
        except NotImplementedError:
            return get_model(name, weights=None, **kwargs), torch.device("cpu")


def _traced(rec: dict) -> None:
    """Fill NN-Mass from the traced graph; MACs from the metadata (GMACs, see module doc)."""
    import torch

    from ..mass import measure

    rec.update(macs=int(round(rec["gmacs_meta"] * 1e9)), mass_method="graph")
    try:
        model, device = _build(rec["name"], rec["crop"])
        x = torch.zeros(1, 3, rec["crop"], rec["crop"], device=device)
        with torch.no_grad():
            report = measure(model.eval(), x, allow_unclassified=True, name=rec["name"])
    except Exception as e:  # any trace failure is recorded, never guessed around
        rec.update(nn_mass=None, mass_status="failed", note=f"trace failed: {type(e).__name__}: {str(e)[:200]}")
        return
    rec["nn_mass_measured"] = float(report.nn_mass)
    rec["params_traced"] = int(report.params)
    if report.unclassified:
        names = ", ".join(list(report.unclassified)[:3])
        rec.update(nn_mass=None, mass_status="partial",
                   note=f"{len(report.unclassified)} merge(s) fit no cell rule (e.g. {names}); "
                        f"classified cells alone give {report.nn_mass:.1f}")
    else:
        rec.update(nn_mass=float(report.nn_mass), mass_status="ok")


def zoo_records(names: list[str] | None = None, cache: str | Path | None = None, progress: bool = True) -> list[dict]:
    """One record per torchvision classification model (keys name, family, weights,
    top1, top1_v1, params, macs, nn_mass, mass_method, mass_status, note, ...).

    Args:
        names: models to include (default: all of ``torchvision.models.list_models``).
        cache: JSON file of records already measured (read and rewritten), so a
            rerun is instant; keyed by the torchvision version.
        progress: one line per model on stderr.
    """
    import torchvision
    from torchvision.models import list_models

    from ..errors import UsageError

    valid = list_models(module=torchvision.models)
    names = valid if names is None else list(names)
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise UsageError(f"unknown torchvision model(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    stamp = {"version": CACHE_VERSION, "torchvision": torchvision.__version__}
    cached = _read_cache(cache, stamp)
    records = []
    for k, name in enumerate(names):
        if name in cached and cached[name]["mass_status"] != "failed":  # failures are retried
            records.append(cached[name])
            continue
        start = time.perf_counter()
        rec = {**_metadata(name), "note": ""}
        if not _closed_form(rec):
            _traced(rec)
        rec["seconds"] = round(time.perf_counter() - start, 2)
        records.append(rec)
        if progress:
            print(f"[{k + 1}/{len(names)}] {name}: NN-Mass {rec['nn_mass'] if rec['nn_mass'] is not None else '-'}"
                  f" ({rec['mass_status']}, {rec['seconds']} s)", file=sys.stderr)
        if cache is not None:  # after each model, so an interrupted run keeps what it measured
            _write_cache(cache, stamp, {**cached, **{r["name"]: r for r in records}})
    return records


def _read_cache(cache, stamp: dict) -> dict:
    if cache is None or not Path(cache).is_file():
        return {}
    from ..errors import UsageError
    from ..files.reading import read_text_file
    try:
        data = json.loads(read_text_file(cache, "zoo cache"))
    except (UsageError, json.JSONDecodeError, RecursionError):
        return {}  # a cache that cannot be read is measured again
    if not isinstance(data, dict):
        return {}
    return data.get("models", {}) if data.get("stamp") == stamp else {}


def _write_cache(cache, stamp: dict, models: dict) -> None:
    from ..files.writing import write_text_atomically
    write_text_atomically(cache, "--out", json.dumps({"stamp": stamp, "models": models}, indent=1) + "\n")


def fit_rows(records: list[dict], accuracy: str = "top1") -> list[dict]:
    """Records as rows for :func:`nnmass.stats.fit_table` (only 'ok' NN-Mass enters)."""
    return [{"key": r["name"], "status": "done", "family": r["family"], "top1": r.get(accuracy),
             "nn_mass": r["nn_mass"] if r["mass_status"] == "ok" else None,
             "params": r["params"], "macs": r["macs"]} for r in records if r.get(accuracy) is not None]


TORCHVISION = None  # every family but the Wide-ResNet paper's records
SUBSETS = (  # (label, families, accuracy key, paper reference)
    ("the paper's set: Wide-ResNet paper's models and top-1", (WRN_FAMILY,), "top1", "imagenet-resnets"),
    ("torchvision ResNets + WRNs, IMAGENET1K_V1 weights", PAPER_SUBSET, "top1", None),
    ("torchvision ResNets + WRNs, DEFAULT weights (mixed recipes)", PAPER_SUBSET, "top1_default", None),
    ("all torchvision models with NN-Mass > 0 (V1 weights where they exist)", TORCHVISION, "top1", None),
)


def zoo_fits(records: list[dict], n_boot: int = 1000, seed: int = 0) -> list[dict]:
    """Fits of top-1 on log NN-Mass, log #Params and log MACs for each subset in
    :data:`SUBSETS`; every row carries ``subset`` and ``paper_r2`` (or None).

    Where all models in a fit have an NN-Mass, the three fits use the same models."""
    from ..report import PAPER_R2
    from ..stats import fit_table

    out = []
    for label, families, accuracy, ref in SUBSETS:
        chosen = [r for r in records if r["family"] in families] if families else \
            [r for r in records if r["family"] != WRN_FAMILY]
        rows = fit_rows(chosen, accuracy)
        if families is None:  # like for like: only models with a known NN-Mass that has a log
            rows = [r for r in rows if r["nn_mass"] is not None and r["nn_mass"] > 0]
        for row in fit_table(rows, targets=("top1",), predictors=("nn_mass", "params", "macs"),
                             mean_over_seeds=False, n_boot=n_boot, seed=seed):
            row["subset"] = label
            row["paper_r2"] = PAPER_R2.get(ref, {}).get(("top1", row["predictor"])) if ref else None
            out.append(row)
    return out
