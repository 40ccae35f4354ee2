"""NN-Mass of a NAS-Bench-201 network from its architecture string, without torch: the
layer graph a trace of :class:`nnmass.models.nb201.NB201Network` gives, written out.
Pure Python.

An NB201 network has a thousand-odd ops; tracing it takes tens of milliseconds, this
takes one. ``NB201Network.layer_graph`` returns it, so :func:`nnmass.measure` skips the
trace, and a test checks the two graphs give the same cells on a sample of
architectures.
"""
from __future__ import annotations

from ..spec.nb201 import EDGES, parse_arch
from .cells import find_cells, graph_report
from .graph import LayerGraph, Node
from .report import MassReport

_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}


class _Writer:
    def __init__(self):
        self.graph = LayerGraph(method="nb201")
        self.adds = 0

    def node(self, name, op, inputs, channels, spatial, **kw) -> str:
        self.graph.add(Node(name, op, inputs=list(inputs), channels=channels, spatial=spatial, **kw))
        return name

    def conv(self, name, src, c_in, c_out, kernel, stride, side) -> tuple[str, int]:
        out_side = (side + 2 * (kernel // 2) - kernel) // stride + 1
        weights = c_out * c_in * kernel * kernel
        self.node(name, "conv", [src], c_out, (out_side, out_side), params=weights,
                  macs=weights * out_side * out_side, target="Conv2d")
        return name, out_side

    def relu_conv_bn(self, name, src, c_in, c_out, kernel, stride, side) -> tuple[str, int]:
        relu = self.node(f"{name}.relu", "act", [src], c_in, (side, side), target="ReLU")
        conv, side = self.conv(f"{name}.conv", relu, c_in, c_out, kernel, stride, side)
        return self.node(f"{name}.bn", "bn", [conv], c_out, (side, side), target="BatchNorm2d"), side

    def add(self, scope, a, b, channels, side) -> str:
        name = f"{scope}.add" if self.adds == 0 else f"{scope}.add_{self.adds}"
        self.adds += 1
        return self.node(name, "add", [a, b], channels, (side, side), target="add")


def nb201_graph(ops: dict, C: int, N: int, num_classes: int, side: int) -> LayerGraph:
    """The layer graph of the NB201 network whose cell has ``ops[(to, from)]`` on each edge.

    Args:
        ops: ``{(to, from): op name}`` for the six edges of :data:`EDGES`.
        C, N, num_classes: the network's first-stage channels, cells per stage, classes.
        side: the input image's side (32 for CIFAR, 16 for ImageNet16-120).
    """
    w = _Writer()
    x = w.node("x", "input", [], 3, (side, side), target="input")
    stem, side = w.conv("stem.conv", x, 3, C, 3, 1, side)
    x = w.node("stem.bn", "bn", [stem], C, (side, side), target="BatchNorm2d")
    index = 0
    for stage, channels in enumerate((C, 2 * C, 4 * C)):
        if stage:
            x, side = _reduction(w, f"cells.{index}", x, channels // 2, channels, side)
            index += 1
        for _ in range(N):
            x = _cell(w, f"cells.{index}", x, ops, channels, side)
            index += 1
    x = w.node("lastact.bn", "bn", [x], 4 * C, (side, side), target="BatchNorm2d")
    x = w.node("lastact.relu", "act", [x], 4 * C, (side, side), target="ReLU")
    x = w.node("pool", "pool", [x], 4 * C, (1, 1), target="AdaptiveAvgPool2d")
    x = w.node("flatten", "flatten", [x], 4 * C, None, target="flatten")
    x = w.node("classifier", "linear", [x], num_classes, None, params=4 * C * num_classes + num_classes,
               macs=4 * C * num_classes, target="Linear")
    w.node("output", "output", [x], None, None)
    return w.graph


def nb201_report(arch: str, C: int = 16, N: int = 5, num_classes: int = 10, side: int = 32,
                 **options) -> MassReport:
    """The :class:`MassReport` of an NB201 network (``options``: those of
    :func:`nnmass.mass.cells.find_cells`). Params are not counted here (0); MACs are."""
    graph = nb201_graph(dict(zip(EDGES, parse_arch(arch))), C, N, num_classes, side)
    return graph_report(graph, find_cells(graph, **options), f"nb201:{arch}", params=0,
                        macs=sum(n.macs for n in graph.nodes), input_shape=(1, 3, side, side))


def _cell(w: _Writer, scope: str, x: str, ops: dict, c: int, side: int) -> str:
    nodes = [x]
    for to in (1, 2, 3):
        terms = [_edge(w, f"{scope}.edges.{to}<-{src}", ops[(to, src)], nodes[src], c, side) for src in range(to)]
        total = terms[0]
        for term in terms[1:]:
            total = w.add(scope, total, term, c, side)
        nodes.append(total)
    return nodes[3]


def _edge(w: _Writer, name: str, op: str, src: str, c: int, side: int) -> str:
    if op == "skip_connect":
        return src
    if op == "none":
        return w.node(f"{name}.mul", "zero", [src], c, (side, side), target="mul")
    if op == "avg_pool_3x3":
        return w.node(name, "pool", [src], c, (side, side), target="AvgPool2d")
    return w.relu_conv_bn(name, src, c, c, _KERNEL[op], 1, side)[0]


def _reduction(w: _Writer, scope: str, x: str, c_in: int, c_out: int, side: int) -> tuple[str, int]:
    pooled = w.node(f"{scope}.shortcut.pool", "pool", [x], c_in, (side // 2, side // 2), target="AvgPool2d")
    shortcut, _ = w.conv(f"{scope}.shortcut.conv", pooled, c_in, c_out, 1, 1, side // 2)
    a, half = w.relu_conv_bn(f"{scope}.conv_a", x, c_in, c_out, 3, 2, side)
    b, _ = w.relu_conv_bn(f"{scope}.conv_b", a, c_out, c_out, 3, 1, half)
    return w.add(scope, shortcut, b, c_out, half), half
