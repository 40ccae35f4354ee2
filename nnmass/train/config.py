"""Training hyper-parameters as one frozen record, with per-dataset defaults. Pure Python:
sweep grids read it to normalise their settings without importing torch."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..errors import UsageError
from ..validate import check_choice, check_int, check_number, check_seed, parse_device, shown

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("cosine", "constant")
# Small sets whose CNN default learning rate is 0.05 (0.1 for CIFAR/ImageNet).
_SMALL = ("mnist-5k", "digits", "synthetic", "mnist", "fashion-mnist")
# The optimizers hand lr and weight decay to kernels in the parameters' float32, and
# Adam's first step divides lr by 1 - beta1 (0.1): past these bounds torch raises mid-step.
FLOAT32_MAX = 3.4028234663852886e38
MAX_LR = 1e37


@dataclass(frozen=True)
class TrainConfig:
    """How to train one model. Stored beside every result."""

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "adam"  # 'sgd' (with momentum) or 'adam'
    lr: float = 1e-3  # peak learning rate; the schedule decays it per step
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0  # L2 penalty added to the gradient (both optimizers)
    schedule: str = "cosine"  # 'cosine': lr * (1 + cos(pi t / T)) / 2 over all steps
    label_smoothing: float = 0.0
    amp: bool | None = None  # bf16 autocast; None = on exactly when device is CUDA
    device: str = "cpu"
    seed: int = 0  # seeds batch order and augmentation (weight init is the caller's)
    eval_batch_size: int = 1024

    def __post_init__(self):
        for name in ("epochs", "batch_size", "eval_batch_size"):
            check_int(name, getattr(self, name), 1)
        check_seed("seed", self.seed)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_number("lr", self.lr, lo=0.0, hi=MAX_LR, open_lo=True)
        check_number("weight_decay", self.weight_decay, lo=0.0, hi=FLOAT32_MAX)
        for name in ("momentum", "label_smoothing"):  # fractions in [0, 1)
            check_number(name, getattr(self, name), lo=0.0, hi=1.0, open_hi=True)
        if self.amp is not None and not isinstance(self.amp, bool):
            raise UsageError(f"amp must be true, false or unset, got {shown(self.amp)}")
        if parse_device(self.device) == "cpu" and self.amp:
            raise UsageError("mixed precision (amp) runs on CUDA only; drop it or use --device cuda")

    @property
    def use_amp(self) -> bool:
        return str(self.device).startswith("cuda") if self.amp is None else self.amp

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


def default_config(dataset: str, family: str, epochs: int | None = None, device: str = "cpu",
                   **overrides) -> TrainConfig:
    """Sensible defaults for ``family`` (a spec family or model name) on ``dataset``.

    MLPs (``dense-mlp``): Adam, lr 1e-3, batch 128, cosine decay, no weight decay.
    Everything else (CNNs): SGD with momentum 0.9, weight decay 5e-4, cosine decay,
    lr 0.05 on the small digit sets and 0.1 on CIFAR/ImageNet; batch 128 (256 on
    ImageNet). Default epochs: 20 on the embedded/synthetic sets, 10 on (Fashion-)MNIST,
    200 on CIFAR, 90 on ImageNet. ``overrides`` replace any field (``None`` is ignored).
    """
    mlp = family in ("dense-mlp", "mlp")
    if mlp:
        base = dict(optimizer="adam", lr=1e-3, momentum=0.9, weight_decay=0.0, batch_size=128)
    else:
        base = dict(optimizer="sgd", lr=0.05 if dataset in _SMALL else 0.1, momentum=0.9,
                    weight_decay=5e-4, batch_size=256 if dataset == "imagenet" else 128)
    default_epochs = {"mnist": 10, "fashion-mnist": 10, "cifar10": 200, "cifar100": 200, "imagenet": 90}
    base.update(epochs=epochs if epochs is not None else default_epochs.get(dataset, 20),
                schedule="cosine", device=str(device))
    base.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(base) - {f.name for f in dataclasses.fields(TrainConfig)})
    if unknown:
        raise UsageError(f"unknown training option(s) {', '.join(unknown)}")
    return TrainConfig(**base)


# Set per trial by a sweep (its seed, epochs and --device), never by a grid's train settings.
_PER_TRIAL = ("epochs", "seed", "device")


def coerce_settings(settings: dict) -> dict:
    """Grid training settings checked by name and given their field's type, so one
    setting spelt two ways (``1e-3``, which YAML reads as text, and ``0.001``; ``1``
    and ``1.0``) is one setting, and one trial key."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(settings) - (set(fields) - set(_PER_TRIAL)))
    if unknown:
        valid = " ".join(sorted(set(fields) - set(_PER_TRIAL)))
        raise UsageError(f"unknown train setting(s) {', '.join(unknown)}; valid: {valid}")
    return {k: _as_float(v) if isinstance(fields[k].default, float) else v for k, v in settings.items()}


def _as_float(value):
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            pass  # TrainConfig's own check names the setting and its range
    return value


