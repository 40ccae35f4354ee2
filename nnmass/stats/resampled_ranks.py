"""Average ranks of bootstrap resamples by counting, not sorting.

A bootstrap interval of a rank correlation ranks every resample of a column, and over
a whole space (15,625 NB201 points, 1,000 resamples, a dozen scores) those sorts are
most of a study's statistics. A resample only repeats the column's own values, so once
the column's distinct values are numbered in order, a resample's ranks follow from how
often it draws each one: the values drawn below a value, plus half its ties. The ranks
are whole or half numbers, so they equal :func:`~nnmass.stats.fitting.average_ranks` of
the resampled values exactly."""
from __future__ import annotations

import numpy as np


class ResampledRanks:
    """One column, ready to give the average ranks of any resample of its points."""

    def __init__(self, values) -> None:
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or np.isnan(values).any():
            raise ValueError("ResampledRanks needs a 1-D column without nan")
        # np.unique numbers equal values alike, -0.0 and 0.0 included, as a sort's ties do.
        distinct, self.codes = np.unique(values, return_inverse=True)
        self.distinct = distinct.size

    def constant(self, drawn: np.ndarray) -> bool:
        """Whether the resample ``values[drawn]`` holds one value only."""
        codes = self.codes[drawn]
        return bool(codes.min() == codes.max())

    def ranks(self, drawn: np.ndarray) -> np.ndarray:
        """``average_ranks(values[drawn])``: 1-based, ties at their average rank."""
        codes = self.codes[drawn]
        counts = np.bincount(codes, minlength=self.distinct)
        below = np.cumsum(counts) - counts  # resampled points under each value
        return below[codes] + (counts[codes] + 1) / 2.0
