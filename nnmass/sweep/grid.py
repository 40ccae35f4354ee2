"""Sweep grids: a YAML or JSON file -> the list of trials to run. Pure Python, no torch.

A grid file::

    name: mlp-digits            # optional, default: the file's stem
    model: dense-mlp            # a family from nnmass.families.FAMILIES
    dataset: digits
    epochs: 5
    data_root: ~/data           # optional; where dataset files live
    fixed: {width: 8}           # spec keys held fixed
    grid:                       # spec keys swept; the lists are crossed
      depth: [16, 24, 32]
      tc: [0, 10, 30]
    seeds: [0, 1, 2]            # optional, default [0]
    train: {lr: 0.05}           # optional training settings over the defaults

A grid key ``train.<setting>`` (``train.lr: [0.001, 0.01]``) sweeps a training
setting the same way; every other grid or fixed key is a spec key.
    pixels: unit                # optional: "standardised" (default) or "unit" ([0, 1])
    ldi: {batch: 32, seed: 0, split: train, input_layer: false}   # optional: how LDI is measured
    proxies: [synflow, snip, zico]   # optional: training-free proxies scored at init (nnmass.proxies)
    proxy_batch: 64                  # optional: training examples they read (default 64)

Crossing order is stable: grid keys in file order, the last key varying
fastest, and the seeds innermost. One seed ``s`` drives everything random in a
trial: the spec's ``seed`` (which skip links are sampled, for the DenseNet-type
families), the weight init and the training shuffle, so a trial is reproduced
from its row alone.

A trial's key is the sha256 of the canonical JSON of its spec (before it is
fitted to the data, which is a function of spec and dataset), seed, epochs and
training settings as written, LDI settings and dataset, and the proxies and their
batch when the grid lists any (so grids without proxies keep their keys, and
adding proxies to a grid makes new trials). Two grid points that give the same spec
are the same trial and run once.

Proxies: each trial scores its network at init, before training, on ``proxy_batch``
training examples drawn with seed 0 (the same examples for every trial); each
proxy's own random draws use the trial seed. ``params``, ``macs`` and ``nn_mass``
are columns of every trial already, so a grid does not list them.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..data.pixels import PIXELS
from ..errors import UsageError
from ..families import FAMILIES, settable_keys, spec_for, unknown_model
from ..spec import Spec
from ..train.config import coerce_settings
from ..files.reading import parse_yaml_or_json, read_text_file
from ..validate import MAX_GRID_TRIALS, MAX_LDI_BATCH, MAX_SEED, int_problem, is_int_in, shown

REQUIRED = ("model", "dataset", "epochs")
OPTIONAL = ("name", "grid", "fixed", "seeds", "data_root", "pixels", "train", "ldi", "proxies", "proxy_batch")
# LDI inputs: `batch` examples of the `split` drawn with `seed`; `input_layer` also measures
# the layer that reads the data (the authors' ldi.py measures every layer).
LDI_DEFAULTS = {"batch": 32, "seed": 0, "split": "train", "input_layer": False}
TRAIN_PREFIX = "train."  # a grid key "train.lr" sweeps a training setting
_NOT_TRAIN = ("epochs", "seed", "device")  # set at the top level, by seeds, on the command line
PROXY_BATCH = 64  # NASLib's batch for its zero-cost scores
STORED_ANYWAY = ("params", "macs", "nn_mass")  # every trial has these columns in closed form


@dataclass(frozen=True)
class TrialSpec:
    """One trial: what to build, how to train it, and the key it is stored under."""

    key: str
    sweep: str
    family: str
    spec: Spec
    seed: int
    point: dict  # the swept values that produced this spec
    dataset: str
    data_root: str | None
    epochs: int
    train: dict  # training settings over the defaults
    ldi: dict  # see LDI_DEFAULTS
    pixels: str = "standardised"  # nnmass.data.pixels.PIXELS
    proxies: tuple = ()  # proxy names scored at init
    proxy_batch: int = PROXY_BATCH


@dataclass(frozen=True)
class Grid:
    """A parsed grid file (see the module docstring)."""

    name: str
    model: str
    dataset: str
    epochs: int
    grid: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)
    seeds: tuple = (0,)
    data_root: str | None = None
    pixels: str = "standardised"
    train: dict = field(default_factory=dict)
    ldi: dict = field(default_factory=lambda: dict(LDI_DEFAULTS))
    source: str = "<grid>"
    proxies: tuple = ()
    proxy_batch: int = PROXY_BATCH

    def points(self) -> list[dict]:
        """The crossed grid points, in the documented stable order."""
        keys = list(self.grid)
        return [dict(zip(keys, values)) for values in itertools.product(*(self.grid[k] for k in keys))]

    def trials(self) -> list[TrialSpec]:
        """Every (point, seed) as a :class:`TrialSpec`; duplicates (same key) once."""
        out: dict[str, TrialSpec] = {}
        # Families without random topology (ResNet, VGG, ...) have no spec seed; the
        # trial seed still drives their weight init and data order.
        spec_type = FAMILIES[self.model].spec_type if self.model in FAMILIES else type(spec_for(self.model))
        seeded = "seed" in settable_keys(spec_type)
        for point in self.points():
            spec_point = {k: v for k, v in point.items() if not k.startswith(TRAIN_PREFIX)}
            try:
                train = coerce_settings({**self.train, **{k[len(TRAIN_PREFIX):]: v for k, v in point.items()
                                                          if k.startswith(TRAIN_PREFIX)}})
            except UsageError as e:
                raise UsageError(f"grid file {self.source!r}: {e}") from None
            for seed in self.seeds:
                try:
                    sets = {**self.fixed, **spec_point, **({"seed": seed} if seeded else {})}
                    spec = spec_for(self.model, sets)
                except UsageError as e:
                    # A location, not the value: the error itself shows the bad value once.
                    where = ", ".join(f"{shown(k)[1:-1][:40]}={shown(v)[:40]}" for k, v in point.items())
                    where = where[:200] or "fixed values"
                    raise UsageError(f"grid file {self.source!r}: at {where}, seed {seed}: {e}") from None
                key = trial_key(spec, seed, self.dataset, self.epochs, train, self.ldi, self.pixels,
                                self.proxies, self.proxy_batch)
                out.setdefault(key, TrialSpec(key, self.name, self.model, spec, seed, dict(point),
                                              self.dataset, self.data_root, self.epochs, train,
                                              dict(self.ldi), self.pixels, self.proxies, self.proxy_batch))
        return list(out.values())


def trial_key(spec: Spec, seed: int, dataset: str, epochs: int, train: dict, ldi: dict,
              pixels: str = "standardised", proxies: tuple = (), proxy_batch: int = PROXY_BATCH) -> str:
    """sha256 of the canonical JSON of everything that defines a trial's result."""
    record = {"spec": spec.to_dict(), "seed": seed, "dataset": dataset, "pixels": pixels,
              "train": {"epochs": epochs, **train}, "ldi": ldi}
    if proxies:  # absent otherwise, so the keys of grids without proxies are unchanged
        record["proxies"] = {"names": list(proxies), "batch": proxy_batch}
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def load_grid(path: str | Path) -> Grid:
    """Parse and validate a grid file; every spec is built here, so bad values stop the
    sweep before any training. Raises :class:`UsageError` with one line naming the file."""
    path = Path(path)
    data = parse_yaml_or_json(read_text_file(path, "grid file"), str(path), "grid file",
                              as_json=path.suffix.lower() == ".json")
    grid = grid_from_dict(data, source=str(path), default_name=path.stem)
    grid.trials()  # builds every spec: errors surface now, one line each
    return grid


