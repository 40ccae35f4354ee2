"""The report of the NAS-Bench-Suite-Zero study: the proxies-by-tasks table of rho as
NAS-Bench-Suite-Zero draws it, its heat map, the agreement with NASLib's scores per task,
and per task the full statistics."""
from __future__ import annotations

from pathlib import Path

from ..render import code, heading, image, para, table, write_blocks


def rho_matrix(results: dict) -> dict[str, dict[str, float]]:
    """proxy -> task -> Spearman rho (nan where the proxy was not scored or is undefined)."""
    out: dict[str, dict[str, float]] = {}
    for label, result in results.items():
        for row in result.rows:
            out.setdefault(row["proxy"], {})[label] = row["spearman"]
    return out


def write_suite_report(results: dict, record: dict, out: Path, command: str, n_boot: int, seed: int) -> Path:
    """``report.md`` / ``report.html`` and the heat map ``rho_heatmap.png``."""
    from ..plots.heatmap import plot_rho_heatmap
    from ..rank.report import printable_rows
    from ..table import number_text, with_ci

    labels = list(results)
    rho = rho_matrix(results)
    plot_rho_heatmap(rho, labels, out / "rho_heatmap.png",
                     title="Spearman rho with each task's validation metric")
    cell = {label: {row["proxy"]: row for row in r.rows} for label, r in results.items()}
    memory = record["peak_memory_mb"]
    quick = (f" Quick subset: {record['quick_archs']} architectures per NB101/NB201/NB301 task, "
             f"{record['quick_tnb_archs']} per TransNAS-Bench-101 task scored with the data-free scores and NN-Mass "
             f"only ({', '.join(record['data_free'])})." if record["quick"] else
             f" Subset: {record['limit']} architectures per task (--limit, drawn as --quick draws them), "
             "every proxy." if record.get("limit") else "")
    subset = (f" This run covers {len(labels)} of the study's {record['study_tasks']} tasks (--tasks); a later run "
              "with more reuses these scores from the store." if len(labels) < record["study_tasks"] else "")
    blocks = [
        para("Every proxy and NN-Mass on the tasks of NASLib's zero-cost samples (NAS-Bench-Suite-Zero), each "
             "network built as its benchmark trained it and scored at initialization on a batch of "
             f"{record['batch']} Gaussian inputs with uniform random labels at the task's input size, weights and "
             f"batch from seed {record['seed']}. Target: each task's validation metric as NASLib stores it (higher is better; "
             "room_layout's loss is negated). Statistics run over the architectures where a score is defined "
             f"(n). Intervals: 95% percentile bootstrap over architectures ({n_boot} resamples, seed {seed})."
             + quick + subset),
        para(f"Wall time {record['seconds']:.0f} s with {record['workers']} worker process(es) on "
             f"{record['device']}; peak memory {memory['parent']:.0f} MB (this process) and "
             f"{memory['largest_worker']:.0f} MB (the largest worker)."),
        heading("Spearman rho, proxies by tasks"),
        table([{"proxy": p, **{label: with_ci(cell[label][p], "spearman", ".2f") if p in cell[label] else ""
                               for label in labels}} for p in rho]),
        image("rho_heatmap.png", "Spearman rho of each proxy with each task's validation metric"),
        heading("Agreement with NASLib's scores"),
        para("Spearman between our score and NASLib's of the same networks, where NASLib has that score. NASLib "
             "scored on real images of each task on a GPU; ours on Gaussian inputs, so data-free scores should "
             "agree closely and data-dependent ones less."),
        table([{"proxy": p, **{label: number_text(record["agreement"][label].get(p, {}).get("spearman"), ".2f")
                               for label in labels}}
               for p in dict.fromkeys(p for a in record["agreement"].values() for p in a)]),
        heading("Cost"),
        para("Every task's networks are scored in one pass of the worker processes. Seconds: the proxies' own "
             "time in the workers, summed over the networks scored now (one process's CPU time, not wall time)."),
        table([{"task": label, "networks": record["networks"][label], "scored now": s["scored"],
                "reused": s["reused"], "failed": s["failed"], "seconds": f"{s['scoring_seconds']:.0f}",
                "s per network": number_text(s["scoring_seconds"] / max(s["scored"], 1), ".2f")}
               for label, s in record["scoring"].items()]),
    ]
    for label, result in results.items():
        blocks += [heading(f"{label}", 3), table(printable_rows(result.rows))]
        if result.errors:
            first = next(iter(result.errors.items()))
            blocks.append(para(f"{len(result.errors)} networks failed to score; first: {first[0]}: {first[1]}"))
    blocks += [heading("Made by"), code(command or "nnmass study suite-zero")]
    return write_blocks(blocks, out, "nnmass study suite-zero" + (" --quick" if record["quick"] else ""), "both")
