"""``LDIReport``: summary statistics of layerwise Jacobian spectra (Definition 2)."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields

import torch

from .spectrum import LayerSpectrum


@dataclass
class LDIReport:
    """Singular values of the layerwise Jacobians at initialization.

    ``mean``/``std``/``min``/``max``/``count`` are over all singular values of all
    layers, samples (and, for CNNs, positions); ``std`` is the population standard
    deviation. ``layers`` holds the same statistics per layer. LDI holds when the
    values are close to 1.
    """

    mean: float
    std: float
    min: float
    max: float
    count: int
    layers: list[dict]
    method: str  # "mlp-exact" or "cnn-positions"
    batch: int
    include_input_layer: bool
    positions: int | None = None  # CNN: positions sampled per layer (None = all)
    position_seed: int | None = None  # CNN: initial seed of the position generator
    spectra: list[LayerSpectrum] = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-ready dict (without the raw spectra)."""
        # Not asdict(): it would deep-copy every spectrum tensor only to drop it.
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self) if f.name != "spectra"}

    @classmethod
    def from_spectra(cls, spectra: list[LayerSpectrum], **meta) -> "LDIReport":
        # CNN layers say how many output positions they were measured at: --positions is a
        # most, and a layer with fewer positions gives all of its own.
        layers = [{"name": s.name, **({} if s.positions is None else {"positions": int(s.positions.numel())}),
                   **_stats(s.flat())} for s in spectra]
        overall = _stats(torch.cat([s.flat() for s in spectra])) if spectra else _stats(torch.zeros(0))
        return cls(**overall, layers=layers, spectra=spectra, **meta)


def _stats(values: torch.Tensor) -> dict:
    if values.numel() == 0:
        nan = float("nan")
        return {"mean": nan, "std": nan, "min": nan, "max": nan, "count": 0}
    v = values.detach().to(torch.float64)
    return {"mean": v.mean().item(), "std": v.std(correction=0).item(), "min": v.min().item(),
            "max": v.max().item(), "count": int(v.numel())}
