"""Sweeps: grid x seeds -> build -> measure -> train -> results store."""
from .executors import LocalExecutor, RayExecutor, run_unit
from .runner import SweepSummary, plan_units, prepare, run_sweep
from .trial import run_trial, run_trial_group

__all__ = ["LocalExecutor", "RayExecutor", "SweepSummary", "plan_units", "prepare", "run_sweep", "run_trial",
           "run_trial_group", "run_unit"]
