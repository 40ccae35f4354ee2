"""How well a measure predicts accuracy or LDI: least-squares fits, rank correlations,
bootstrap intervals over architectures, and the like-for-like fit table of a sweep.
Pure numpy + scipy."""
from .bootstrap import bootstrap_ci
from .fits import (MIN_ARCHITECTURES, PREDICTORS, TARGETS, architecture_id, check_enough_architectures, fit_row,
                   fit_table, unit_means)
from .fitting import (CORRELATIONS, LinearFit, correlations, kendall_tau_b, partial_spearman, r2_score, spearman,
                      top_precision)

__all__ = ["CORRELATIONS", "MIN_ARCHITECTURES", "PREDICTORS", "TARGETS", "LinearFit", "architecture_id",
           "bootstrap_ci", "check_enough_architectures", "correlations", "fit_row", "fit_table", "kendall_tau_b",
           "partial_spearman", "r2_score", "spearman", "top_precision", "unit_means"]
