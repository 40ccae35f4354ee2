"""Named model families: a name maps to a spec class and the defaults that make the
named variant (``resnet50`` is a ResNetSpec with bottleneck blocks 3,4,6,3).

``--set KEY=VALUE`` strings are parsed against the spec's field types here, so
the CLI, sweeps and the design search all read them the same way.
"""
from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .spec import DenseCNNSpec, DenseMLPSpec, DenseNetSpec, MobileNetV2Spec, ResNetSpec, Spec, VGGSpec, spec_from_json
from .validate import FLOAT_TEXT, INT_TEXT, shown


@dataclass(frozen=True)
class Family:
    name: str
    spec_type: type[Spec]
    defaults: dict
    group: str  # what the zoo table groups it under
    summary: str


FAMILIES: dict[str, Family] = {}


def register(name: str, spec_type: type[Spec], group: str, summary: str, **defaults) -> None:
    if name in FAMILIES:
        raise ValueError(f"family {name!r} is already registered")
    FAMILIES[name] = Family(name, spec_type, defaults, group, summary)


register("dense-mlp", DenseMLPSpec, "dense", "DenseNet-type MLP with random skips (Fig. 1a)")
register("dense-cnn", DenseCNNSpec, "dense", "DenseNet-type CNN, 3 cells, random skips")
register("mobilenet_v2", MobileNetV2Spec, "mobilenet", "torchvision MobileNetV2")
for _name, _block, _layers in (("resnet18", "basic", (2, 2, 2, 2)), ("resnet34", "basic", (3, 4, 6, 3)),
                               ("resnet50", "bottleneck", (3, 4, 6, 3)), ("resnet101", "bottleneck", (3, 4, 23, 3)),
                               ("resnet152", "bottleneck", (3, 8, 36, 3))):
    register(_name, ResNetSpec, "resnet", f"torchvision {_name}", block=_block, layers=_layers)
register("wide_resnet50_2", ResNetSpec, "resnet", "torchvision Wide-ResNet-50-2",
         block="bottleneck", layers=(3, 4, 6, 3), width_per_group=128)
register("wide_resnet101_2", ResNetSpec, "resnet", "torchvision Wide-ResNet-101-2",
         block="bottleneck", layers=(3, 4, 23, 3), width_per_group=128)
for _name, _layers in (("wrn18", (2, 2, 2, 2)), ("wrn34", (3, 4, 6, 3))):
    register(_name, ResNetSpec, "resnet", f"Wide-ResNet paper's ImageNet {_name.upper()}-k (--set widen=k)",
             block="basic", layers=_layers)
register("resnet", ResNetSpec, "resnet", "ResNet with any blocks per stage and width")
for _name, _cfg in (("densenet121", dict(growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64)),
                    ("densenet161", dict(growth_rate=48, block_config=(6, 12, 36, 24), num_init_features=96)),
                    ("densenet169", dict(growth_rate=32, block_config=(6, 12, 32, 32), num_init_features=64)),
                    ("densenet201", dict(growth_rate=32, block_config=(6, 12, 48, 32), num_init_features=64))):
    register(_name, DenseNetSpec, "densenet", f"torchvision {_name}", **_cfg)
for _name, _cfg in (("vgg11", "A"), ("vgg13", "B"), ("vgg16", "D"), ("vgg19", "E")):
    register(_name, VGGSpec, "vgg", f"torchvision {_name}", config=_cfg)
    register(f"{_name}_bn", VGGSpec, "vgg", f"torchvision {_name}_bn", config=_cfg, batch_norm=True)


def settable_keys(spec_type: type[Spec]) -> list[str]:
    return [f.name for f in dataclasses.fields(spec_type) if f.name != "skips"]


