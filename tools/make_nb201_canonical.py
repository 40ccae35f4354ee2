"""Regenerate ``nnmass/spaces/data/nb201_canonical.csv``: for each NB201 cell, in the
order ``get_space("nb201").enumerate()`` lists them, the index (in that same order) of
its canonical cell, computed from the definition
(:func:`nnmass.spaces.nb201.computed_canonical_cells`).

Usage: ``python tools/make_nb201_canonical.py [--out CSV]``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnmass.spaces.nb201 import CANONICAL_CSV, SPACE, computed_canonical_cells  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "nnmass" / "spaces" / "data" / CANONICAL_CSV


def lines() -> list[str]:
    """The file's lines: the header, then one index per cell."""
    cells = list(SPACE.enumerate())
    index = {cell: i for i, cell in enumerate(cells)}
    canonical = computed_canonical_cells()
    return ["canonical_index"] + [str(index[canonical[cell]]) for cell in cells]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.write_text("\n".join(lines()) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
