"""proofs_check: verify the multigrade approximation theorem's claims on a trained scheme.

Public API: :func:`check_scheme` (a :class:`Report`), the typed input (:class:`Scheme`,
:class:`Layer`, :class:`GradeRecord`, :class:`Provenance`, :func:`scheme_from_model`), and
:func:`monotone_violations`, the rigorous search for points where a grade raises the residual,
:func:`residual_zeros`, a rigorous enclosure of the zeros of a 1-D residual, and
:func:`residual_sup`, a certified enclosure of the sup norm of the current residual.
"""

from .balls import Enclosure
from .checker import CheckSettings, check_scheme
from .claims import FAIL, HEURISTIC, INCONCLUSIVE, NOT_RUN, PASS, RIGOROUS, SOLVER, ClaimResult
from .contract import GradeRecord, Layer, Scheme, TargetLike, scheme_from_model
from .provenance import Provenance
from .report import Report
from .searches import Counterexample, MonotoneSearch
from .separation import monotone_violations
from .sup_norm import residual_sup
from .zeros import ZeroSet, exact_features, residual_zeros

__all__ = [
    "check_scheme",
    "scheme_from_model",
    "monotone_violations",
    "residual_zeros",
    "residual_sup",
    "exact_features",
    "ZeroSet",
    "Scheme",
    "Layer",
    "GradeRecord",
    "Provenance",
    "TargetLike",
    "CheckSettings",
    "ClaimResult",
    "Report",
    "Enclosure",
    "Counterexample",
    "MonotoneSearch",
    "PASS",
    "FAIL",
    "INCONCLUSIVE",
    "NOT_RUN",
    "RIGOROUS",
    "SOLVER",
    "HEURISTIC",
]
