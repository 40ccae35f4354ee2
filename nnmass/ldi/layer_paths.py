"""The layers of a traced network, as Definition 2 sees them.

A layer is an ``nn.Conv2d`` (any kernel, stride, dilation, groups) or an
``nn.Linear`` whose output flows, each step its only use, through

    [BatchNorm2d (right after a conv)] -> [residual adds] -> [activation],

each part optional. Its Jacobian is taken with respect to the layer's own
input with everything else held fixed (``J_{i,i-1}``): the other operand of
each add is a constant (a ResNet shortcut; the other edges of an NB201 node's
sum), eval-mode BN is a per-channel scale, so ``J = diag(phi'(h)) diag(g) W``
with ``h`` the activation's input.

The path stops without an activation (``D = I``, ``h`` = the layer output) at
a second use of the value (a DenseNet ``conv2`` whose channels several later
layers concatenate) or at the next layer's input operation: a conv or linear
(MobileNetV2's linear bottleneck projection, with or without its residual
add), a pool (a DenseNet transition), a concat, a flatten, a multiplication by
zero (NB201's ``none`` edge reading the value). Anything else there
(an activation whose derivative is not known, say) is refused by name rather
than taken for ``D = I``. A layer whose path ends at the network output without an
activation is the classifier and is not a layer here. A pre-activation network
(DenseNet's BN -> ReLU -> conv) thus pairs each conv with the BN and ReLU its
output feeds: ``conv1 -> norm2 -> relu2`` inside a dense layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.fx
from torch import nn

from ..errors import UsageError
from ..trace.ops import function_op, is_add, is_dropout, is_relu, module_op
from .derivatives import is_known_activation, known_activations

# What may follow a layer that has no activation (D = I): the next layer's input operations.
_NEXT_MODULE_OPS = ("conv", "linear", "pool", "flatten")
_NEXT_FUNCTION_OPS = ("concat", "pool", "flatten", "zero")


@dataclass(frozen=True)
class LayerPath:
    """One layer found in the graph.

    Attributes:
        name: qualified name of the conv or linear module (the report's layer name).
        module: that ``nn.Conv2d`` or ``nn.Linear``.
        norm: the eval-mode ``BatchNorm2d`` right after it, or None.
        activation: the activation its path ends in, or None (``D = I``).
        residual: whether residual adds (other operands fixed) lie on the path.
        reads_input: whether the layer reads the network's input itself.
        input_node: the fx node feeding the layer.
        output_node: the fx node holding ``h``: the activation's input, or the layer output.
    """

    name: str
    module: nn.Module
    norm: nn.BatchNorm2d | None
    activation: nn.Module | None
    residual: bool
    reads_input: bool
    input_node: str
    output_node: str


def trace(model: nn.Module) -> torch.fx.GraphModule:
    """``torch.fx.symbolic_trace(model)``, with a failure reported as a ``UsageError``."""
    try:
        return torch.fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many types; the user needs the model's name and the cause
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot trace {type(model).__name__} with torch.fx: {first}") from exc


def find_layers(gm: torch.fx.GraphModule) -> list[LayerPath]:
    """Every conv/linear layer of ``gm`` in graph order (the classifier left out)."""
    layers, names = [], set()
    for node in gm.graph.nodes:
        if node.op != "call_module":
            continue
        module = gm.get_submodule(node.target)
        if type(module) not in (nn.Conv2d, nn.Linear):
            continue
        if node.target in names:
            raise UsageError(f"module {node.target} is called more than once; its layers would share a name")
        names.add(node.target)
        src = node.args[0] if node.args else None
        if not isinstance(src, torch.fx.Node):
            raise UsageError(f"layer {node.target} does not take a traced tensor as its input")
        norm, act, residual, end = _walk(gm, node)
        if act is None and any(u.op == "output" for u in end.users):
            continue  # the classifier: maps to the logits, not to another layer
        layers.append(LayerPath(node.target, module, norm, act, residual, src.op == "placeholder",
                                src.name, end.name))
    return layers


def _walk(gm: torch.fx.GraphModule, start: torch.fx.Node):
    """Follow ``start``'s sole uses through BN, adds and an activation."""
    norm = act = None
    residual = False
    is_conv = isinstance(gm.get_submodule(start.target), nn.Conv2d)
    end = start
    while len(end.users) == 1:
        nxt = next(iter(end.users))
        mod = gm.get_submodule(nxt.target) if nxt.op == "call_module" else None
        if end is start and is_conv and isinstance(mod, nn.BatchNorm2d):
            norm = mod
        elif _is_residual_add(nxt):  # each add is linear in this operand, the others fixed
            residual = True
        elif mod is not None and is_known_activation(mod):
            act = mod
            break
        elif nxt.op == "call_function" and is_relu(nxt.target):
            act = nn.ReLU()
            break
        elif _is_next_layer(nxt, mod):
            break
        else:  # an unknown activation taken for D = I would be a silent error
            what = (f"module {nxt.target} ({type(mod).__name__})" if mod is not None else
                    f"node {nxt.name} ({getattr(nxt.target, '__name__', nxt.target)})")
            raise UsageError(f"layer {start.target}: its output flows into {what}, which LDI "
                             "cannot classify; supported after a conv/linear: BatchNorm2d, residual adds, "
                             f"an activation ({known_activations()}), or the next layer's conv, pool or concat")
        end = nxt
    return norm, act, residual, end


def _is_next_layer(node: torch.fx.Node, mod: nn.Module | None) -> bool:
    """Where a layer without an activation ends: the next layer's own (linear) input operation."""
    if node.op == "output":
        return True
    if mod is not None:
        # BatchNorm2d only as the next layer's own input norm (pre-activation networks);
        # any other norm after a layer is refused below, not taken for D = I.
        return module_op(mod)[0] in _NEXT_MODULE_OPS or isinstance(mod, nn.BatchNorm2d) or is_dropout(mod)
    return node.op in ("call_function", "call_method") and function_op(
        node.target, node.args, node.kwargs, sum(isinstance(a, torch.fx.Node) for a in node.args)) in _NEXT_FUNCTION_OPS


def _is_residual_add(node: torch.fx.Node) -> bool:
    """``a + b`` of two traced tensors (no ``alpha``, which would scale one operand)."""
    return (node.op == "call_function" and is_add(node.target) and not node.kwargs and len(node.args) == 2
            and all(isinstance(a, torch.fx.Node) for a in node.args))
