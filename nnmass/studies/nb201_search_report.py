"""The report of the NB201 search study: per dataset, each score's pick from the whole
space (alone and with a cascade), the zero-shot protocol's mean and std, the baselines,
the rank statistics, and a figure of chosen accuracy against search time."""
from __future__ import annotations

from pathlib import Path

from ..render import code, heading, image, para, table, write_blocks


def plot_accuracy_vs_time(record: dict, dataset: str, path: Path) -> Path:
    from ..plots._common import pyplot, save
    plt = pyplot()
    rec = record["datasets"][dataset]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, v in rec["scores"].items():
        for key, marker in (("whole", "o"), ("cascade", "s")):
            ax.scatter(max(v[key]["seconds"], 1e-3), v[key]["accuracy"], marker=marker,
                       color="tab:red" if "nn_mass" in name or name == "mass_size" else "tab:blue")
        ax.annotate(name, (max(v["whole"]["seconds"], 1e-3), v["whole"]["accuracy"]), fontsize=7,
                    xytext=(3, 2), textcoords="offset points")
    ax.axhline(rec["optimum"]["accuracy"], color="black", lw=0.8, ls="--", label="optimum")
    ax.axhline(rec["most_params"]["accuracy"], color="gray", lw=0.8, ls=":", label="most parameters")
    ax.set_xscale("log")
    ax.set_xlabel("search time, CPU seconds summed over the scored networks (o: alone, s: cascade)")
    ax.set_ylabel("chosen architecture's validation accuracy (%)")
    ax.set_title(f"NB201 {dataset}: {rec['architectures']:,} architectures")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def write_search_report(record: dict, out: Path, command: str, n_boot: int, seed: int) -> Path:
    from ..table import number_text, with_ci

    blocks = [para(
        "Each score picks one architecture of NAS-Bench-201; the table gives its validation accuracy (NB201's "
        "200-epoch numbers; cifar10 is NB201's cifar10-valid). Zero-shot protocol: the best-scored of N uniform "
        f"draws, {record['repeats']} seeded repeats, mean ± std. Whole space: the best-scored of every architecture, alone "
        f"and with a cascade (screened by {record['cascade_screen']}, the best {record['cascade_keep']:.0%} "
        "scored). A combination "
        "is aggregated over the population searched. Scores at initialization on a batch of "
        f"{record['batch']} Gaussian inputs, seed {record['seed']}. Intervals: {n_boot} bootstrap resamples "
        f"over architectures, seed {seed}.")]
    for dataset, rec in record["datasets"].items():
        figure = f"search_{dataset}.png"
        plot_accuracy_vs_time(record, dataset, out / figure)
        blocks += [heading(f"{dataset}"),
                   para(f"Optimum {rec['optimum']['accuracy']:.2f}; random choice {rec['random']['mean']:.2f} ± "
                        f"{rec['random']['std']:.2f}; most parameters {rec['most_params']['accuracy']:.2f}. "
                        f"{rec['architectures']:,} architectures; scoring: {rec['scoring']['scored']} networks "
                        f"now, {rec['scoring']['reused']} from the store, {rec['scoring']['seconds']:.0f} s."),
                   table([{"score": s, **{f"N={p['n']}": f"{p['mean']:.2f} ± {p['std']:.2f}" for p in v["protocol"]},
                           "whole space": f"{v['whole']['accuracy']:.2f}",
                           "top %": f"{rec['percentile'][s]:.2f}",
                           "cascade": f"{v['cascade']['accuracy']:.2f}",
                           "time (s)": number_text(v["whole"]["seconds"], ".0f"),
                           "cascade time (s)": number_text(v["cascade"]["seconds"], ".0f"),
                           "rho": with_ci(v["rank"], "spearman", ci_fmt=".2f"),
                           "Kendall": number_text(v["rank"]["kendall"]),
                           "top-10%": number_text(v["rank"]["top10"], ".2f"),
                           "partial rho": number_text(v["rank"]["partial_spearman"])}
                          for s, v in rec["scores"].items()]),
                   image(figure, f"{dataset}: chosen accuracy against search time")]
    blocks += [heading("Made by"), code(command or "nnmass study nb201-search")]
    return write_blocks(blocks, out, "nnmass study nb201-search" + (" --quick" if record["quick"] else ""), "both")
