"""One trial: build -> NN-Mass, params, MACs -> LDI and proxies at init -> train -> a store row.

A trial never raises: a loss that turns NaN/inf gives status ``'diverged'`` and
any exception gives ``'failed'`` with its text, so one bad point never stops a
sweep. Datasets are loaded once per process and kept in ``data_cache``.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
import traceback
from datetime import datetime, timezone

from ..errors import UsageError
from .grid import TrialSpec
from ..spec import DenseCNNSpec, DenseMLPSpec, Spec
from ..store import row_json


def load_data(trial: TrialSpec, data_cache: dict, device: str = "cpu", download: bool = False):
    """The trial's dataset on ``device``, loaded once per (name, root, device).

    Only the driver passes ``download`` (in :func:`nnmass.sweep.runner.prepare`), so
    files are fetched once, before any worker reads them.
    """
    cache_key = (trial.dataset, trial.data_root, trial.pixels, str(device))
    if cache_key not in data_cache:
        from ..data import load_dataset
        data_cache[cache_key] = load_dataset(trial.dataset, root=trial.data_root, download=download,
                                             device=device, split_seed=0, pixels=trial.pixels)
    return data_cache[cache_key]


def make_train_config(trial: TrialSpec, device: str = "cpu"):
    """The family's default training config with the grid's settings and the trial
    seed (which also seeds the data shuffle) applied."""
    from ..train import default_config
    from ..train.config import coerce_settings
    config = default_config(trial.dataset, trial.family, trial.epochs, device)
    changes = {**coerce_settings(trial.train), "seed": trial.seed}
    try:
        return dataclasses.replace(config, **changes)
    except (TypeError, ValueError) as e:
        if isinstance(e, UsageError):
            raise
        raise UsageError(f"bad train setting(s) {changes}: {e}") from None


def spec_columns(spec: Spec) -> dict:
    """Closed-form columns of a spec: NN-Mass (Eq. 2/3), params, MACs, depth, width."""
    from ..mass import spec_report

    report = spec_report(spec)
    cells = report.cells
    return {"spec_json": row_json(spec.to_dict()), "nn_mass": float(report.nn_mass),
            "params": int(report.params), "macs": int(report.macs),
            "depth": int(sum(c.depth for c in cells)) if cells else None,
            "width": int(cells[0].width) if cells else None}


def ldi_inputs(spec: Spec, data, settings: dict, device: str = "cpu"):
    """``settings['batch']`` inputs of ``settings['split']`` drawn by ``torch.Generator(settings['seed'])``
    (a batch larger than the split is an error, not clamped)."""
    from ..ldi.inputs import dataset_batch

    x = dataset_batch(data, int(settings["batch"]), int(settings["seed"]), device, settings.get("split", "train"))
    if isinstance(spec, DenseMLPSpec):
        x = x.reshape(len(x), -1)  # an MLP takes flattened examples
    return x


def base_row(trial: TrialSpec) -> dict:
    return {"key": trial.key, "sweep": trial.sweep, "family": trial.family, "dataset": trial.dataset,
            "seed": trial.seed, "point_json": row_json(trial.point),
            "spec_json": row_json(trial.spec.to_dict())}


def measure(trial: TrialSpec, data, device: str = "cpu"):
    """Fit the spec to the data, build it with the trial seed, and measure it at init.

    Returns ``(spec, model, columns)``.
    """
    import torch

    from ..ldi import measure as measure_ldi
    from ..models import build
    from ..spec.data_fit import fit_spec_to_data

    spec = fit_spec_to_data(trial.spec, data)
    columns = spec_columns(spec)
    model = build(spec, seed=trial.seed).to(device)
    cnn = not isinstance(spec, DenseMLPSpec)  # CNNs sample output positions with this generator
    gen = torch.Generator().manual_seed(int(trial.ldi["seed"])) if cnn else None
    inputs = ldi_inputs(spec, data, trial.ldi, device)
    input_layer = bool(trial.ldi.get("input_layer", False))
    report = measure_ldi(model, inputs, generator=gen, include_input_layer=input_layer)
    columns.update(ldi_mean=_finite_or_none(report.mean), ldi_std=_finite_or_none(report.std))
    # Only the DenseNet-type specs choose their init; the torchvision families keep theirs.
    if isinstance(spec, (DenseMLPSpec, DenseCNNSpec)):
        # PyTorch's default init scales weight variance by 1/fan-in, which cancels the
        # growth of the Jacobian with skip columns; Prop. 2 assumes a variance q set by
        # the width alone. Measure the same topology under that init too.
        prop2 = spec if spec.init == "fan_out" else spec.replace(init="fan_out")
        if gen is not None:
            gen.manual_seed(int(trial.ldi["seed"]))
        report = measure_ldi(build(prop2, seed=trial.seed).to(device), inputs, generator=gen,
                             include_input_layer=input_layer)
        columns.update(ldi_prop2_mean=_finite_or_none(report.mean), ldi_prop2_std=_finite_or_none(report.std))
    if trial.proxies:
        columns["proxies_json"] = row_json(proxy_scores(trial, spec, model, data, device))
    return spec, model, columns


def proxy_scores(trial: TrialSpec, spec: Spec, model, data, device: str = "cpu") -> dict:
    """The grid's proxies of the model at init, on ``trial.proxy_batch`` training examples
    drawn with seed 0 (the same for every trial), each proxy's own draws seeded by the
    trial seed. The model is left as it was (``nnmass.proxies``' contract), so training
    starts from the same weights as without proxies."""
    import dataclasses as dc

    from ..models import input_shape
    from ..proxies.data_batch import data_batch
    from ..proxies.fused import score_fused

    batch = data_batch(data, trial.proxy_batch, seed=0, sample_shape=input_shape(spec)[1:])
    batch = dc.replace(batch, inputs=batch.inputs.to(device), targets=batch.targets.to(device), seed=trial.seed)
    run = score_fused(model, batch, trial.proxies)
    return {"batch": trial.proxy_batch, "scores": {k: _finite_or_none(v) for k, v in run.scores.items()},
            "seconds": {k: round(v, 6) for k, v in run.seconds.items()}}


def outcome_columns(result, config) -> dict:
    """Columns from a training result; NaN/inf anywhere in the losses means diverged."""
    history = [{k: _finite_or_none(v) for k, v in h.items()} for h in result.history]
    bad_epoch = next((h["epoch"] for h, raw in zip(history, result.history)
                      if any(isinstance(v, float) and not math.isfinite(v) for v in raw.values())), None)
    diverged = bool(result.diverged) or bad_epoch is not None or not _is_finite(result.test_acc)
    cols = {"status": "diverged" if diverged else "done", "train_json": row_json(_config_dict(config)),
            "history_json": row_json(history), "test_acc": _finite_or_none(result.test_acc),
            "train_acc": _finite_or_none(result.train_acc)}
    if diverged:
        # The accuracy of a network whose outputs are NaN is an artefact of argmax,
        # not a result: NULL, so fits over test_acc cannot pick it up by mistake.
        # The per-epoch numbers stay in history_json.
        where = f" at epoch {bad_epoch}" if bad_epoch is not None else ""
        cols.update(test_acc=None, train_acc=None, error=f"loss became non-finite{where}")
    return cols


def run_trial(trial: TrialSpec, data_cache: dict, device: str = "cpu") -> dict:
    """Run one trial to a complete store row (never raises)."""
    from ..train import train

    start = time.perf_counter()
    row = base_row(trial)
    try:
        data = load_data(trial, data_cache, device)
        config = make_train_config(trial, device)
        _, model, columns = measure(trial, data, device)
        row.update(columns)
        row.update(outcome_columns(train(model, data, config), config))
    except Exception as e:  # noqa: BLE001 - a failed trial is recorded, the sweep goes on
        row.update(status="failed", error=describe_error(e))
    return finish(row, start)


def run_trial_group(trials: list[TrialSpec], data_cache: dict, device: str = "cpu") -> list[dict]:
    """Trials that differ only in seed, trained together as one batched model.

    Each is measured (NN-Mass, cost, LDI) on its own; ``train_many`` then trains all
    of them at once. If the group fails as a whole, each trial is run on its own.
    """
    from ..train import train_many

    start = time.perf_counter()
    rows, specs = [], []
    try:
        data = load_data(trials[0], data_cache, device)
        config = make_train_config(trials[0], device)
        for trial in trials:
            spec, _, columns = measure(trial, data, device)
            rows.append({**base_row(trial), **columns})
            specs.append(spec)
        # Batch order comes from config.seed (the first trial's) for the whole group;
        # each model's weights from its own trial seed.
        results = train_many(specs, data, config, init_seeds=[t.seed for t in trials])
    except Exception:  # noqa: BLE001 - fall back to one by one, which records any error per trial
        return [run_trial(t, data_cache, device) for t in trials]
    seconds = (time.perf_counter() - start) / len(trials)
    out = []
    for row, result in zip(rows, results):
        row.update(outcome_columns(result, config))
        out.append(finish(row, time.perf_counter() - seconds))
    return out


def finish(row: dict, start: float) -> dict:
    row["seconds"] = time.perf_counter() - start
    row["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    return row


def describe_error(e: BaseException) -> str:
    """``Type: message (file:line)`` of the innermost frame, for the error column."""
    frames = traceback.extract_tb(e.__traceback__)
    where = f" ({os.path.basename(frames[-1].filename)}:{frames[-1].lineno})" if frames else ""
    return f"{type(e).__name__}: {e}{where}"


def _config_dict(config) -> dict:
    return config.to_dict() if hasattr(config, "to_dict") else dataclasses.asdict(config)


def _is_finite(v) -> bool:
    return v is not None and math.isfinite(float(v))


def _finite_or_none(v):
    """JSON and SQLite hold no NaN; a non-finite number is stored as NULL."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) or hasattr(v, "item"):
        v = v.item() if hasattr(v, "item") else v
        if isinstance(v, float) and not math.isfinite(v):
            return None
    return v
