"""phi'(h) for the activation modules nnmass builds, read from the module itself.

The diagonal ``D_i = diag(phi'(h_i))`` of Definition 2 must use the module's own
parameters (ELU's ``alpha``, LeakyReLU's ``negative_slope``, GELU's
``approximate``); an activation not listed here is refused rather than guessed.
At the kinks (``h == 0``) we follow torch's autograd conventions so our spectra
match ``torch.autograd.functional.jacobian`` exactly.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ..errors import UsageError

Derivative = Callable[[torch.Tensor], torch.Tensor]


def _relu(m: nn.ReLU) -> Derivative:
    return lambda h: (h > 0).to(h.dtype)


def _relu6(m: nn.ReLU6) -> Derivative:
    # Autograd's convention for hardtanh: 1 strictly inside (0, 6), 0 at and beyond the kinks.
    return lambda h: ((h > 0) & (h < 6)).to(h.dtype)


def _leaky_relu(m: nn.LeakyReLU) -> Derivative:
    slope = m.negative_slope
    return lambda h: torch.where(h > 0, torch.ones_like(h), torch.full_like(h, slope))


def _elu(m: nn.ELU) -> Derivative:
    # 1 for h > 0, alpha * exp(h) otherwise (the reference code got this wrong).
    alpha = m.alpha
    return lambda h: torch.where(h > 0, torch.ones_like(h), alpha * torch.exp(h))


def _tanh(m: nn.Tanh) -> Derivative:
    return lambda h: 1 - torch.tanh(h) ** 2


def _gelu(m: nn.GELU) -> Derivative:
    if m.approximate == "tanh":
        c = math.sqrt(2 / math.pi)

        def tanh_form(h):
            t = torch.tanh(c * (h + 0.044715 * h ** 3))
            return 0.5 * (1 + t) + 0.5 * h * (1 - t ** 2) * c * (1 + 3 * 0.044715 * h ** 2)
        return tanh_form

    def erf_form(h):
        # d/dh [h Phi(h)] = Phi(h) + h phi(h), with the exact (erf) normal CDF.
        cdf = 0.5 * (1 + torch.erf(h / math.sqrt(2)))
        pdf = torch.exp(-0.5 * h ** 2) / math.sqrt(2 * math.pi)
        return cdf + h * pdf
    return erf_form


def _silu(m: nn.SiLU) -> Derivative:
    def silu(h):
        s = torch.sigmoid(h)
        return s * (1 + h * (1 - s))
    return silu


def _identity(m: nn.Identity) -> Derivative:
    return torch.ones_like


# Exact types only: a subclass may change forward(), so it is not trusted.
_DERIVATIVES = {
    nn.ReLU: _relu,
    nn.ReLU6: _relu6,
    nn.LeakyReLU: _leaky_relu,
    nn.ELU: _elu,
    nn.Tanh: _tanh,
    nn.GELU: _gelu,
    nn.SiLU: _silu,
    nn.Identity: _identity,
}


def is_known_activation(module: nn.Module) -> bool:
    """Whether ``activation_derivative`` knows ``module``'s exact type."""
    return type(module) in _DERIVATIVES


def known_activations() -> str:
    """The activation types with a known derivative, comma-separated."""
    return ", ".join(t.__name__ for t in _DERIVATIVES)


def activation_derivative(module: nn.Module) -> Derivative:
    """The elementwise derivative ``phi'`` of an activation module.

    Raises:
        UsageError: for an activation whose derivative is not known here.
    """
    make = _DERIVATIVES.get(type(module))
    if make is None:
        raise UsageError(f"no derivative known for activation {type(module).__name__}; "
                         f"supported: {known_activations()}")
    return make(module)
