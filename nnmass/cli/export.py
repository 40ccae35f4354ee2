"""``nnmass export STORE --csv FILE | --parquet FILE``: the trials table as a flat file."""
from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="export a results store to CSV or Parquet",
                       description="Write every row of the store's trials table to one file.")
    p.add_argument("store", metavar="STORE", help="results store written by `nnmass sweep`")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", metavar="FILE", help="write CSV")
    out.add_argument("--parquet", metavar="FILE", help="write Parquet (needs pyarrow)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..store import ResultStore

    with ResultStore(args.store, create=False) as store:
        n = store.export_csv(args.csv) if args.csv else store.export_parquet(args.parquet)
    print(f"exported {n} trials to {args.csv or args.parquet}")
    return 0
