"""``nnmass bounds``: Prop. 2 and Fig. 1(b), the mean singular value of Gaussian
``(w + m/2, w)`` matrices against the bounds, as a table, JSON or a figure.

Simulate Gaussian (w + m/2, w) matrices with N(0, q) entries for each NN-Mass m and
compare their mean singular value with Prop. 2's bounds.
"""
from __future__ import annotations

from ..validate import MAX_BOUNDS_WIDTH
from .common import format_table, int_at_least, number_type, print_json, seed_type


HELP = "Prop. 2: simulated mean singular value vs NN-Mass, with bounds (Fig. 1b)"


def add_arguments(p) -> None:
    p.add_argument("--width", type=int_at_least(1, MAX_BOUNDS_WIDTH), default=16,
                   help=f"cell width w, up to {MAX_BOUNDS_WIDTH} (default 16, as in Fig. 1b)")
    p.add_argument("--mass", default="0,8,16,32,64,128,256", metavar="M1,M2,...",
                   help="comma-separated NN-Mass values (default 0,8,16,32,64,128,256)")
    p.add_argument("--trials", type=int_at_least(1), default=200, help="matrices per mass (default 200)")
    p.add_argument("--q", type=number_type(0, open_lo=True), default=1.0, help="variance of the entries (default 1)")
    p.add_argument("--seed", type=seed_type, default=0, help="seeds the Gaussian draws (default 0)")
    p.add_argument("--plot", metavar="FILE", help="also draw the figure to FILE (.png, .pdf, .svg)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per mass")


def run(args) -> int:
    from ..bounds import simulate_bounds
    from ..errors import UsageError
    from ..files.writing import FIGURE_SUFFIXES, check_output
    from ..validate import parse_numbers

    masses = parse_numbers(args.mass, "--mass", lo=0)
    if args.plot is not None:  # before the simulation, which may take a while
        check_output(args.plot, "--plot", suffixes=FIGURE_SUFFIXES)
    rows = simulate_bounds(args.width, masses, trials=args.trials, q=args.q, seed=args.seed)
    # Results first, so a figure that cannot be written loses nothing.
    if args.json:
        print_json(rows)
    else:
        print(format_table(rows, ["mass", "rows", "lower", "mean", "upper", "std"]))
        print(f"\nwidth {args.width}, q {args.q:g}, {args.trials} trials per mass, seed {args.seed}")
    if args.plot:
        from ..plots.bounds import plot_bounds
        try:
            path = plot_bounds(rows, args.plot)
        except UsageError:
            raise
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot write --plot {args.plot!r}: {e}") from None
        if not args.json:
            print(f"figure: {path}")
    return 0
