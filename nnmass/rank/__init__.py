"""Ranking architectures with training-free proxies: a table of architectures and their
accuracies -> every proxy's score (fused, resumable, in a SQLite score store) -> rank
statistics per proxy (Spearman, Kendall, top-10%, partial to size, intervals).

``nnmass rank TABLE.csv`` and ``nnmass study nb201-proxies`` run it. Modules:
``table`` (reading the CSV, one row at a time; ``table_rows`` keeps each row in a few
bytes), ``scoring`` (settings, building a network, its batch),
``store`` (the score store), ``runner`` (resumable, parallel scoring), ``statistics``
(numpy), ``ranking`` (all of it for one table), ``report`` (printable rows), ``merge``
(score stores of shards joined). The proxy names live in ``nnmass.proxies.proxy_names``
(handed on here as ``PROXY_NAMES`` and ``parse_proxy_names``) and combined scores in
``nnmass.proxies.combined``. Names are imported on first use, so ``nnmass.rank`` and
``nnmass.rank.statistics`` load without torch.
"""
from ..lazy import lazy_exports

_LAZY = {
    "PROXY_NAMES": "..proxies.proxy_names", "parse_proxy_names": "..proxies.proxy_names", "ScoreSetting": ".scoring",
    "NB201_DATASETS": ".scoring", "ScoreStore": ".store", "score_networks": ".runner", "score_jobs": ".runner",
    "ScoringJob": ".runner",
    "read_table": ".table", "rank_table": ".statistics", "rank_row": ".statistics",
    "rank_networks": ".ranking", "rank_tables": ".ranking", "rank_stored": ".ranking", "RankResult": ".ranking",
    "Combination": "..proxies.combined", "parse_scores": "..proxies.combined",
    "members_to_score": "..proxies.combined", "combine": "..proxies.combined",
}


__getattr__ = lazy_exports(__name__, _LAZY)


__all__ = list(_LAZY)
