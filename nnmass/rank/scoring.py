"""Scoring one network: what a score depends on (:class:`ScoreSetting`), the network
built from its string, the batch, and the fused proxies.

Everything random is seeded by the setting's seed: the weight init (torch's global
generator inside a fork, so the caller's state is untouched and every worker builds
the same weights), the Gaussian batch and each proxy's own draws. The same network,
setting and proxy therefore give the same score in any process and any order.
"""
from __future__ import annotations

import math
import time
import traceback
from dataclasses import asdict, dataclass

from ..errors import UsageError
from ..families import FAMILIES, names_spec_file, unknown_model
from ..store.results import row_json
from ..validate import check_input_elements, check_int, check_seed, shown

NB201_DATASETS = {"cifar10": (10, (3, 32, 32)), "cifar100": (100, (3, 32, 32)),
                  "ImageNet16-120": (120, (3, 16, 16))}
"""NAS-Bench-201's datasets: classes and the shape of one image (ImageNet16-120 is 16x16)."""

def space_choices() -> tuple[str, ...]:
    """What ``space`` may be: a search space of :mod:`nnmass.spaces` (networks are its
    architecture strings) or ``model`` (any MODEL string ``nnmass mass`` reads)."""
    from ..spaces import space_names
    return space_names() + ("model",)


@dataclass(frozen=True)
class ScoreSetting:
    """Everything a score depends on besides the network and the proxy.

    Attributes:
        space: one of :func:`space_choices`.
        num_classes: classes of the built network and of the labels; ``None`` in the
            ``model`` space (the model's own logits decide).
        input_shape: one sample's shape; ``None`` in the ``model`` space means each
            model's own default (or the dataset's).
        inputs: ``"gaussian"`` or a dataset name of :func:`nnmass.data.load_dataset`.
        batch: samples in the batch.
        seed: seeds the weight init, the batch and every proxy's draws.
        data_root: where an on-disk dataset lives (not part of the key: the data are).
        task: the space's task the network is built for (TransNAS-Bench-101's heads);
            ``None`` for NB201, where ``num_classes`` says it all (and older stores' keys
            stay valid), and in the ``model`` space.
        sets: a space's ``--set`` values for its networks (channels, cells), as sorted
            ``(key, text)`` pairs; ``None`` for the benchmark's own network.
    """

    space: str = "nb201"
    num_classes: int | None = 10
    input_shape: tuple[int, ...] | None = (3, 32, 32)
    inputs: str = "gaussian"
    batch: int = 16
    seed: int = 0
    data_root: str | None = None
    task: str | None = None
    sets: tuple[tuple[str, str], ...] | None = None

    def __post_init__(self):
        if self.sets is not None:
            items = self.sets.items() if isinstance(self.sets, dict) else self.sets
            object.__setattr__(self, "sets", tuple(sorted((str(k), str(v)) for k, v in items)) or None)
        if self.space not in space_choices():
            raise UsageError(f"space must be one of {', '.join(space_choices())}, got {shown(self.space)}")
        if self.num_classes is not None:
            check_int("num_classes", self.num_classes, 1, 100_000)
        check_int("batch", self.batch, 1, 65_536)
        check_seed("seed", self.seed)
        if self.input_shape is not None:
            object.__setattr__(self, "input_shape", tuple(check_int("input shape", s, 1, 65_536)
                                                          for s in self.input_shape))

    @classmethod
    def nb201(cls, dataset: str = "cifar10", **kw) -> "ScoreSetting":
        """The setting of an NB201 dataset: its classes and image size."""
        if dataset not in NB201_DATASETS:
            raise UsageError(f"unknown NB201 dataset {shown(dataset)}; valid: {', '.join(NB201_DATASETS)}")
        classes, shape = NB201_DATASETS[dataset]
        return cls(space="nb201", num_classes=classes, input_shape=shape, **kw)

    @classmethod
    def for_space(cls, space: str, task: str | None = None, **kw) -> "ScoreSetting":
        """The setting of a space's task (its default task for None): its classes and input size."""
        if space == "nb201":
            return cls.nb201(task or "cifar10", **kw)
        from ..spaces import get_space
        t = get_space(space).task(task)
        return cls(space=space, num_classes=t.num_classes, input_shape=t.input_shape, task=t.name, **kw)

    def key(self) -> str:
        """Canonical JSON of the fields a score depends on (the store's ``setting``)."""
        d = asdict(self)
        d.pop("data_root")
        for optional in ("task", "sets"):  # absent from the keys of older stores
            if d[optional] is None:
                d.pop(optional)
        if "sets" in d:
            d["sets"] = dict(self.sets)
        d["input_shape"] = None if self.input_shape is None else list(self.input_shape)
        return row_json(d)


def canonical_network(text: str, space: str, canonical: bool = True) -> str:
    """The form a network is stored under. In a search space: the space's canonical key
    (:meth:`~nnmass.spaces.base.SearchSpace.canonical_key`), a valid architecture string
    shared by every string that computes the same function up to relabelling, so each
    computation is built and scored once; with ``canonical=False`` the string as written,
    in the space's own form (any form of it, and spaces around it, still make one
    network). A MODEL string is kept as given.
    """
    if space != "model":
        from ..spaces import get_space
        s = get_space(space)
        arch = s.parse(text)
        return s.canonical_key(arch) if canonical else s.format(arch)
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"a MODEL string must be non-empty, got {shown(text)}")
    text = text.strip()
    if ":" not in text and text not in FAMILIES and not names_spec_file(text):  # SOURCE:NAME is checked when built
        raise unknown_model(text)
    return text