def parse_sets(items: list[str] | None) -> dict[str, str]:
    """``["width=8", "tc=1,2"]`` -> ``{"width": "8", "tc": "1,2"}``; one per key."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set takes KEY=VALUE, got {shown(item)}")
        if key in out:
            raise UsageError(f"--set {shown(key)[1:-1]} given twice; give each key once (lists are comma-separated)")
        out[key] = value.strip()
    return out


def _convert(spec_type: type[Spec], key: str, text: str):
    field = next(f for f in dataclasses.fields(spec_type) if f.name == key)
    default = field.default
    # Strict: ASCII digits only, so "1_6" or other scripts' digits are not silently 16.
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, tuple):
            return tuple(_strict(v, INT_TEXT, int) for v in text.split(","))
        if isinstance(default, int) and not isinstance(default, bool):
            return _strict(text, INT_TEXT, int)
        if isinstance(default, float):
            return _strict(text, FLOAT_TEXT, float)
        return text
    except ValueError:
        kind = "true or false" if isinstance(default, bool) else (
            "comma-separated integers" if isinstance(default, tuple) else
            "an integer" if isinstance(default, int) else "a number")
        valid = _valid_values(spec_type, key, default)
        raise UsageError(f"--set {key}={shown(text)}: " + (f"must be {valid}" if valid else f"expected {kind}")) from None


def _valid_values(spec_type: type[Spec], key: str, default) -> str | None:
    """What ``key`` must be, in the words of the spec's own check (``must be an integer
    in 1..65536``). The ranges live in each spec's ``__post_init__``; a value below any
    bound makes it state them, so no second table of ranges is kept."""
    if isinstance(default, bool) or not isinstance(default, (int, float, tuple)):
        return None
    low = -2 ** 62
    probe = (low,) if isinstance(default, tuple) else low if isinstance(default, int) else float(low)
    try:
        spec_type(**{key: probe})
    except UsageError as e:
        said = re.match(rf"{re.escape(key)}(?: \(\w+ \d+\))? must be (.+?), got ", str(e))
        return said.group(1) if said else None
    except Exception:  # a spec that fails otherwise on the probe: no range to quote
        return None
    return None


def _strict(text: str, pattern, convert):
    if not pattern.fullmatch(text.strip()):
        raise ValueError(text)
    return convert(text.strip())


def coerce_value(spec_type: type[Spec], key: str, value):
    """A value for ``key`` given as text or already typed (from YAML/JSON grids)."""
    if isinstance(value, str):
        return _convert(spec_type, key, value)
    if isinstance(value, list):
        return tuple(value)
    return value


def spec_for(name: str, sets: dict | None = None) -> Spec:
    """The spec for family ``name`` (or a spec JSON file path) with ``sets`` applied.

    Values in ``sets`` may be strings (from ``--set``) or typed values (from a grid).
    """
    return spec_and_fixed_keys(name, sets)[0]


def names_spec_file(name: str) -> bool:
    """Whether a name that is not a family is read as a spec file: it ends in ``.json``
    or names a file."""
    return name.endswith(".json") or Path(name).is_file()


def unknown_model(name) -> UsageError:
    """The one line for a model that is neither a family nor a spec file."""
    return UsageError(f"unknown model {shown(name)}; valid: {', '.join(FAMILIES)} or a spec .json file")


def spec_and_fixed_keys(name: str, sets: dict | None = None) -> tuple[Spec, frozenset[str]]:
    """:func:`spec_for`'s spec and the keys the user chose: those of ``sets`` and, for a
    spec file, every key the file writes. The other keys are defaults, which a data set
    may replace (:func:`nnmass.spec.data_fit.fit_spec_to_data`)."""
    sets = dict(sets or {})
    if name not in FAMILIES:
        if names_spec_file(name):
            return _spec_from_file(Path(name), sets)
        raise unknown_model(name)
    fam = FAMILIES[name]
    _check_keys(fam.spec_type, sets, name)
    values = dict(fam.defaults)
    values.update({k: coerce_value(fam.spec_type, k, v) for k, v in sets.items()})
    return fam.spec_type(**values), frozenset(sets)


def _check_keys(spec_type: type[Spec], sets: dict, name: str) -> None:
    keys = settable_keys(spec_type)
    unknown = sorted(set(sets) - set(keys))
    if unknown:
        raise UsageError(f"unknown key(s) {shown(', '.join(unknown))[1:-1]} for {name}; valid keys: {' '.join(keys)}")


def _spec_from_file(path: Path, sets: dict) -> tuple[Spec, frozenset[str]]:
    from .files.reading import read_text_file
    text = read_text_file(path, "spec file")
    spec = spec_from_json(text)
    written = frozenset(json.loads(text))  # spec_from_json has read it as one JSON object
    if sets:
        _check_keys(type(spec), sets, spec.family)
        spec = spec.replace(**{k: coerce_value(type(spec), k, v) for k, v in sets.items()})
    return spec, written | frozenset(sets)


def dump_spec(spec: Spec, path: str | Path, flag: str = "--out") -> None:
    """Write ``spec`` as JSON, replacing ``path`` in one step (a failed write leaves it as it was)."""
    from .files.writing import write_text_atomically
    write_text_atomically(path, flag, json.dumps(spec.to_dict(), indent=2) + "\n")
