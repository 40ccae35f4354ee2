"""Pieces every subcommand shares: argument types (which call :mod:`nnmass.validate`,
so each mistake gets the same one line everywhere), model arguments, JSON output."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager

from ..table import format_table, human  # noqa: F401  (re-exported for subcommands)
from ..errors import UsageError
from ..validate import (DEVICE_FORMS, MAX_SEED, check_device_available, int_text, max_workers, parse_int, parse_number,
                        workers_problem)


def _argparse_type(check):
    """An argparse ``type`` from a :mod:`nnmass.validate` check called with no name: its
    one line goes to argparse, which names the option."""
    def parse(text: str):
        try:
            return check(text)
        except UsageError as e:
            raise argparse.ArgumentTypeError(str(e).strip()) from None
    return parse


def int_at_least(minimum: int, maximum: int | None = None):
    """An argparse ``type`` for integer options in ``minimum..maximum``: ASCII digits only."""
    return _argparse_type(lambda text: parse_int(text, "", minimum, maximum))


seed_type = int_at_least(0, MAX_SEED)

#: ``--threads``: torch threads per process, at most as many as workers may be (4 per core).
threads_type = int_at_least(1, max_workers())


def workers_type(text: str) -> int:
    """An argparse ``type`` for ``--workers``: 1 up to a few per core of this machine."""
    value = int_text(text)
    if value is None or not 1 <= value <= max_workers():
        raise argparse.ArgumentTypeError(workers_problem(text))
    return value


def number_type(lo=None, hi=None, open_lo=False, open_hi=False):
    """An argparse ``type`` for real options: ASCII decimal text (no ``1_0``, ``nan`` or
    ``inf``) within the bounds."""
    return _argparse_type(lambda text: parse_number(text, "", lo, hi, open_lo, open_hi))


#: An argparse ``type`` for ``--device``: cpu, cuda or cuda:N, available on this machine.
device_type = _argparse_type(lambda text: check_device_available(text, ""))


def add_device_arg(p, what: str = "where it runs") -> None:
    p.add_argument("--device", type=device_type, default="cpu", metavar="DEVICE",
                   help=f"{what}: {DEVICE_FORMS} (default cpu)")


def add_executor_args(p, what: str = "networks are scored") -> None:
    """``--executor local|ray`` and ``--ray-address``, shared by ``sweep``, ``rank``,
    ``search`` and the studies; :func:`executor_cluster` reads them."""
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help=f"where {what}: local processes or a Ray cluster (needs nnmass[ray])")
    p.add_argument("--ray-address", metavar="ADDR", default=None,
                   help="Ray cluster to join (default: start a local instance with --workers CPUs)")


def executor_cluster(args, workers: int | None):
    """The Ray cluster of ``--executor ray`` (a local instance of ``workers`` CPUs
    without ``--ray-address``), or None for local processes; a bad or dead address is
    refused here, in seconds."""
    from ..parallel.ray_tasks import RayCluster, check_executor_args
    cluster = check_executor_args(args.executor, args.ray_address)
    if cluster is not None and cluster.address is None:
        return RayCluster(None, workers)
    return cluster


def add_batched_arg(p) -> None:
    """``--batched/--no-batched``, shared by ``sweep`` and ``study``."""
    p.add_argument("--batched", action=argparse.BooleanOptionalAction, default=None,
                   help="train the seeds of one dense-mlp shape as one batched model (default: on cuda only)")


def add_selection_args(p) -> None:
    """``--sweep``, ``--dataset`` and ``--pool``: which trials of a store ``fit`` and ``report`` use."""
    p.add_argument("--sweep", metavar="NAME", help="only the trials of this sweep")
    p.add_argument("--dataset", metavar="NAME", help="only the trials on this dataset")
    p.add_argument("--pool", action="store_true",
                   help="fit the trials of several sweeps or datasets together (refused otherwise)")


def add_model_args(p, *, required: bool = True, help: str | None = None) -> None:
    """MODEL plus repeatable ``--set KEY=VALUE``."""
    p.add_argument("model", metavar="MODEL", nargs=None if required else "?",
                   help=help or "a family name (see `nnmass zoo`) or a spec .json file")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="set one spec key (once per key; lists are comma-separated)")


def resolve_spec(args):
    """The spec named by ``args.model`` with ``args.sets`` applied."""
    from ..families import parse_sets, spec_for
    return spec_for(args.model, parse_sets(args.sets))


@contextmanager
def model_errors(doing: str):
    """Any error in the block other than a :class:`UsageError` is the model itself failing
    on this input: one line, ``{doing}: {error type}: {its first line}``."""
    try:
        yield
    except UsageError:
        raise
    except Exception as e:
        raise UsageError(f"{doing}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None


def check_data_root(args) -> None:
    """``--data-root`` goes with a data set: refused beside Gaussian inputs, which read none."""
    if args.inputs == "gaussian" and args.data_root is not None:
        raise UsageError("--data-root goes with --inputs DATASET; Gaussian inputs read no files")


def refuse_without(needed: bool, options: tuple[tuple[str, object], ...], one: str, many: str, remedy: str) -> None:
    """Refuse options given (value not None) without the one they act through: one line,
    ``--a and --b <many>; <remedy> or drop them`` (``<one>`` and ``it`` for one)."""
    given = [flag for flag, value in options if value is not None]
    if given and not needed:
        several = len(given) > 1
        raise UsageError(f"{' and '.join(given)} {many if several else one}; {remedy} or drop "
                         f"{'them' if several else 'it'}")


def inputs_data(args):
    """The data set ``--inputs`` names (from ``--data-root``, on ``--device``), or None
    for Gaussian inputs."""
    check_data_root(args)
    if args.inputs == "gaussian":
        return None
    from ..data import load_dataset
    return load_dataset(args.inputs, root=args.data_root, device=args.device)


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, default=_default)
    sys.stdout.write("\n")


def _default(o):
    from ..json_values import plain
    value = plain(o)
    if value is o:
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")
    return value