def grid_from_dict(data, source: str = "<grid>", default_name: str = "sweep") -> Grid:
    """Validate a parsed grid mapping into a :class:`Grid`."""
    def bad(msg: str) -> UsageError:
        return UsageError(f"grid file {source!r}: {msg}")

    if not isinstance(data, dict):
        raise bad("must be a mapping with keys " + ", ".join(REQUIRED + OPTIONAL))
    unknown = sorted(set(map(str, data)) - set(REQUIRED + OPTIONAL))
    if unknown:
        raise bad(f"unknown key(s) {shown(', '.join(unknown))[1:-1]}; valid: {', '.join(REQUIRED + OPTIONAL)}")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise bad(f"missing required key(s) {', '.join(missing)}")
    model, dataset, epochs, name, data_root = _top_level(data, default_name, bad)
    grid, fixed, seeds = _axes(data, bad)
    train = _train_settings(data, grid, fixed, bad)
    ldi = _ldi_settings(data, bad)
    pixels = data.get("pixels", "standardised")
    if pixels not in PIXELS:
        raise bad(f"pixels must be one of {', '.join(PIXELS)}, got {shown(pixels)}")
    proxies, proxy_batch = _proxies(data, bad)

    return Grid(name=name, model=model, dataset=dataset, epochs=epochs, grid=grid, fixed=fixed,
                seeds=tuple(seeds), data_root=data_root, pixels=pixels, train=train, ldi=ldi, source=source,
                proxies=proxies, proxy_batch=proxy_batch)


