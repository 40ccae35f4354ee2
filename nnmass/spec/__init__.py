"""Frozen, JSON-serialisable architecture specs. Pure Python + numpy, no torch.

A spec is complete: DenseNet-type specs carry their seed *and* the sampled skip
indices, so ``spec.to_dict()`` is exactly the record a result is stored under and
``spec_from_dict(spec.to_dict()) == spec``.
"""
from __future__ import annotations

import dataclasses
import json

from ..errors import UsageError
from ..validate import shown
from .base import Spec, as_tuple
from .dense import ACTIVATIONS, CNN_LAYOUTS, CONV_KINDS, INITS, LAYOUTS, DenseCNNSpec, DenseMLPSpec, cell_width
from .skips import MAX_SKIP_CANDIDATES, sample_skips, skip_candidates
from .torchvision import (MOBILENET_V2_STAGES, SHORTCUTS, VGG_CONFIGS, DenseNetSpec, MobileNetV2Spec, ResNetSpec,
                          VGGSpec, make_divisible)

SPEC_TYPES: dict[str, type[Spec]] = {
    cls.family: cls for cls in (DenseMLPSpec, DenseCNNSpec, MobileNetV2Spec, ResNetSpec, DenseNetSpec, VGGSpec)
}


def spec_from_dict(d: dict) -> Spec:
    """Rebuild a spec from ``to_dict()`` output (or a hand-written JSON object)."""
    if not isinstance(d, dict) or "family" not in d:
        raise UsageError("a spec must be a JSON object with a 'family' key")
    d = dict(d)
    family = d.pop("family")
    cls = SPEC_TYPES.get(family) if isinstance(family, str) else None
    if cls is None:
        raise UsageError(f"unknown spec family {shown(family)}; valid: {', '.join(SPEC_TYPES)}")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise UsageError(f"unknown key(s) {shown(', '.join(unknown))[1:-1]} for {family}; "
                         f"valid: {', '.join(sorted(names))}")
    return cls(**{k: as_tuple(v) for k, v in d.items()})


def spec_from_json(text: str) -> Spec:
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"malformed spec JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise UsageError("malformed spec JSON: nested too deeply") from None
    return spec_from_dict(d)


__all__ = ["ACTIVATIONS", "CNN_LAYOUTS", "CONV_KINDS", "INITS", "LAYOUTS", "MAX_SKIP_CANDIDATES", "MOBILENET_V2_STAGES", "SHORTCUTS",
           "SPEC_TYPES", "VGG_CONFIGS", "DenseCNNSpec", "DenseMLPSpec", "DenseNetSpec", "MobileNetV2Spec",
           "ResNetSpec", "Spec", "VGGSpec", "cell_width", "make_divisible", "sample_skips", "skip_candidates",
           "spec_from_dict", "spec_from_json"]
