"""Text and JSON reports of `nnmass design`."""
from __future__ import annotations

import math

from .common import format_table, human

_PARETO_ROWS = 15  # the text table shows this many front members, spread along MACs


def _objective(result, match) -> str:
    budget = [f"params <= {human(result.max_params)}" if result.max_params is not None else None,
              f"MACs <= {human(result.max_macs)}" if result.max_macs is not None else None]
    budget = ", ".join(b for b in budget if b) or "no budget"
    if match:
        target = f"{match['model']}{' ' + ' '.join(match['sets']) if match['sets'] else ''}"
        return (f"reach NN-Mass >= {match['nn_mass']:.4g} ({target}) with the fewest MACs, then params; "
                f"{budget}")
    return f"highest NN-Mass, then fewest MACs and params; {budget}"


def _row(rank, c) -> dict:
    row = {"rank": rank, "nn_mass": round(c.nn_mass, 2), "params": human(c.params), "macs": human(c.macs)}
    for key, value in c.values.items():
        row[key] = ",".join(map(str, value)) if isinstance(value, list) else value
    return row


def _columns(result) -> list[str]:
    """Columns worth showing: the numbers and the keys that are searched (several values)."""
    keys = []
    for a in result.space.axes:
        searched = any(b.key == a.key and len(b.values) > 1 for b in result.space.axes)
        if searched and a.key not in keys:
            keys.append(a.key)
    return ["rank", "nn_mass", "params", "macs"] + keys


def report_text(result, spec, match, trained, out=None, plot=None, spec_error=None) -> str:
    rate = result.evaluated / result.seconds if result.seconds > 0 else float("inf")
    lines = [f"design space {result.space.name}: {result.evaluated:,} candidates in {result.seconds:.2f}s "
             f"({human(rate)}/s), closed form",
             f"objective: {_objective(result, match)}",
             f"feasible: {result.feasible:,}"]
    if result.best is None:
        c = result.closest
        lines.append("no candidate meets the constraints.")
        if c is not None:
            ratio = result.violation(c)
            how = f"worst constraint at {ratio:.3g}x its limit" if math.isfinite(ratio) else "it has no NN-Mass"
            lines.append(f"closest ({how}): "
                         f"NN-Mass {c.nn_mass:.4g}, params {human(c.params)} ({c.params:,}), "
                         f"MACs {human(c.macs)} ({c.macs:,}), {c.values}")
        lines.append("widen the ranges or the budget.")
        return "\n".join(lines)
    top = [_row(i + 1, c) for i, c in enumerate(result.top)]
    lines += ["", f"top {len(top)}:", format_table(top, _columns(result))]
    front = result.pareto
    shown = front if len(front) <= _PARETO_ROWS else [
        front[round(i * (len(front) - 1) / (_PARETO_ROWS - 1))] for i in range(_PARETO_ROWS)]
    rows = [_row(i + 1, c) for i, c in enumerate(shown)]
    lines += ["", f"Pareto front (max NN-Mass, min MACs, min params): {len(front):,} candidates"
              + (f", {len(shown)} shown" if len(shown) < len(front) else ""),
              format_table(rows, _columns(result))]
    b = result.best
    lines += ["", f"best: NN-Mass {b.nn_mass:.4g}, params {b.params:,}, MACs {b.macs:,}",
              f"spec: not built: {spec_error}" if spec is None else
              f"spec: {spec.to_json()}" if not hasattr(spec, "skips") else
              f"spec: {_spec_short(spec)} (skips sampled with seed {spec.seed})"]
    if out:
        lines.append(f"wrote {out}")
    if plot:
        lines.append(f"wrote {plot}")
    if trained:
        lines.append(f"trained on {trained['dataset']}: test accuracy {trained['test_acc']:.4f} "
                     f"after {len(trained['history'])} epochs")
    return "\n".join(lines)


def _spec_short(spec) -> str:
    d = spec.to_dict()
    d.pop("skips", None)
    return ", ".join(f"{k}={v}" for k, v in d.items())


def report_json(result, spec, match, trained, spec_error=None) -> dict:
    def cand(c):
        return c.to_dict() if c is not None else None

    out = {
        "best": None if result.best is None else {
            "spec": None if spec is None else spec.to_dict(), "spec_error": spec_error,
            "nn_mass": result.best.nn_mass, "params": result.best.params,
            "macs": result.best.macs, "values": result.best.values},
        "evaluated": result.evaluated,
        "feasible": result.feasible,
        "objective": result.objective,
        "budget": {"max_params": result.max_params, "max_macs": result.max_macs},
        "match": match,
        "space": result.space.describe(),
        "seconds": result.seconds,
        "top": [cand(c) for c in result.top],
        "pareto": [cand(c) for c in result.pareto],
    }
    if result.best is None:
        out["closest"] = cand(result.closest)
        ratio = result.violation(result.closest) if result.closest else math.inf
        out["closest_violation"] = ratio if math.isfinite(ratio) else None  # JSON has no infinity
    if trained:
        out["train"] = trained
    return out
