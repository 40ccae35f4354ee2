"""A plain layer graph of a traced network: pure data, no torch.

The tracers in :mod:`nnmass.trace` turn a ``torch.nn.Module`` into a
:class:`LayerGraph`; :mod:`nnmass.mass.cells` finds the NN-Mass cells in it. Keeping the
graph free of torch lets the cell rules be tested on graphs written by hand and
lets a traced graph be saved as JSON.

Op kinds (``Node.op``):

* ``input``, ``output``: the network's input tensors and its result.
* ``conv``, ``linear``: layers with weights (``groups`` marks grouped convolutions).
* ``bn``, ``act``: channel-preserving elementwise ops (norms, activations,
  dropout, scaling by a constant).
* ``pool``: spatial pooling or resampling; keeps the channels.
* ``add``: elementwise sum of feature tensors.
* ``mul``: elementwise product of feature tensors (a gate, when one is per-channel).
* ``zero``: a product with the constant zero: carries nothing.
* ``concat``: concatenation along the channel dimension.
* ``index``: keeps some channels of its input (``keep`` lists them, in order).
* ``flatten``: reshapes spatial positions into features.
* ``other``: anything else (its name is reported if it merges tensors).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

OP_KINDS = ("input", "conv", "linear", "bn", "act", "pool", "add", "mul", "zero", "concat", "index", "flatten",
            "output", "other")


@dataclass
class Node:
    """One operation of the traced network.

    Attributes:
        name: unique name (the module path for module calls, e.g. ``layer1.0.conv1``).
        op: one of :data:`OP_KINDS`.
        inputs: names of the nodes whose feature tensors this op reads, in order
            (parameters and constants are not listed).
        channels: channels of the output (features of a linear layer's output).
        spatial: spatial size of the output, ``None`` for ``(batch, features)`` tensors.
        groups: convolution groups (1 otherwise).
        keep: for ``index`` nodes, the input channels kept, in output order.
        params: parameters owned by this op (weights and biases).
        macs: multiply-accumulates of this op for the whole traced batch.
        target: what was called (module class or function name), for messages.
    """

    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    channels: int | None = None
    spatial: tuple[int, ...] | None = None
    groups: int = 1
    keep: list[int] | None = None
    params: int = 0
    macs: int = 0
    target: str = ""

    def __post_init__(self):
        if self.op not in OP_KINDS:
            raise ValueError(f"op must be one of {', '.join(OP_KINDS)}, got {self.op!r}")
        if self.spatial is not None:
            self.spatial = tuple(int(s) for s in self.spatial)


@dataclass
class LayerGraph:
    """Nodes in execution order (every node's inputs come before it).

    Attributes:
        nodes: the operations.
        method: how the graph was obtained (``"fx"`` or ``"record"``).
    """

    nodes: list[Node] = field(default_factory=list)
    method: str = ""

    def __post_init__(self):
        self._by_name = {}
        for n in self.nodes:
            self._index(n)

    def _index(self, n: Node) -> None:
        if n.name in self._by_name:
            raise ValueError(f"duplicate node name {n.name!r}")
        missing = [i for i in n.inputs if i not in self._by_name]
        if missing:
            raise ValueError(f"node {n.name!r} reads {missing[0]!r} before it is defined")
        self._by_name[n.name] = n

    def add(self, node: Node) -> Node:
        self._index(node)
        self.nodes.append(node)
        return node

    def __getitem__(self, name: str) -> Node:
        return self._by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.nodes)

    def readers(self) -> dict[str, list[str]]:
        """name -> names of the nodes that read it (once per read)."""
        out: dict[str, list[str]] = {n.name: [] for n in self.nodes}
        for n in self.nodes:
            for i in n.inputs:
                out[i].append(n.name)
        return out

    def count(self, *ops: str) -> int:
        return sum(n.op in ops for n in self.nodes)

    def to_dict(self) -> dict:
        return {"method": self.method, "nodes": [_node_dict(n) for n in self.nodes]}

    @classmethod
    def from_dict(cls, d: dict) -> "LayerGraph":
        return cls([Node(**n) for n in d["nodes"]], d.get("method", ""))


def _node_dict(n: Node) -> dict:
    d = asdict(n)
    if d["spatial"] is not None:
        d["spatial"] = list(d["spatial"])
    return d
