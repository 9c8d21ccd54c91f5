"""mgdl-convex: multigrade ReLU networks, every grade an exact convex program."""

from .grade import GradeResult
from .io import ModelFileError
from .model import MultigradeRegressor, NotFittedError
from .solvers import SolverError, SolverInaccurateWarning
from .targets import TARGETS, Target, get_target

__version__ = "0.1.0"

__all__ = [
    "MultigradeRegressor",
    "NotFittedError",
    "GradeResult",
    "Target",
    "TARGETS",
    "get_target",
    "SolverError",
    "SolverInaccurateWarning",
    "ModelFileError",
    "__version__",
]
