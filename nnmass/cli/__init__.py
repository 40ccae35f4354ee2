"""The ``nnmass`` command. Each subcommand lives in its own module with
``add_parser(subparsers)``; heavy imports happen inside the handlers, so
``nnmass --help`` and closed-form commands start fast."""
from __future__ import annotations

import argparse
import sys
from importlib import import_module

from ..errors import UsageError

# Subcommand modules under nnmass.cli, in the order `nnmass --help` lists them.
SUBCOMMANDS = ("mass", "zoo", "ldi", "bounds", "proxies", "train", "sweep", "export", "fit", "report", "study",
               "rank", "design")


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line (and exit 2), not a usage dump."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see --help)")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nnmass", description="NN-Mass: topology, gradient flow and design of deep networks.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in SUBCOMMANDS:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
        code = args.func(args)
    except UsageError as e:
        print(f"nnmass: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nnmass: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