def _top_level(data: dict, default_name: str, bad) -> tuple:
    """``(model, dataset, epochs, name, data_root)``, checked."""
    model = data["model"]
    # A spec .json (e.g. from `nnmass design --out`) is read by spec_for like a family.
    if model not in FAMILIES and not (isinstance(model, str) and model.endswith(".json")):
        raise bad(str(unknown_model(model)))
    dataset = data["dataset"]
    if not isinstance(dataset, str) or not dataset:
        raise bad(f"dataset must be a dataset name, got {shown(dataset)}")
    epochs = data["epochs"]
    if not is_int_in(epochs, 1):
        raise bad(f"epochs {int_problem(epochs, 1)}")
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise bad(f"name must be a non-empty string, got {shown(name)}")
    data_root = data.get("data_root")
    if data_root is not None and not isinstance(data_root, str):
        raise bad(f"data_root must be a folder path, got {shown(data_root)}")
    return model, dataset, epochs, name, data_root


def _axes(data: dict, bad) -> tuple[dict, dict, list]:
    """``(grid, fixed, seeds)``: the swept keys, the fixed ones and the seeds, checked,
    and the number of trials they cross to bounded before anything is crossed."""
    grid = _mapping(data.get("grid"), "grid", bad)
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise bad(f"grid.{shown(key)[1:-1]} must be a non-empty list of values, got {shown(values)}")
    fixed = _mapping(data.get("fixed"), "fixed", bad)
    both = sorted(set(grid) & set(fixed))
    if both:
        raise bad(f"key(s) {shown(', '.join(both))[1:-1]} are in both grid and fixed; give each once")
    if "seed" in grid or "seed" in fixed:
        raise bad("set seeds with the top-level 'seeds' list, not as a spec key")

    seeds = data.get("seeds", [0])
    if not isinstance(seeds, list) or not seeds or not all(is_int_in(s, 0, MAX_SEED) for s in seeds):
        raise bad(f"seeds must be a non-empty list of integers in 0..{MAX_SEED}, got {shown(seeds)}")
    if len(set(seeds)) != len(seeds):
        raise bad(f"seeds lists a seed twice: {shown(seeds)}")
    trials = len(seeds) * math.prod(len(v) for v in grid.values())  # counted before anything is crossed
    if trials > MAX_GRID_TRIALS:
        raise bad(f"crosses to {trials:,} trials, over the {MAX_GRID_TRIALS:,} one grid may hold; split it")
    return grid, fixed, seeds


