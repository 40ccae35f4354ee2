"""Closed-form parameter and MAC counts of every spec. Pure numpy, no torch.

MAC convention: multiply-accumulates of the conv and linear layers for one input
sample (one image, or one flattened vector for an MLP), which is exactly
``torch.utils.flop_counter.FlopCounterMode`` total / 2 on a batch of 1.
BatchNorm, activations, pooling, bias adds, residual adds and concatenations
are not counted. Parameters are ``sum(p.numel())`` of the built module: BN
weights and biases count, BN running statistics are buffers and do not.

The array functions (:func:`dense_mlp_cost`, :func:`dense_cnn_cost`,
:func:`mobilenet_v2_cost`) broadcast over candidate arrays for the design
search; :func:`spec_cost` gives a :class:`Cost` for any single spec.
"""
from .arrays import conv_out, dense_cnn_cost, dense_mlp_cost, make_divisible_array, mobilenet_v2_cost
from .spec_cost import Cost, spec_cost

__all__ = [
    "Cost",
    "spec_cost",
    "dense_mlp_cost",
    "dense_cnn_cost",
    "mobilenet_v2_cost",
    "make_divisible_array",
    "conv_out",
]
