"""The ``nnmass`` command. Each subcommand lives in its own module: its docstring's
second paragraph is the command's description, ``HELP`` its line in ``nnmass --help``,
then ``add_arguments(parser)`` and ``run(args)``. Heavy imports happen inside ``run``,
so ``nnmass --help`` and closed-form commands start fast."""
from __future__ import annotations

import argparse
import re
import sys
from importlib import import_module

from .. import __version__
from ..errors import UsageError
from ..proxies.spill import budget_bytes as spill_budget

# Subcommand modules under nnmass.cli, in the order `nnmass --help` lists them.
SUBCOMMANDS = ("mass", "zoo", "ldi", "bounds", "proxies", "train", "sweep", "export", "fit", "report", "study",
               "rank", "search", "space", "merge", "design")


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage as one line (and exit 2), not a usage dump."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see --help)")


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nnmass", description="NN-Mass: topology, gradient flow and design of deep networks.")
    parser.add_argument("--version", action="version", version=f"nnmass {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in SUBCOMMANDS:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue
            raise
        description = (module.__doc__ or "").partition("\n\n")[2].strip()  # none under python -OO
        p = sub.add_parser(name, help=module.HELP, description=description)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


# A value that starts like a negative number: -3M, -1e5, -.5 (argparse takes these for options).
_NEGATIVE = re.compile(r"-\.?[0-9]")


def attach_negative_values(argv: list[str]) -> list[str]:
    """``--max-params -3M`` -> ``--max-params=-3M``, so the option's own check says what
    is wrong with the value (argparse would say "expected one argument")."""
    out: list[str] = []
    for token in argv:
        prev = out[-1] if out else ""
        if _NEGATIVE.match(token) and prev.startswith("--") and "=" not in prev and prev != "--":
            out[-1] = f"{prev}={token}"
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    try:
        args = parser.parse_args(attach_negative_values(sys.argv[1:] if argv is None else list(argv)))
        spill_budget()  # a bad NNMASS_SPILL_MB is refused before any work starts
        code = args.func(args)
    except UsageError as e:
        print(f"nnmass: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nnmass: interrupted", file=sys.stderr)
        if argv is None:  # the program is ending: collecting torch's objects at exit would take seconds
            import gc
            gc.freeze()
        return 130
    except BrokenPipeError:
        return 0
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
