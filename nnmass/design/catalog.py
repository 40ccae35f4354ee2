"""The searchable spaces: DenseNet-type CNNs, DenseNet-type MLPs and MobileNetV2.

Defaults follow the paper's design experiments (Sec. 4, Tables 1-2): {depth,
width, tc} per cell for DenseNet-type networks, {blocks per stage, width
multiplier} for MobileNets. Each default space holds about a million
candidates: well under a second of closed-form evaluation.
"""
from __future__ import annotations

import numpy as np

from ..cost import dense_cnn_cost, dense_mlp_cost, mobilenet_v2_cost
from ..errors import UsageError
from ..spec import CONV_KINDS, MOBILENET_V2_STAGES, DenseCNNSpec, DenseMLPSpec, MobileNetV2Spec, cell_width
from ..topology import dense_mass
from ..validate import MAX_INPUT_SIZE, MAX_WIDTH
from .evaluate import Term
from ..mass.mobilenet import mobilenet_v2_mass
from .spaces import Key, SpaceDef

# tc of cell c scales with its width (16 wm 2^c): 0 (no skips) up to far past saturation.
_TC_STEPS = (0, 8, 16, 32, 64, 128, 256, 512)


def _dense_cnn_tc(c: int) -> list[int]:
    return [t * 2**c for t in _TC_STEPS]


def _dense_cnn_evaluate(space, cols):
    depth, tc = space.per_cell(cols, "depth"), space.per_cell(cols, "tc")
    wm = cols["wm"]
    mass = sum(dense_mass(depth[:, c], cell_width(wm, c), tc[:, c]) for c in range(depth.shape[1]))
    separable = cols["conv"] == CONV_KINDS.index("separable")
    f = space.fixed
    params, macs = dense_cnn_cost(depth, wm, tc, separable, f["in_channels"], f["input_size"], f["num_classes"])
    return mass, params, macs


def _dense_cnn_terms(space):
    """Cells add up given (conv, wm): a cell's cost depends on its own depth and tc and,
    through its input channels, on wm. Each cell's part is the cost change from a
    reference candidate (first value of every axis) when only that cell changes."""
    n = space.fixed["num_cells"]
    ref = {a.name: a.codes[0] for a in space.axes}

    def cost(cols, depth, tc):
        f = space.fixed
        separable = cols["conv"] == CONV_KINDS.index("separable")
        return dense_cnn_cost(depth, cols["wm"], tc, separable, f["in_channels"], f["input_size"], f["num_classes"])

    def reference(cols):
        shape = cols["wm"].shape + (n,)
        depth = np.broadcast_to([ref[f"depth.{c}"] for c in range(n)], shape)
        tc = np.broadcast_to([ref[f"tc.{c}"] for c in range(n)], shape)
        return depth, tc

    def base(cols):
        params, macs = cost(cols, *reference(cols))
        return 0.0, params, macs

    def cell(c):
        def part(cols):
            depth, tc = (np.array(a) for a in reference(cols))
            params0, macs0 = cost(cols, depth, tc)
            depth[:, c], tc[:, c] = cols[f"depth.{c}"], cols[f"tc.{c}"]
            params, macs = cost(cols, depth, tc)
            mass = dense_mass(cols[f"depth.{c}"], cell_width(cols["wm"], c), cols[f"tc.{c}"])
            return mass, params - params0, macs - macs0
        return Term(("conv", "wm", f"depth.{c}", f"tc.{c}"), part)

    return [Term(("conv", "wm"), base)] + [cell(c) for c in range(n)]


def _dense_cnn_check(space):
    # Every cell after the first halves the image; the last must keep a pixel.
    n, size = space.fixed["num_cells"], space.fixed["input_size"]
    if size < 2 ** (n - 1):
        raise UsageError(f"input_size {size} is too small for {n} cells; valid: >= {2 ** (n - 1)}")
    widest = cell_width(max(next(a.values for a in space.axes if a.key == "wm")), n - 1)
    if widest > MAX_WIDTH:  # the spec's bound, so that every candidate can be built
        raise UsageError(f"--range wm: with {n} cells the last cell would be {widest:,} channels wide, "
                         f"over the {MAX_WIDTH:,} a layer may have; lower wm or num_cells")


def _dense_cnn_spec(space, values, seed):
    return DenseCNNSpec(num_cells=values["num_cells"], depth=tuple(values["depth"]), wm=values["wm"],
                        tc=tuple(values["tc"]), conv=values["conv"], in_channels=values["in_channels"],
                        input_size=values["input_size"], num_classes=values["num_classes"], seed=seed)


def _dense_mlp_evaluate(space, cols):
    d, w, t = cols["depth"], cols["width"], cols["tc"]
    f = space.fixed
    params, macs = dense_mlp_cost(f["input_dim"], w, d, t, f["num_classes"])
    return dense_mass(d, w, t), params, macs


