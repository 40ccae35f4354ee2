"""`nnmass report STORE --out DIR`: fit table, figures and counts as Markdown and HTML.

Write report.md and/or report.html with the fit table, the paper's numbers beside ours,
figures like the paper's Fig. 3-5, and trial counts.
"""
from __future__ import annotations

from ..validate import MAX_BOOTSTRAP
from .common import add_selection_args, int_at_least, seed_type


HELP = "write a report (fit table, figures) of a results store"


def add_arguments(p) -> None:
    p.add_argument("store", metavar="STORE", help="a results store written by `nnmass sweep`")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report and its PNGs")
    p.add_argument("--format", choices=("md", "html", "both"), default="both", help="default: both")
    p.add_argument("--title", default="nnmass sweep report")
    p.add_argument("--bootstrap", type=int_at_least(0, MAX_BOOTSTRAP), default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=seed_type, default=0, metavar="S", help="seed of the bootstrap generator (default 0)")
    add_selection_args(p)


def run(args) -> int:
    import shlex
    import sys

    from ..files.writing import check_output_folder
    from ..report import load_rows, select_rows, write_report

    check_output_folder(args.out, "--out")
    rows = select_rows(load_rows(args.store), args.store, args.sweep, args.dataset, args.pool)
    path = write_report(rows, args.out, args.title, formats=args.format, n_boot=args.bootstrap, seed=args.seed,
                        command="nnmass " + shlex.join(sys.argv[1:]))
    print(f"report: {path}")
    return 0
