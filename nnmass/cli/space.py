"""``nnmass space SPACE``: the size of a NAS benchmark's search space and its unique networks.

Reports a space's number of architectures and how many of them are unique: distinct
canonical keys, where architectures that compute the same function up to renumbering
the cell's nodes share one key (for NB201, edges the output never sees are dropped
and nodes that only pass a tensor on through a skip are merged into their sources
first). Also its tasks (classes, input size, metric) and model-string prefixes. With
--list, streams every architecture and its canonical key, one per line; a space too
large to list (NB101, DARTS) is reported with its known size and cannot be listed.
"""
from __future__ import annotations

import json
import sys

from .common import print_json

HELP = "size, unique networks and tasks of a NAS benchmark's search space"

KNOWN_SIZES = {
    "nb101": (423624, 423624, "too large to list here: NAS-Bench-101 counts 423,624 cells, each unique up to "
                              "isomorphism by construction"),
    "nb301": (None, None, "too large to count: the DARTS space holds about 10^18 cells"),
    "darts": (None, None, "too large to count: the DARTS space holds about 10^18 cells"),
}
"""Space name -> (architectures, unique, note) for spaces that cannot be enumerated."""


def add_arguments(p) -> None:
    from ..spaces import space_names

    p.add_argument("space", metavar="SPACE", help="one of " + ", ".join(space_names()))
    p.add_argument("--json", action="store_true", help="print JSON (with --list: one object per line)")
    p.add_argument("--list", action="store_true",
                   help="stream every architecture with its canonical key (enumerable spaces only)")
    p.add_argument("--task", default=None, metavar="T", help="report this task only (default: every task)")


def space_report(space, task: str | None = None) -> dict:
    """``{"space", "architectures", "unique", "enumerable", "tasks", "prefixes"}``, and a
    ``note`` where the space cannot be enumerated."""
    tasks = [space.task(task)] if task is not None else list(space.tasks.values())
    size = space.size()
    report = {"space": space.name, "architectures": size, "unique": None, "enumerable": size is not None}
    if size is not None:
        report["unique"] = len({space.canonical_key(arch) for arch in space.enumerate()})
    else:
        known, unique, note = KNOWN_SIZES.get(space.name, (None, None, "too large to list"))
        report.update(architectures=known, unique=unique, note=note)
    report["tasks"] = [{"name": t.name, "num_classes": t.num_classes, "input_shape": list(t.input_shape),
                        "metric": t.metric, "higher_is_better": t.higher_is_better} for t in tasks]
    report["prefixes"] = [f"{p}:ARCH" for p in space.prefixes]
    return report


def _count(value) -> str:
    return "unknown" if value is None else f"{value:,}"


def print_report(report: dict) -> None:
    print(f"space: {report['space']}")
    print(f"architectures: {_count(report['architectures'])}")
    print(f"unique: {_count(report['unique'])} (distinct canonical keys)")
    if "note" in report:
        print(f"note: {report['note']}")
    for t in report["tasks"]:
        shape = "x".join(str(v) for v in t["input_shape"])
        direction = "higher" if t["higher_is_better"] else "lower"
        print(f"task {t['name']}: {t['num_classes']} outputs, input {shape}, {t['metric']} ({direction} is better)")
    print("model strings: " + ", ".join(report["prefixes"]))


def list_space(space, as_json: bool) -> None:
    """One line per architecture, written as it is made (a reader such as ``head``
    sees the first lines at once)."""
    from ..errors import UsageError

    if space.size() is None:
        known, _, _ = KNOWN_SIZES.get(space.name, (None, None, None))
        size = f" ({known:,} architectures)" if known else ""
        raise UsageError(f"the {space.name} space is too large to list{size}; --list needs a space "
                         "whose architectures can be enumerated, such as nb201")
    out = sys.stdout
    for arch in space.enumerate():
        text, key = space.format(arch), space.canonical_key(arch)
        out.write(json.dumps({"arch": text, "canonical": key}) + "\n" if as_json else f"{text}\t{key}\n")
        out.flush()


def run(args) -> int:
    from ..spaces import get_space

    space = get_space(args.space)
    if args.task is not None:
        space.task(args.task)  # an unknown task: one line before anything is written
    if args.list:
        list_space(space, args.json)
        return 0
    report = space_report(space, args.task)
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0