def _dense_mlp_terms(space):
    # Depth, width and tc interact in every part: one term over all three axes.
    return [Term(("depth", "width", "tc"), lambda cols: _dense_mlp_evaluate(space, cols))]


def _dense_mlp_spec(space, values, seed):
    return DenseMLPSpec(input_dim=values["input_dim"], width=values["width"], depth=values["depth"],
                        tc=values["tc"], num_classes=values["num_classes"], seed=seed)


def _mobilenet_evaluate(space, cols):
    wmul, e, blocks = cols["width_mult"], cols["expansion"], space.per_cell(cols, "blocks")
    f = space.fixed
    params, macs = mobilenet_v2_cost(wmul, blocks, e, f["num_classes"], f["input_size"])
    return mobilenet_v2_mass(wmul, blocks, e), params, macs


def _mobilenet_terms(space):
    """Given (width_mult, expansion), every extra block of stage s adds the same mass,
    params and MACs: one part per stage, its change from one block to ``n``."""
    stages = len(MOBILENET_V2_STAGES)
    f = space.fixed

    def at(cols, blocks):
        wmul, e = cols["width_mult"], cols["expansion"]
        params, macs = mobilenet_v2_cost(wmul, blocks, e, f["num_classes"], f["input_size"])
        return mobilenet_v2_mass(wmul, blocks, e), params, macs

    def base(cols):
        return at(cols, np.ones(cols["width_mult"].shape + (stages,), dtype=np.int64))

    def stage(s):
        def part(cols):
            blocks = np.ones(cols["width_mult"].shape + (stages,), dtype=np.int64)
            m0, p0, c0 = at(cols, blocks)
            blocks[:, s] = cols[f"blocks.{s}"]
            m, p, c = at(cols, blocks)
            return m - m0, p - p0, c - c0
        return Term(("width_mult", "expansion", f"blocks.{s}"), part)

    return [Term(("width_mult", "expansion"), base)] + [stage(s) for s in range(stages)]


def _mobilenet_spec(space, values, seed):
    # MobileNetV2 has no sampled links: the seed only matters for weights.
    return MobileNetV2Spec(width_mult=values["width_mult"], blocks=tuple(values["blocks"]),
                           expansion=values["expansion"], num_classes=values["num_classes"],
                           input_size=values["input_size"])


DENSE_CNN = SpaceDef(
    "dense-cnn",
    (
        Key("num_cells", "int", 3, 1, 8, fixed=True, help="cells (width 16 wm 2^c each)"),
        Key("in_channels", "int", 3, 1, MAX_WIDTH, fixed=True),
        Key("input_size", "int", 32, 1, MAX_INPUT_SIZE, fixed=True, help="image side (--input-size)"),
        Key("num_classes", "int", 10, 1, MAX_WIDTH, fixed=True),
        Key("conv", "choice", "regular,separable", choices=CONV_KINDS),
        Key("wm", "float", "1:4:0.5", 0, 64, positive=True, help="width multiplier"),
        Key("depth", "int", "4:24:4", 1, 1024, per="num_cells", help="layers per cell"),
        Key("tc", "int", _dense_cnn_tc, 0, None, per="num_cells", help="most skip channels per layer"),
    ),
    _dense_cnn_evaluate, _dense_cnn_terms, _dense_cnn_spec,
    "DenseNet-type CNN: conv kind, wm, depth and tc per cell", _dense_cnn_check)

DENSE_MLP = SpaceDef(
    "dense-mlp",
    (
        Key("input_dim", "int", 784, 1, fixed=True),
        Key("num_classes", "int", 10, 1, MAX_WIDTH, fixed=True),
        Key("depth", "int", "4:64", 1, 4096),
        Key("width", "int", "4:64", 1, MAX_WIDTH),  # the spec's bound: every candidate can be built
        Key("tc", "int", "0:256", 0, None),
    ),
    _dense_mlp_evaluate, _dense_mlp_terms, _dense_mlp_spec, "DenseNet-type MLP: depth, width, tc")

MOBILENET_V2 = SpaceDef(
    "mobilenet_v2",
    (
        Key("input_size", "int", 224, 32, MAX_INPUT_SIZE, fixed=True, help="image side (--input-size)"),
        Key("num_classes", "int", 1000, 1, MAX_WIDTH, fixed=True),
        Key("width_mult", "float", "0.35:1.4:0.05", 0, 16, positive=True),
        Key("expansion", "int", 6, 1, 64, help="expansion of stages 2-7"),
        # The first and last stages are the widest-per-MAC; keep them short by default.
        Key("blocks", "int", lambda i: "1:3" if i in (0, len(MOBILENET_V2_STAGES) - 1) else "1:6",
            1, 64, per=len(MOBILENET_V2_STAGES), help="blocks per stage"),
    ),
    _mobilenet_evaluate, _mobilenet_terms, _mobilenet_spec, "MobileNetV2: width multiplier, blocks per stage")

SPACES = {d.name: d for d in (DENSE_CNN, DENSE_MLP, MOBILENET_V2)}
