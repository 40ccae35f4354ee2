"""Pieces every subcommand shares: model arguments, tables, JSON output."""
from __future__ import annotations

import argparse
import json
import sys

from ..table import format_table, human  # noqa: F401  (re-exported for subcommands)


def int_at_least(minimum: int):
    """An argparse ``type`` for integer options with a lower bound, so every
    subcommand rejects a bad count or seed with the same one-line message."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value
    return parse


def add_batched_arg(p) -> None:
    """``--batched/--no-batched``, shared by ``sweep`` and ``study``."""
    p.add_argument("--batched", action=argparse.BooleanOptionalAction, default=None,
                   help="train the seeds of one dense-mlp shape as one batched model (default: on cuda only)")


def add_model_args(p, *, required: bool = True) -> None:
    """MODEL plus repeatable ``--set KEY=VALUE``."""
    p.add_argument("model", metavar="MODEL", nargs=None if required else "?",
                   help="a family name (see `nnmass zoo`) or a spec .json file")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set one spec key (once per key; lists are comma-separated)")


def resolve_spec(args):
    """The spec named by ``args.model`` with ``args.sets`` applied."""
    from ..families import parse_sets, spec_for
    return spec_for(args.model, parse_sets(args.sets))


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, default=_default)
    sys.stdout.write("\n")


def _default(o):
    import numpy as np
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
