"""NAS-Bench-201 as a :class:`~nnmass.spaces.base.SearchSpace`: the arch strings and
NASLib's ``op_indices`` of :mod:`nnmass.spec.nb201`, the network of
:mod:`nnmass.models.nb201`, on the benchmark's three datasets."""
from __future__ import annotations

import functools
import itertools
from importlib import resources
from typing import Iterator

from ..errors import UsageError
from ..spec.nb201 import EDGES, NASLIB_EDGES, NASLIB_OPS, OPS, format_arch, parse_arch
from ..validate import parse_int, shown
from .base import SearchSpace, Task
from .cell_dag import alias_form, live_edges
from .cell_wiring import wiring_classes


class NB201Space(SearchSpace):
    """NAS-Bench-201 (Dong & Yang, ICLR 2020): one cell of 6 edges, 5 ops each."""

    name = "nb201"
    prefixes = ("nb201",)
    tasks = {"cifar10": Task("cifar10", 10, (3, 32, 32)),
             "cifar100": Task("cifar100", 100, (3, 32, 32)),
             "ImageNet16-120": Task("ImageNet16-120", 120, (3, 16, 16))}
    default_task = "cifar10"
    set_keys = ("num_classes",)

    def parse(self, text: str) -> tuple[str, ...]:
        """An arch string ``|op~0|+|...|``, or NASLib's ``op_indices`` as ``(0, 2, 3, 2, 3, 1)``."""
        stripped = text.strip() if isinstance(text, str) else text
        if isinstance(stripped, str) and stripped.startswith("("):
            return parse_arch(_arch_of_indices(stripped))
        return parse_arch(text)

    def format(self, arch) -> str:
        return format_arch(arch)

    def canonical(self, arch) -> tuple[str, ...]:
        """The canonical cell of ``arch``: of every NB201 cell with the same module
        wiring (:mod:`~nnmass.spaces.cell_wiring`: the live edges' modules, each reading
        the same sum of module outputs and input copies, skips expanded, up to a
        bijection of modules), the smallest op tuple in ``EDGES`` order (op names
        compared as strings) among those with no dead edge (every edge the output does
        not see is ``none``). Its network computes what ``arch``'s does at
        initialization, with the same live modules on the same tensors and no dead
        modules (after training, a conv edge reading zeros adds its BatchNorm's shift)."""
        return _canonical_cells()[tuple(arch)]

    def canonical_key(self, arch) -> str:
        """The arch string of :meth:`canonical`: shared by the architectures with the same
        module wiring, which compute the same thing with the same modules, and itself a
        valid NB201 string."""
        return format_arch(self.canonical(arch))

    def naslib_key(self, arch) -> str:
        by_edge = dict(zip(EDGES, arch))
        return "(" + ", ".join(str(NASLIB_OPS.index(by_edge[e])) for e in NASLIB_EDGES) + ")"

    def network_args(self, arch, task=None, sets=None) -> dict:
        """``build_nb201``'s arguments: the arch string and the task's classes."""
        sets = self.check_sets(sets)
        classes = self.task(task).num_classes
        if "num_classes" in sets:
            classes = parse_int(sets["num_classes"], "num_classes", 1, 4096)
        return {"arch": self.format(arch), "num_classes": classes}

    def size(self) -> int:
        return len(OPS) ** len(EDGES)

    def enumerate(self) -> Iterator[tuple[str, ...]]:
        return iter(itertools.product(OPS, repeat=len(EDGES)))

    def sample(self, rng) -> tuple[str, ...]:
        return tuple(OPS[int(i)] for i in rng.integers(0, len(OPS), len(EDGES)))

    def mutate(self, arch, rng) -> tuple[str, ...]:
        edge = int(rng.integers(len(EDGES)))
        others = [op for op in OPS if op != arch[edge]]
        out = list(arch)
        out[edge] = others[int(rng.integers(len(others)))]
        return tuple(out)


CANONICAL_CSV = "nb201_canonical.csv"
"""Package data: for each cell, in ``enumerate()`` order, the index of its canonical cell."""


@functools.lru_cache(maxsize=1)
def _canonical_cells() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Every NB201 cell -> its canonical cell (:meth:`NB201Space.canonical`), read once per
    process from ``data/nb201_canonical.csv``: milliseconds, against 1-2 s to compute it
    (:func:`computed_canonical_cells`, which wrote the file; a test checks they agree)."""
    cells = list(SPACE.enumerate())  # the file's order
    with resources.files(__package__).joinpath("data", CANONICAL_CSV).open() as f:
        header, *lines = f.read().split()
    if header != "canonical_index" or len(lines) != len(cells):
        raise RuntimeError(f"{CANONICAL_CSV} is damaged: reinstall nnmass or run tools/make_nb201_canonical.py")
    return {ops: cells[int(i)] for ops, i in zip(cells, lines)}


def computed_canonical_cells() -> dict[tuple[str, ...], tuple[str, ...]]:
    """:meth:`NB201Space.canonical` of every cell, computed from the definition: alias
    forms first (6,985), then those whose module wirings match are merged (5,425)."""
    cells = list(SPACE.enumerate())
    aliases = [alias_form(4, EDGES, ops) for ops in cells]
    merged = wiring_classes(aliases)
    forms = [merged[form] for form in aliases]
    smallest: dict = {}
    for ops, form in zip(cells, forms):
        no_dead_edge = len(live_edges(4, EDGES, ops)) == sum(op != "none" for op in ops)
        if no_dead_edge and (form not in smallest or ops < smallest[form]):
            smallest[form] = ops
    return {ops: smallest[form] for ops, form in zip(cells, forms)}


def _arch_of_indices(text: str) -> str:
    from ..spec.nb201 import arch_from_op_indices
    body = text[1:-1] if text.endswith(")") else None
    try:
        values = tuple(int(v) for v in body.split(",")) if body is not None else None
    except ValueError:
        values = None
    if values is None:
        raise UsageError(f"bad NASLib NB201 op_indices {shown(text)}: write six op ids as (0, 2, 3, 2, 3, 1)")
    return arch_from_op_indices(values)


SPACE = NB201Space()
