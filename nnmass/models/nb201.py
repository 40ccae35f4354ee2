"""NAS-Bench-201 networks, built exactly as the benchmark defines them.

NAS-Bench-201 (Dong & Yang, ICLR 2020) fixes one macro skeleton and varies a
single cell: a 4-node DAG whose six edges each carry one of five ops. An
architecture is written ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: the k-th
group lists node k's inputs ``op~j`` from nodes ``j = 0..k-1``. NASLib encodes
the same cell as six op ids in a different edge order (``op_indices``); both
forms convert here so published NASLib scores can be joined to built networks.

The skeleton (reference: AutoDL-Projects ``xautodl/models/cell_infers/``):
stem conv3x3 + BN, then three stages of ``N`` cells at ``C``, ``2C``, ``4C``
channels joined by ResNet basic blocks of stride 2, then BN, ReLU, global
average pooling and a linear classifier. The parameter count equals the
benchmark's for every architecture, so cost metrics computed on these
modules are comparable with published NB201 numbers.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ..errors import UsageError
from ..validate import check_int, shown

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The five NB201 operations."""

EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""Cell edges ``(to, from)`` in the order the arch string lists them."""

NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
"""NASLib's op id -> NB201 op name."""

NASLIB_EDGES = ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
"""Cell edges ``(to, from)`` in NASLib's ``op_indices`` order."""

_FORM = ("|op~0|+|op~0|op~1|+|op~0|op~1|op~2| with op one of " + ", ".join(OPS))


def parse_arch(text: str) -> tuple[str, ...]:
    """Validate an NB201 arch string and return its six ops in ``EDGES`` order.

    Raises:
        UsageError: ``text`` is not a well-formed NB201 architecture string; the
            one-line message names the first problem and the valid form.
    """
    if not isinstance(text, str):
        raise UsageError(f"NB201 arch must be a string, got {type(text).__name__}; valid form: {_FORM}")
    stripped = text.strip()

    def bad(problem: str) -> UsageError:
        return UsageError(f"bad NB201 arch {shown(stripped)}: {problem}; valid form: {_FORM}")

    if len(stripped) > 200:
        raise bad(f"{len(stripped)} characters, longer than any NB201 arch")
    groups = stripped.split("+")
    if len(groups) != 3:
        raise bad(f"{len(groups)} node group(s) separated by '+', needs 3")
    ops = []
    for node, group in enumerate(groups, start=1):
        if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
            raise bad(f"node {node} group {shown(group)} must start and end with '|'")
        edges = group[1:-1].split("|")
        if len(edges) != node:
            raise bad(f"node {node} has {len(edges)} input(s), needs {node}")
        for source, edge in enumerate(edges):
            op, tilde, index = edge.partition("~")
            if not tilde:
                raise bad(f"edge {shown(edge)} of node {node} is not op~index")
            if op not in OPS:
                raise bad(f"unknown op {shown(op)} on node {node}")
            if index != str(source):
                raise bad(f"input {source + 1} of node {node} reads node {shown(index)}, needs {source}")
            ops.append(op)
    return tuple(ops)


def format_arch(ops) -> str:
    """The NB201 arch string of six op names given in ``EDGES`` order."""
    o = tuple(ops)
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def arch_from_op_indices(indices) -> str:
    """The NB201 arch string of a NASLib ``op_indices`` sequence of six ints.

    Raises:
        UsageError: not six op ids in ``0..4``.
    """
    values = tuple(indices) if isinstance(indices, (list, tuple)) else None
    if (values is None or len(values) != len(NASLIB_EDGES)
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(NASLIB_OPS)
                       for v in values)):
        raise UsageError(f"bad NASLib op_indices {shown(indices)}: needs six ints in 0..4 "
                         "(0 skip_connect, 1 none, 2 nor_conv_3x3, 3 nor_conv_1x1, 4 avg_pool_3x3)")
    by_edge = {edge: NASLIB_OPS[v] for edge, v in zip(NASLIB_EDGES, values)}
    return format_arch(by_edge[edge] for edge in EDGES)


