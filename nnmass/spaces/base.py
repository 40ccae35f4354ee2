"""What every search space of a NAS benchmark gives: its tasks, the architecture
strings it publishes (read and written), the arguments of its network, and the
draws a search needs.

A space is torch-free: reading, writing, enumerating, sampling and mutating
architectures import no torch, so tables and searches are checked before any model
exists. The networks are built one layer up, in :mod:`nnmass.models.space_networks`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Hashable, Iterator, Mapping

from ..errors import UsageError
from ..validate import shown


@dataclass(frozen=True)
class Task:
    """One task of a benchmark: what its network outputs and reads.

    Attributes:
        name: the benchmark's name of the task (``cifar10``, ``class_scene``, ...).
        num_classes: the width of the network's output (logits, or channels of a dense head).
        input_shape: one sample's shape, ``(C, H, W)``.
        metric: the benchmark's validation metric, in words.
        higher_is_better: whether a larger metric is better (a loss is not).
    """

    name: str
    num_classes: int
    input_shape: tuple[int, ...]
    metric: str = "validation accuracy (%)"
    higher_is_better: bool = True


class SearchSpace(ABC):
    """A benchmark's space. Subclasses set the class attributes and implement the
    abstract methods. Every method is torch-free: the network itself is built in
    :mod:`nnmass.models.space_networks` from :meth:`network_args`.

    An architecture (``arch``) is any hashable value the subclass chooses; users only
    see its strings: :meth:`parse` reads every form the benchmark or NASLib publishes,
    :meth:`format` writes the one form nnmass stores.
    """

    name: ClassVar[str]
    prefixes: ClassVar[tuple[str, ...]]  # MODEL-string prefixes, without the colon
    tasks: ClassVar[Mapping[str, Task]]
    default_task: ClassVar[str]
    set_keys: ClassVar[tuple[str, ...]] = ()  # the --set keys network_args() takes besides ``task``

    # -- strings ------------------------------------------------------------------
    @abstractmethod
    def parse(self, text: str) -> Hashable:
        """The architecture ``text`` names, in any form of the space.

        Raises:
            UsageError: one line saying what is wrong (a wrong op, a cycle, too many
                edges, a disconnected output, ...) and the valid form.
        """

    @abstractmethod
    def format(self, arch: Hashable) -> str:
        """The canonical string of ``arch``: ``parse(format(a)) == a``."""

    @abstractmethod
    def naslib_key(self, arch: Hashable) -> str:
        """NASLib's encoding of ``arch``, written as the keys of its zero-cost JSON files."""

    def canonical_key(self, arch: Hashable) -> str:
        """A string shared by exactly the architectures that compute the same function
        (up to relabelling). The default is :meth:`format`: every string its own."""
        return self.format(arch)

    # -- networks -----------------------------------------------------------------
    def task(self, name: str | None) -> Task:
        """The task ``name`` (the default task for None)."""
        name = self.default_task if name is None else name
        if name not in self.tasks:
            raise UsageError(f"unknown {self.name} task {shown(name)}; valid: {', '.join(self.tasks)}")
        return self.tasks[name]

    @abstractmethod
    def network_args(self, arch: Hashable, task: str | None = None,
                     sets: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The keyword arguments of this space's network builder in
        :mod:`nnmass.models.space_networks`, for ``arch`` on ``task`` as the benchmark
        trained it, with the ``--set`` values checked and typed.

        Args:
            sets: ``--set`` values, keys among :attr:`set_keys` (text or typed).

        Raises:
            UsageError: an unknown key or a bad value, one line.
        """

    def check_sets(self, sets: Mapping[str, Any] | None) -> dict:
        """``sets`` without ``task``, refused in one line if a key is not in :attr:`set_keys`."""
        sets = dict(sets or {})
        sets.pop("task", None)
        unknown = sorted(set(sets) - set(self.set_keys))
        if unknown:
            valid = " ".join(("task",) + tuple(self.set_keys))
            raise UsageError(f"unknown key(s) {shown(', '.join(unknown))[1:-1]} for {self.prefixes[0]}:ARCH; "
                             f"valid keys: {valid}")
        return sets

    def check_settings(self, task: str | None, sets: Mapping[str, Any] | None) -> None:
        """Refuse a bad task or ``--set`` key or value, in one line, before any network is
        scored: :meth:`network_args` checks them on one architecture drawn with seed 0."""
        import numpy as np
        self.network_args(self.sample(np.random.default_rng(0)), task, sets)

    # -- search -------------------------------------------------------------------
    def size(self) -> int | None:
        """The number of architectures, or None where the space is too large to list."""
        return None

    def enumerate(self) -> Iterator[Hashable]:
        """Every architecture, in a fixed order (only where :meth:`size` is not None)."""
        raise UsageError(f"the {self.name} space is too large to enumerate; sample it instead")

    @abstractmethod
    def sample(self, rng) -> Hashable:
        """One architecture drawn uniformly with ``rng`` (a ``numpy.random.Generator``)."""

    @abstractmethod
    def mutate(self, arch: Hashable, rng) -> Hashable:
        """A neighbour of ``arch`` (one op or one edge changed), drawn with ``rng``; always
        a valid architecture different from ``arch``."""
