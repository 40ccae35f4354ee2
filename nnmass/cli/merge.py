"""``nnmass merge --into OUT.sqlite IN.sqlite...``: combine score stores losslessly.

The SLURM job-array convention: each shard (``nnmass rank --shard K/N``) writes its own
store, then one merge joins them. A score of the same network, setting and proxy
appears once; stores with conflicting values, or of another score-store version, are
refused in one line, and no input store is ever changed. The output is replaced in one
step, so a failed merge leaves it as it was.
"""
from __future__ import annotations

from .common import print_json

HELP = "combine score stores (one per shard) into one, losslessly"


def add_arguments(p) -> None:
    p.add_argument("--into", required=True, metavar="OUT.sqlite", help="the merged store (created if missing)")
    p.add_argument("inputs", nargs="+", metavar="IN.sqlite", help="score stores to merge")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(args) -> int:
    from ..rank.merge import merge_stores
    summary = merge_stores(args.into, args.inputs)
    if args.json:
        print_json({"into": args.into, **summary.to_dict()})
    else:
        print(f"merged {summary.inputs} store(s), {summary.rows_read:,} rows, into {args.into}: "
              f"{summary.scores:,} scores ({summary.added:,} new, {summary.duplicates:,} repeated, "
              f"{summary.superseded_failures:,} failures replaced by a score)")
    return 0