def op_indices_from_arch(text: str) -> tuple[int, ...]:
    """NASLib's ``op_indices`` of an NB201 arch string."""
    by_edge = dict(zip(EDGES, parse_arch(text)))
    return tuple(NASLIB_OPS.index(by_edge[edge]) for edge in NASLIB_EDGES)


class Zero(nn.Module):
    """The ``none`` op. Multiplies by zero, as NB201 does, rather than making a new
    tensor, so the edge stays in the autograd and traced graphs (and NaN/inf
    inputs propagate exactly as in the benchmark)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class ReLUConvBN(nn.Module):
    """ReLU, bias-free conv, BN (affine, running stats): NB201's conv op."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(self.relu(x)))


def make_op(name: str, channels: int) -> nn.Module:
    """One cell edge op; inside a cell every op keeps channels and resolution."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise UsageError(f"unknown NB201 op {shown(name)}; valid: {', '.join(OPS)}")


class Cell(nn.Module):
    """The searched cell: node ``i`` sums ``op_{i<-j}(node j)`` over ``j < i``; the
    output is node 3. All six edges exist, ``none`` ones included, as in NB201."""

    def __init__(self, ops, channels: int):
        super().__init__()
        self.edges = nn.ModuleDict(
            (f"{to}<-{src}", make_op(op, channels)) for (to, src), op in zip(EDGES, ops))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for to in range(1, 4):
            total = self.edges[f"{to}<-0"](nodes[0])
            for src in range(1, to):
                total = total + self.edges[f"{to}<-{src}"](nodes[src])
            nodes.append(total)
        return nodes[3]


class ReductionBlock(nn.Module):
    """NB201's stage transition, a ResNet basic block of stride 2. The shortcut is
    average pooling then a 1x1 conv with no BN, as in the benchmark."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(OrderedDict(
            pool=nn.AvgPool2d(kernel_size=2, stride=2),
            conv=nn.Conv2d(c_in, c_out, 1, bias=False)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """NB201's macro skeleton around one cell type. ``cells`` is indexed as in the
    benchmark: ``N`` cells, a reduction block, ``N`` cells, a reduction block,
    ``N`` cells. ``forward`` returns the logits only (NB201's also returns the
    pooled features)."""

    def __init__(self, arch: str, num_classes: int = 10, C: int = 16, N: int = 5):
        super().__init__()
        ops = parse_arch(arch)
        self.arch = format_arch(ops)
        self.stem = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(3, C, 3, padding=1, bias=False), bn=nn.BatchNorm2d(C)))
        cells = []
        for stage, channels in enumerate((C, 2 * C, 4 * C)):
            if stage:
                cells.append(ReductionBlock(channels // 2, channels))
            cells.extend(Cell(ops, channels) for _ in range(N))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(OrderedDict(bn=nn.BatchNorm2d(4 * C), relu=nn.ReLU()))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * C, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        x = self.pool(self.lastact(x))
        return self.classifier(torch.flatten(x, 1))


def build_nb201(arch: str, num_classes: int = 10, C: int = 16, N: int = 5) -> NB201Network:
    """Build the NB201 network of ``arch``; the defaults are the benchmark's.

    Args:
        arch: NB201 arch string, e.g. ``|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|...|``.
        num_classes: 10 for CIFAR-10, 100 for CIFAR-100, 120 for ImageNet16-120.
        C: channels of the first stage (the later stages have ``2C`` and ``4C``).
        N: cells per stage.

    Raises:
        UsageError: a bad arch string or a non-positive size.
    """
    for name, value in (("num_classes", num_classes), ("C", C), ("N", N)):
        check_int(f"NB201 {name}", value, 1, 4096)
    return NB201Network(arch, num_classes=num_classes, C=C, N=N)


__all__ = ["OPS", "EDGES", "NASLIB_OPS", "NASLIB_EDGES", "parse_arch", "format_arch",
           "arch_from_op_indices", "op_indices_from_arch", "build_nb201", "NB201Network",
           "Cell", "ReductionBlock", "ReLUConvBN", "Zero"]
