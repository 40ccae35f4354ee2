"""The proxy names and the one parser of name lists, torch-free: grids and command
lines check ``proxies`` lists with these before anything imports torch.
``nnmass.proxies`` registers the functions under the same names, in this order (a test
checks the two lists are equal), and its ``parse_names`` and ``get`` call this parser."""
from __future__ import annotations

from typing import Iterable

from ..errors import UsageError
from ..validate import shown

PROXY_NAMES = ("params", "macs", "nn_mass", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacob_cov",
               "nwot", "zen", "zico", "meco")
"""Every proxy, in the registry's order."""

MIN_BATCH = {"jacob_cov": 2, "nwot": 2, "zico": 2}
"""Samples a proxy needs at least, where more than 1: jacob_cov and nwot compare
samples with each other (one sample gives a constant), zico splits the batch in two."""


def check_batch_for(names: Iterable[str], batch: int, what: str = "--batch") -> None:
    """Refuse a batch smaller than one of the named proxies needs (one line naming them).

    Raises:
        UsageError: ``batch`` below :data:`MIN_BATCH` of a named proxy.
    """
    short = [n for n in names if batch < MIN_BATCH.get(n, 1)]
    if short:
        need = max(MIN_BATCH[n] for n in short)
        raise UsageError(f"{what} {batch} is too small for {', '.join(short)}: they need at least {need} "
                         f"samples; use a batch of {need} or more, or leave them out")


def list_items(spec, what: str) -> list:
    """The items of ``"a,b,c"`` or of a list: what every name list of nnmass starts from.

    Raises:
        UsageError: neither a string nor a list, one line.
    """
    if isinstance(spec, str):
        return spec.split(",")
    if isinstance(spec, (list, tuple)):
        return list(spec)
    raise UsageError(f"{what} must be a comma-separated list of names or 'all', got {shown(spec)}")


def parse_proxy_names(spec: str | Iterable[str], what: str = "proxies",
                      valid: tuple[str, ...] = PROXY_NAMES) -> tuple[str, ...]:
    """``"synflow,snip"``, ``"all"`` or a list of names as a tuple of names in the given
    order, without repeats; ``valid`` is every name, in the order ``"all"`` gives (the
    registry passes its own, which may hold proxies registered by the user).

    Raises:
        UsageError: an unknown or empty name, or no name at all; one line.
    """
    items = list_items(spec, what)
    out: list[str] = []
    for item in items:
        name = item.strip().lower() if isinstance(item, str) else None
        if name == "all":
            wanted = list(valid)
        elif name in valid:
            wanted = [name]
        else:
            raise unknown_proxy(item, what, valid)
        out.extend(n for n in wanted if n not in out)
    if not out:
        raise UsageError(f"{what}: no proxy named; valid: {', '.join(valid)} (or all)")
    return tuple(out)


MIN_BATCH = {"jacob_cov": 2, "nwot": 2, "zico": 2}
"""The proxies that compare samples, and the fewest they need (every other needs 1):
the registry's ``Proxy.min_batch``, torch-free for grid checks (a test checks they agree)."""


def unknown_proxy(item: object, what: str = "proxies", valid: tuple[str, ...] = PROXY_NAMES) -> UsageError:
    """The one-line error for a name that is not among ``valid`` (or is empty)."""
    problem = "empty proxy name" if isinstance(item, str) and item.strip() == "" else f"unknown proxy {shown(item)}"
    return UsageError(f"{what}: {problem}; valid: {', '.join(valid)} (or all)")
