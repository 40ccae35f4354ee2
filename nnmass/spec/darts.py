"""The cells of the DARTS space (NAS-Bench-301): its ops and the shape of a cell, shared
by the space (:mod:`nnmass.spaces.darts`) and the network (:mod:`nnmass.models.darts`).
Pure Python."""
from __future__ import annotations

OPS = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
       "dil_conv_3x3", "dil_conv_5x5")
"""NB301's ops, in NASLib's op-id order (``conversions.convert_compact_to_genotype``).
NB301 has no ``none`` op."""

NODES = 4
"""Intermediate nodes per cell; node ``2 + k`` reads states ``0 .. k + 1``."""

CONCAT = (2, 3, 4, 5)
"""The nodes every NB301 cell concatenates into its output."""