def _train_settings(data: dict, grid: dict, fixed: dict, bad) -> dict:
    """The fixed ``train`` settings, checked against the swept ``train.`` keys of ``grid``."""
    train = _mapping(data.get("train"), "train", bad)
    swept = {k[len(TRAIN_PREFIX):]: v for k, v in grid.items() if k.startswith(TRAIN_PREFIX)}
    if set(train) & set(swept):
        raise bad(f"train setting(s) {shown(', '.join(sorted(set(train) & set(swept))))[1:-1]} are both swept and fixed")
    if (set(train) | set(swept)) & set(_NOT_TRAIN):
        raise bad("give epochs at the top level, seeds in 'seeds' and the device on the command line, "
                  "not as train settings")
    if any(k.startswith(TRAIN_PREFIX) for k in fixed):
        raise bad("fix training settings under 'train', not with a train. key in 'fixed'")
    for key, value in [*train.items(), *((k, v) for k, vs in swept.items() for v in vs)]:
        if isinstance(value, (dict, list)):
            raise bad(f"train.{shown(key)[1:-1]} takes single values, got {shown(value)}")
    return train


def _ldi_settings(data: dict, bad) -> dict:
    """The ``ldi`` settings over :data:`LDI_DEFAULTS`, checked."""
    ldi = {**LDI_DEFAULTS, **_mapping(data.get("ldi"), "ldi", bad)}
    if set(ldi) != set(LDI_DEFAULTS):
        raise bad(f"unknown ldi key(s) {shown(', '.join(sorted(set(ldi) - set(LDI_DEFAULTS))))[1:-1]}; "
                  f"valid: {', '.join(LDI_DEFAULTS)}")
    for key, lo, hi in (("batch", 1, MAX_LDI_BATCH), ("seed", 0, MAX_SEED)):
        if not is_int_in(ldi[key], lo, hi):
            raise bad(f"ldi.{key} {int_problem(ldi[key], lo, hi)}")
    if ldi["split"] not in ("train", "test"):
        raise bad(f"ldi.split must be one of train, test, got {shown(ldi['split'])}")
    if not isinstance(ldi["input_layer"], bool):
        raise bad(f"ldi.input_layer must be true or false, got {shown(ldi['input_layer'])}")
    return ldi


def _proxies(data: dict, bad) -> tuple[tuple, int]:
    """The grid's ``proxies`` list and ``proxy_batch``, checked (torch-free)."""
    from ..proxies.combined import refuse_combinations
    from ..proxies.proxy_names import check_batch_for, parse_proxy_names

    listed = data.get("proxies")
    batch = data.get("proxy_batch", PROXY_BATCH)
    if listed is None:
        if "proxy_batch" in data:
            raise bad("proxy_batch is set but no proxies are listed")
        return (), PROXY_BATCH
    if not isinstance(listed, list) or not listed:
        raise bad(f"proxies must be a non-empty list of proxy names, got {shown(listed)}")
    try:
        refuse_combinations(listed, "proxies", "ranks networks against a population, and each trial is scored "
                            "alone")
        names = parse_proxy_names(listed, "proxies")
    except UsageError as e:
        raise bad(str(e)) from None
    stored = [n for n in names if n in STORED_ANYWAY]
    if stored:
        raise bad(f"proxies lists {', '.join(stored)}, which every trial stores already (columns "
                  f"{', '.join(STORED_ANYWAY)}); leave them out")
    if not is_int_in(batch, 1, MAX_LDI_BATCH):
        raise bad(f"proxy_batch {int_problem(batch, 1, MAX_LDI_BATCH)}")
    try:
        check_batch_for(names, batch, "proxy_batch")
    except UsageError as e:
        raise bad(str(e)) from None
    return names, batch


def _mapping(value, what: str, bad) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise bad(f"{what} must be a mapping of key: value, got {shown(value)}")
    return dict(value)
