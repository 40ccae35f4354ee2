"""NN-Mass of MobileNetV2 (Remark 2, Eq. 3): the one rule for its cells, used by the
closed form of a spec (scalars) and by the design search (arrays of candidates).

Only blocks with an identity residual (stride 1, input width = output width) are
cells. Every such block is a bottleneck cell (Fig. 2): input ``W1``, hidden width
``W2 = t W1``, nodes ``W1, W2, W2, W1``, a skip of ``W1`` channels, so
``m = (W1 + 2 W2) W1 / (2 W1 + W2)``. A repeated expansion-1 block (torchvision
drops its 1x1 expansion conv) is read as the degenerate bottleneck ``W2 = W1``
and contributes ``W1``: the authors' rule (their ``InvertedResidual.nn_mass``),
and the only one that reproduces Table 2's models A and B (1654 and 1030). The
traced graph follows the same rule (:mod:`nnmass.mass.cells`).
"""
from __future__ import annotations

import numpy as np

from ..cost import make_divisible_array
from ..spec import MOBILENET_V2_STAGES
from ..topology import CellTopology, bottleneck_cell_mass


def inverted_residual_cell(w1: int, w2: int, name: str = "") -> CellTopology:
    """The cell of one identity inverted residual of input ``w1`` and hidden width ``w2``."""
    return CellTopology("add", (w1, w2, w2, w1), w1, name)


def inverted_residual_mass(w1, t):
    """Mass of identity inverted-residual cells of input ``w1`` and expansion ``t``,
    vectorised: ``(W1 + 2 W2) W1 / (2 W1 + W2)`` with ``W2 = t W1``; equals
    ``inverted_residual_cell(w1, w1 * t).mass`` element by element."""
    w1 = np.asarray(w1, dtype=np.float64)
    return bottleneck_cell_mass(w1, w1 * np.asarray(t))


def mobilenet_v2_mass(width_mult, blocks, expansion=6):
    """NN-Mass of MobileNetV2 candidates.

    Args:
        width_mult: shape ``(...)``.
        blocks: blocks per stage, shape ``(..., 7)``.
        expansion: expansion of stages 2-7 (stage 1 keeps 1), shape ``(...)``.

    Returns:
        float64 array of shape ``(...)`` (a float for one candidate).
    """
    wmul = np.asarray(width_mult, dtype=np.float64)
    n_blocks = np.asarray(blocks, dtype=np.int64)
    e = np.asarray(expansion, dtype=np.int64)
    inp = make_divisible_array(32 * wmul)
    mass = np.zeros(np.broadcast_shapes(wmul.shape, n_blocks.shape[:-1], e.shape))
    for stage, (t0, c, _, s) in enumerate(MOBILENET_V2_STAGES):
        t = np.full_like(e, t0) if stage == 0 else e
        out = make_divisible_array(c * wmul)
        repeat = inverted_residual_mass(out, t)
        # The first block of a stage is a cell only when it keeps stride and width.
        first = np.where((inp == out) & (s == 1), inverted_residual_mass(inp, t), 0.0)
        mass = mass + first + (n_blocks[..., stage] - 1) * repeat
        inp = out
    return mass if mass.ndim else float(mass)
