"""`nnmass fit STORE`: how well NN-Mass, #Params and MACs predict accuracy and LDI.

Linear fit (R^2), Pearson, Spearman and Kendall of test accuracy and LDI mean singular
value against log NN-Mass, log #Params and log MACs, every predictor on the same
architectures, with bootstrap intervals over architectures and the seeds within them.
When the trials carry training-free proxies (a grid's proxies: list), a second table
ranks them beside NN-Mass, #Params and MACs by Spearman and Kendall (--json: rows with
"kind": "rank").
"""
from __future__ import annotations

from ..validate import MAX_BOOTSTRAP
from .common import add_selection_args, format_table, int_at_least, print_json, seed_type


HELP = "fit accuracy and LDI against log NN-Mass, log #Params, log MACs"


def add_arguments(p) -> None:
    p.add_argument("store", metavar="STORE", help="a results store written by `nnmass sweep`")
    p.add_argument("--json", action="store_true", help="print a JSON list of fit rows")
    p.add_argument("--bootstrap", type=int_at_least(0, MAX_BOOTSTRAP), default=1000, metavar="N", help="bootstrap resamples (default 1000; 0 = none)")
    p.add_argument("--seed", type=seed_type, default=0, metavar="S", help="seed of the bootstrap generator (default 0)")
    p.add_argument("--per-trial", action="store_true",
                   help="fit every trial as a point instead of one mean per architecture")
    add_selection_args(p)


def run(args) -> int:
    from ..json_values import jsonable
    from ..report import load_rows, paper_reference, proxy_json_rows, select_rows, summary_rows, sweep_proxy_rows
    from ..stats import check_enough_architectures, fit_table
    from ..stats.proxy_fits import proxy_table

    rows = select_rows(load_rows(args.store), args.store, args.sweep, args.dataset, args.pool)
    table = fit_table(rows, n_boot=args.bootstrap, seed=args.seed, mean_over_seeds=not args.per_trial)
    check_enough_architectures(table)
    proxies = proxy_table(rows, n_boot=args.bootstrap, seed=args.seed, mean_over_seeds=not args.per_trial)
    if args.json:
        print_json(jsonable(table + proxy_json_rows(proxies)))
    else:
        print(format_table(summary_rows(table, paper_reference(rows))))
        if proxies["rows"]:
            print("\nRank correlations at init, every predictor on the same architectures"
                  + (f" (undefined on every trial: {', '.join(proxies['undefined'])})" if proxies["undefined"] else "")
                  + ":")
            print(format_table(sweep_proxy_rows(proxies)))
    return 0
