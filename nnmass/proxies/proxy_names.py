"""The proxy names, torch-free: grids and command lines check ``proxies`` lists with
these before anything imports torch. ``nnmass.proxies`` registers the functions under
the same names (a test checks the two lists are equal)."""
from __future__ import annotations

from typing import Iterable

from ..errors import UsageError
from ..validate import shown

PROXY_NAMES = ("params", "macs", "nn_mass", "synflow", "snip", "grad_norm", "grasp", "fisher", "jacob_cov",
               "nwot", "zen", "zico", "meco")
"""Every proxy, in the registry's order."""


def parse_proxy_names(spec: str | Iterable[str], what: str = "proxies") -> tuple[str, ...]:
    """``"synflow,snip"``, ``"all"`` or a list of names as a tuple of names in the given
    order, without repeats (the rule of ``nnmass.proxies.parse_names``).

    Raises:
        UsageError: an unknown or empty name, or no name at all; one line.
    """
    if isinstance(spec, str):
        items = spec.split(",")
    elif isinstance(spec, (list, tuple)):
        items = list(spec)
    else:
        raise UsageError(f"{what} must be a comma-separated list of names or 'all', got {shown(spec)}")
    out: list[str] = []
    for item in items:
        name = item.strip().lower() if isinstance(item, str) else None
        if name == "all":
            wanted = list(PROXY_NAMES)
        elif name in PROXY_NAMES:
            wanted = [name]
        else:
            problem = "empty proxy name" if name == "" else f"unknown proxy {shown(item)}"
            raise UsageError(f"{what}: {problem}; valid: {', '.join(PROXY_NAMES)} (or all)")
        out.extend(n for n in wanted if n not in out)
    if not out:
        raise UsageError(f"{what}: no proxy named; valid: {', '.join(PROXY_NAMES)} (or all)")
    return tuple(out)
