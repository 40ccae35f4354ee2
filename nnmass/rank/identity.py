"""What a network is stored under in the score store: what it is, not what it is called.

An NB201 arch string is the network itself. A MODEL string that names a file
(``path/models.py:net``, ``spec.json``) is keyed by the string, the file's resolved
path and a hash of its content, so the same name in another folder, or the file
changed, is a new network. ``torchvision:``/``timm:`` names carry the package's
version. Family names and ``nb201:`` strings are keyed by name: nnmass defines them.
Standard library only.
"""
from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

HASH_DIGITS = 16  # hex digits of sha256 kept: 64 bits tell files apart
_PACKAGES = {"torchvision:": "torchvision", "timm:": "timm"}


def network_key(network: str, space: str) -> str:
    """The store key of ``network`` (see the module docstring)."""
    if space != "model":
        return network
    for prefix, package in _PACKAGES.items():
        if network.startswith(prefix):
            return f"{network} [{package} {_version(package)}]"
    file = _source_file(network)
    if file is None:
        return network
    return f"{network} [{file} sha256:{_digest(file)}]"


def network_keys(networks, space: str) -> dict[str, str]:
    """network -> store key, each file read once."""
    return {n: network_key(n, space) for n in dict.fromkeys(networks)}


def _source_file(network: str) -> str | None:
    """The resolved file a MODEL string reads (a factory file or a spec .json), if it is one."""
    path, sep, factory = network.rpartition(":")
    if not (sep and path.endswith(".py") and factory.isidentifier()):
        path = network if network.endswith(".json") else ""
    if not path or not os.path.isfile(path):
        return None  # building it will say what is wrong
    return os.path.realpath(path)


def _digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:HASH_DIGITS]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
