"""proofs_check: verify the multigrade approximation theorem's claims on a trained scheme."""

from .checker import CheckSettings, Scheme, check_scheme, scheme_from_model
from .claims import FAIL, HEURISTIC, INCONCLUSIVE, PASS, RIGOROUS, SOLVER, ClaimResult
from .report import Report

__all__ = [
    "check_scheme",
    "scheme_from_model",
    "Scheme",
    "CheckSettings",
    "ClaimResult",
    "Report",
    "PASS",
    "FAIL",
    "INCONCLUSIVE",
    "RIGOROUS",
    "SOLVER",
    "HEURISTIC",
]
