"""NAS-Bench-201 as a :class:`~nnmass.spaces.base.SearchSpace`: the arch strings and
NASLib's ``op_indices`` of :mod:`nnmass.spec.nb201`, the network of
:mod:`nnmass.models.nb201`, on the benchmark's three datasets."""
from __future__ import annotations

import itertools
from typing import Iterator

from ..errors import UsageError
from ..spec.nb201 import EDGES, NASLIB_EDGES, NASLIB_OPS, OPS, format_arch, parse_arch
from ..validate import parse_int, shown
from .base import SearchSpace, Task
from .cell_dag import canonical_ops


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
        """The canonical cell of ``arch`` (:func:`~nnmass.spaces.cell_dag.canonical_ops`):
        edges the output never sees become ``none``, and of the two numberings of
        nodes 1 and 2 (both only when no live edge joins them) the smaller is kept.
        Its network computes what ``arch``'s does at initialization, without the dead
        modules (after training, a conv edge reading zeros adds its BatchNorm's shift)."""
        return canonical_ops(4, EDGES, arch)

    def canonical_key(self, arch) -> str:
        """The arch string of :meth:`canonical`: shared by exactly the architectures
        whose live cells are the same up to numbering, and itself a valid NB201 string."""
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
