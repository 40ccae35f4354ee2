"""Ranking architectures with training-free proxies: a table of architectures and their
accuracies -> every proxy's score (fused, resumable, in a SQLite score store) -> rank
statistics per proxy (Spearman, Kendall, top-10%, partial to size, intervals).

``nnmass rank TABLE.csv`` and ``nnmass study nb201-proxies`` run it. Modules:
``names`` (the proxy names, torch-free), ``table`` (reading the CSV), ``scoring``
(settings, building a network, its batch), ``store`` (the score store), ``runner``
(resumable, parallel scoring), ``statistics`` (numpy), ``combined`` (combined scores:
proxies ranked together over a population), ``ranking`` (all of it for one table),
``report`` (tables and figures). Names are imported on first use, so
``nnmass.rank.names``, ``nnmass.rank.statistics`` and ``nnmass.rank.combined`` load
without torch.
"""
from ..lazy import lazy_exports

_LAZY = {
    "PROXY_NAMES": ".names", "parse_proxy_names": ".names", "ScoreSetting": ".scoring",
    "NB201_DATASETS": ".scoring", "ScoreStore": ".store", "score_networks": ".runner",
    "read_table": ".table", "rank_table": ".statistics", "rank_row": ".statistics",
    "rank_networks": ".ranking", "RankResult": ".ranking", "Combination": ".combined",
    "parse_scores": ".combined", "members_to_score": ".combined", "combine": ".combined",
}


__getattr__ = lazy_exports(__name__, _LAZY)


__all__ = list(_LAZY)
