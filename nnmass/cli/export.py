"""``nnmass export STORE --csv FILE | --parquet FILE``: the trials table as a flat file.

Write every row of the store's trials table to one file, replaced in one step. CSV
copies rows as stored; Parquet leaves out rows altered by hand to no longer fit their
typed columns, and says so.
"""
from __future__ import annotations


HELP = "export a results store to CSV or Parquet"


def add_arguments(p) -> None:
    p.add_argument("store", metavar="STORE", help="results store written by `nnmass sweep`")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", metavar="FILE", help="write CSV")
    out.add_argument("--parquet", metavar="FILE", help="write Parquet (needs pyarrow)")


def run(args) -> int:
    from ..store import ResultStore
    from ..store.rows import note_altered

    # Read-only: the store is never written, and the output may not be the store or its -wal/-shm.
    altered: list = []  # rows Parquet left out, altered by hand
    with ResultStore(args.store, readonly=True) as store:
        n = store.export_csv(args.csv) if args.csv is not None else store.export_parquet(args.parquet, altered=altered)
    note_altered(args.store, altered)
    print(f"exported {n} trials to {args.csv if args.csv is not None else args.parquet}")
    return 0
