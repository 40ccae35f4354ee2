"""Model files: a MODEL string and its ``--set`` values in a small JSON file, so a
network chosen by ``nnmass search`` can be handed to ``mass`` and ``proxies`` as a file.

Format: ``{"model": "nb201:|nor_conv_3x3~0|+|...|", "set": {"task": "cifar10"}}``.
A spec file (``nnmass design --out``) has a ``family`` key instead and is read as a spec.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import UsageError
from ..validate import shown


def read_model_file(path: str) -> tuple[str, dict] | None:
    """``(model, sets)`` of a model file, or None if ``path`` is not a ``.json`` file
    holding a ``model`` key (a spec file, say)."""
    if not (isinstance(path, str) and path.endswith(".json") and Path(path).is_file()):
        return None
    from ..files.reading import read_text_file
    try:
        data = json.loads(read_text_file(path, "model file"))
    except (ValueError, RecursionError):
        return None  # the spec reader says what is wrong with it
    if not isinstance(data, dict) or "model" not in data:
        return None
    model, sets = data["model"], data.get("set", {})
    if not isinstance(model, str) or not isinstance(sets, dict) or model.endswith(".json"):
        raise UsageError(f"model file {shown(path)}: 'model' must be a MODEL string and 'set' an object of "
                         "KEY: VALUE")
    return model, {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in sets.items()}


def write_model_file(path: str, model: str, sets: dict) -> None:
    """Write a model file, replacing ``path`` in one step."""
    from ..files.writing import write_text_atomically
    write_text_atomically(path, "--out", json.dumps({"model": model, "set": sets}, indent=2) + "\n")
