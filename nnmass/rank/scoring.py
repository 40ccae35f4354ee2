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
from ..store.results import row_json
from ..validate import check_int, check_seed, shown

NB201_DATASETS = {"cifar10": (10, (3, 32, 32)), "cifar100": (100, (3, 32, 32)),
                  "ImageNet16-120": (120, (3, 16, 16))}
"""NAS-Bench-201's datasets: classes and the shape of one image (ImageNet16-120 is 16x16)."""

SPACES = ("nb201", "model")
"""``nb201``: networks are NB201 arch strings; ``model``: any MODEL string ``nnmass mass`` reads."""


@dataclass(frozen=True)
class ScoreSetting:
    """Everything a score depends on besides the network and the proxy.

    Attributes:
        space: one of :data:`SPACES`.
        num_classes: classes of the built NB201 network and of the labels; ``None`` in the
            ``model`` space (the model's own logits decide).
        input_shape: one sample's shape; ``None`` in the ``model`` space means each
            model's own default (or the dataset's).
        inputs: ``"gaussian"`` or a dataset name of :func:`nnmass.data.load_dataset`.
        batch: samples in the batch.
        seed: seeds the weight init, the batch and every proxy's draws.
        data_root: where an on-disk dataset lives (not part of the key: the data are).
    """

    space: str = "nb201"
    num_classes: int | None = 10
    input_shape: tuple[int, ...] | None = (3, 32, 32)
    inputs: str = "gaussian"
    batch: int = 16
    seed: int = 0
    data_root: str | None = None

    def __post_init__(self):
        if self.space not in SPACES:
            raise UsageError(f"space must be one of {', '.join(SPACES)}, got {shown(self.space)}")
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

    def key(self) -> str:
        """Canonical JSON of the fields a score depends on (the store's ``setting``)."""
        d = asdict(self)
        d.pop("data_root")
        d["input_shape"] = None if self.input_shape is None else list(self.input_shape)
        return row_json(d)


def canonical_network(text: str, space: str) -> str:
    """The form a network is stored under: an NB201 arch string rewritten canonically
    (so spaces around it do not make a second network), a MODEL string as given."""
    if space == "nb201":
        from ..models.nb201 import format_arch, parse_arch
        return format_arch(parse_arch(text))
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"a MODEL string must be non-empty, got {shown(text)}")
    return text.strip()


def build_network(network: str, setting: ScoreSetting, data=None):
    """The network's module (weights from the setting's seed) and one sample's shape.

    With ``data`` (the setting's dataset), a family or spec file is fitted to it first
    (classes, input size), as ``nnmass proxies --inputs`` does; NB201 networks and
    module sources are built as named."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setting.seed)
        if setting.space == "nb201":
            from ..models.nb201 import build_nb201
            # No fixed shape with a dataset: its examples keep their own (make_batch).
            return build_nb201(network, num_classes=setting.num_classes), setting.input_shape
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
    """The number of logits the model returns for one zero sample (eval mode, no grad)."""
    import torch

    from ..proxies.common import in_mode, logits_of
    with in_mode(model, False), torch.no_grad():
        out = logits_of(model(torch.zeros((1, *sample_shape), device=device)))
    return int(out.shape[-1])


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
    """Score one network with the named proxies (fused); never raises: an exception
    gives nan scores and its text in ``error``."""
    from ..proxies.fused import score_fused

    start = time.perf_counter()
    try:
        model, shape = build_network(network, setting, load_inputs(setting, device, cache))
        model = model.to(device)
        batch = make_batch(model, shape, setting, device, cache)
        run = score_fused(model, batch, names)
        return Scored(network, run.scores, run.seconds)
    except Exception as e:  # noqa: BLE001 - one bad network is recorded, the run goes on
        frames = traceback.extract_tb(e.__traceback__)
        where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
        message = str(e).splitlines()[0] if str(e) else ""
        share = (time.perf_counter() - start) / max(len(names), 1)
        return Scored(network, {n: math.nan for n in names}, {n: share for n in names},
                      f"{type(e).__name__}: {message}{where}")
