"""nwot: log-determinant of the kernel of ReLU activation codes."""
from __future__ import annotations

import torch
from torch import nn

from .batch import ProxyBatch
from .common import batch_on, finite_or_nan, hooked, run_on, stand_ins
from .registry import register_proxy


#: The activation modules whose input signs are the codes: torch's ReLU family (and
#: subclasses), each gated at 0. Read by type, not by class name, so a wrapper such as
#: NB201's ``ReLUConvBN`` or a ``ConvReLU2d`` block is not read as a ReLU (its inner
#: ``nn.ReLU`` is); functional ``F.relu`` calls are not seen.
RELU_TYPES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.RReLU)


def relu_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of :data:`RELU_TYPES`, in module order."""
    return [m for m in model.modules() if isinstance(m, RELU_TYPES)]


@register_proxy("nwot", needs_data=True, needs_labels=False, needs_backward=False, samples="the whole batch",
                min_batch=2)
def nwot(model: nn.Module, batch: ProxyBatch) -> float:
    """NASWOT score (Mellor, Turner, Storkey, Crowley, "Neural architecture search
    without training", ICML 2021)::

        c_n = 1[h > 0] for every ReLU input unit h of sample n     (binary code)
        K   = sum over ReLU calls of  c c^T + (1 - c)(1 - c)^T     (N_A - Hamming distance)
        nwot = log |det K|

    Convention of BayesWatch/nas-without-training (v2) and NASLib's ``nwot``: one
    forward pass of the whole batch in train mode, every call of a ReLU module adds
    its codes, the score is ``slogdet``'s log-absolute-determinant (float64). The
    ReLUs are read by type (:data:`RELU_TYPES`: ``nn.ReLU``, ``ReLU6``, ``LeakyReLU``,
    ``RReLU``), so NB201's ``ReLUConvBN`` counts once, through its ``nn.ReLU``. nan
    when ``K`` is singular (e.g. two identical samples) and for one sample (``K`` is
    then the number of ReLU units, whatever the network).

    Needs data, no labels, no backward pass, the whole batch (>= 2 samples; 64 in NASLib).
    """
    x, _ = batch_on(model, batch)
    kernel = CodeKernel(len(x), x.device)
    with run_on(model, stand_ins(model), seed=batch.seed) as forward, \
            hooked(relu_modules(model), kernel.count, pre=True), torch.no_grad():
        forward(x)
    return kernel.nwot()


class CodeKernel:
    """The ``N x N`` kernel of ReLU codes, filled by a forward pre-hook on the ReLU
    modules (:meth:`count`)."""

    def __init__(self, n: int, device):
        self.n = n
        self.kernel = torch.zeros((n, n), dtype=torch.float64, device=device)

    def count(self, module, inputs):
        with torch.no_grad():
            codes = (inputs[0].detach().reshape(self.n, -1) > 0).float()
            # 0/1 sums below 2^24 are exact in float32; accumulate in float64.
            self.kernel.add_(codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T)

    def nwot(self) -> float:
        """``log |det K|`` (nan when ``K`` is singular)."""
        return finite_or_nan(torch.linalg.slogdet(self.kernel).logabsdet)