def build_network(network: str, setting: ScoreSetting, data=None):
    """The network's module (weights from the setting's seed) and one sample's shape.

    With ``data`` (the setting's dataset), a family or spec file is fitted to it first
    (classes, input size), as ``nnmass proxies --inputs`` does; NB201 networks and
    module sources are built as named."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setting.seed)
        if setting.space != "model":
            from ..spaces import get_space
            space = get_space(setting.space)
            sets = dict(setting.sets or ())
            if setting.space == "nb201":
                sets.setdefault("num_classes", setting.num_classes)
            # No fixed shape with a dataset: its examples keep their own (make_batch).
            from ..models.space_networks import build_in_space
            return build_in_space(space, space.parse(network), setting.task, sets), setting.input_shape
    from ..models.network import network_for_data
    model, shape, _ = network_for_data(network, None, setting.seed, data)
    return model, setting.input_shape or tuple(shape[1:])


def load_inputs(setting: ScoreSetting, device="cpu", cache: dict | None = None):
    """The setting's dataset (loaded once per process into ``cache``), or None for Gaussian inputs."""
    if setting.inputs == "gaussian":
        return None
    cache = {} if cache is None else cache
    key = ("data", setting.inputs, setting.data_root, str(device))
    if key not in cache:
        from ..data import load_dataset
        cache[key] = load_dataset(setting.inputs, root=setting.data_root, device=device)
    return cache[key]


def logits_width(model, sample_shape, device="cpu") -> int:
    """The number of logits the model returns for zero samples (eval mode, no grad).

    Two samples, not one: BatchNorm without running statistics normalizes by the batch
    even in eval mode, and refuses a single sample of a vector."""
    import torch

    from ..proxies.common import in_mode, logits_of, model_dtype
    with in_mode(model, False), torch.no_grad():
        out = logits_of(model(torch.zeros((2, *sample_shape), device=device, dtype=model_dtype(model))))
    return int(out.shape[1])


def make_batch(model, sample_shape, setting: ScoreSetting, device="cpu", cache: dict | None = None):
    """The setting's batch for ``model``: Gaussian inputs with labels over the model's
    classes, or the examples of a dataset (the same draw for every network), read at
    ``sample_shape`` where it holds as many values (an MLP's flat input), else at the
    data's own shape."""
    from ..proxies import gaussian_batch
    from ..proxies.data_batch import data_batch

    cache = {} if cache is None else cache
    if setting.inputs == "gaussian":
        classes = setting.num_classes or logits_width(model, sample_shape, device)
        key = ("gaussian", tuple(sample_shape), classes, setting.batch, setting.seed, str(device))
        if key not in cache:
            check_input_elements("the batch", (setting.batch, *sample_shape))  # before it is allocated
            cache[key] = gaussian_batch(tuple(sample_shape), batch_size=setting.batch, num_classes=classes,
                                        seed=setting.seed, device=device)
        return cache[key]
    data = load_inputs(setting, device, cache)
    shape = tuple(data.input_shape)
    if sample_shape is not None and math.prod(sample_shape) == math.prod(shape):
        shape = tuple(sample_shape)
    key = (setting.inputs, setting.data_root, setting.batch, setting.seed, str(device), shape)
    if key not in cache:
        cache[key] = data_batch(data, setting.batch, seed=setting.seed, sample_shape=shape)
    batch = cache[key]
    width = setting.num_classes or logits_width(model, shape, device)
    if batch.num_classes > width:
        raise UsageError(f"{setting.inputs} has {batch.num_classes} classes but the network returns {width} logits")
    return batch


@dataclass
class Scored:
    """The outcome of scoring one network."""

    network: str
    scores: dict
    seconds: dict
    error: str | None = None


def score_network(network: str, names: list[str], setting: ScoreSetting, device: str = "cpu",
                  cache: dict | None = None) -> Scored:
    """Score one network with the named proxies: fused (:mod:`nnmass.proxies.fused`), and
    ``macs`` in closed form where the space gives it (:mod:`.closed_form`); never raises:
    an exception gives nan scores and its text in ``error``."""
    from ..parallel.heap import fit_heap_to
    from ..proxies.fused import score_fused
    from .closed_form import closed_form_scores

    start = time.perf_counter()
    cache = {} if cache is None else cache
    try:
        scores, seconds = closed_form_scores(network, names, setting, cache,
                                             lambda text: _counted_macs(text, setting, device, cache))
        rest = [n for n in names if n not in scores]
        if rest:
            model, batch = _built_and_fed(network, setting, device, cache)
            fit_heap_to(model)
            run = score_fused(model, batch, rest)
            scores.update(run.scores)
            seconds.update(run.seconds)
        return Scored(network, {n: scores[n] for n in names}, {n: seconds[n] for n in names})
    except Exception as e:  # noqa: BLE001 - one bad network is recorded, the run goes on
        frames = traceback.extract_tb(e.__traceback__)
        where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
        message = str(e).splitlines()[0] if str(e) else ""
        share = (time.perf_counter() - start) / max(len(names), 1)
        return Scored(network, {n: math.nan for n in names}, {n: share for n in names},
                      f"{type(e).__name__}: {message}{where}")


def _built_and_fed(network: str, setting: ScoreSetting, device: str, cache: dict):
    """The network's module on ``device`` and its batch. A network built on the CPU for
    the CPU is not moved: ``Module.to`` walks every submodule even then."""
    model, shape = build_network(network, setting, load_inputs(setting, device, cache))
    if str(device) != "cpu":
        model = model.to(device)
    return model, make_batch(model, shape, setting, device, cache)


def _counted_macs(network: str, setting: ScoreSetting, device: str, cache: dict) -> float:
    """The ``macs`` proxy on the network, built and fed as a scored network is."""
    from ..proxies import macs

    return macs(*_built_and_fed(network, setting, device, cache))
