"""Design without training (the paper's Sec. 4): enumerate candidate networks,
evaluate NN-Mass, params and MACs in closed form, and pick the best within a
budget. Pure numpy: importing this package does not import torch."""
from .catalog import SPACES
from .pareto import pareto_front
from .ranges import expand_range, parse_range_args, read_range_file
from .search import Candidate, DesignResult, design, resolve_space, spec_of
from .spaces import Space, make_space

__all__ = [
    "SPACES", "Candidate", "DesignResult", "Space", "design", "expand_range", "make_space",
    "pareto_front", "parse_range_args", "read_range_file",
    "resolve_space", "spec_of",
]
