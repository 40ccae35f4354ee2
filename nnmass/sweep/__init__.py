"""Sweeps: grid x seeds -> build -> measure -> train -> results store.

:mod:`.grid` (torch-free) reads grid files into trials; the trial, the runner and
the executors run them. Names are imported on first use, so reading a grid does
not import torch.
"""
from ..lazy import lazy_exports

_LAZY = {
    "LocalExecutor": ".executors", "RayExecutor": ".executors", "run_unit": ".executors",
    "SweepSummary": ".runner", "plan_units": ".runner", "prepare": ".runner", "run_sweep": ".runner",
    "run_trial": ".trial", "run_trial_group": ".trial",
    "Grid": ".grid", "TrialSpec": ".grid", "load_grid": ".grid", "grid_from_dict": ".grid",
}


__getattr__ = lazy_exports(__name__, _LAZY)


__all__ = list(_LAZY)
