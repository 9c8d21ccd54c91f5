"""Check C1-C4 on a trained scheme: rigorous in 1-D, 2-D and 3-D, grids (heuristic) beyond.

:func:`check_scheme` picks a driver (:mod:`proofs_check.drivers`) by dimension and by what the
target offers (a ball-arithmetic form with its gradient, or numpy only), recomputes the
training-point facts (:mod:`proofs_check.training`) and the optimality evidence
(:mod:`proofs_check.grade_optimality`) from the weights and the regenerated samples, and hands
them to the verdicts.  The scheme's domain must be the target's; when the scheme's records and
samples belong to another function (:func:`~proofs_check.contract.provenance_mismatch`), the
claims that read them (C1 on training points, C4) are not run, with the reason.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, replace

import numpy as np

from .claims import INCONCLUSIVE
from .contract import Scheme, TargetLike, scheme_from_model
from .drivers import RIGOROUS_DIMENSIONS, box_budget, grid_lp_norms, grids, rigorous_1d, rigorous_boxes
from .grade_optimality import c4_verdict, optimality_evidence
from .provenance import provenance_mismatch
from .report import Report
from .searches import PROVED
from .sollya import sollya_cross_check
from .training import training_facts
from .verdicts import c1_train_verdict, c1_verdict, c2_verdict, c3_verdict

__all__ = ["CheckSettings", "check_scheme", "scheme_from_model"]  # scheme_from_model: for proofs_check.cli


@dataclass(frozen=True)
class CheckSettings:
    ps: tuple = (1, 2, 4)
    eps: float | None = None  # eps-attainment level, absolute; None: eps_rel times sup|f|
    eps_rel: float = 1e-2  # eps relative to sup|f| (its certified lower bound, from the check's own search)
    sup_rtol: float = 1e-6
    sup_boxes: int = 200_000
    lp_rtol: float = 1e-3
    c1_boxes: int = 2000  # per linear piece
    sup_rtol_2d: float = 1e-4
    c1_boxes_2d: int = 200_000
    sup_boxes_2d: int = 200_000
    lp_boxes_2d: int = 100_000  # per grade: 2-D L^p enclosures are refined until neighbours separate
    sup_rtol_3d: float = 1e-3  # a kink is a surface in 3-D: boxes along it cost more
    c1_boxes_3d: int = 400_000
    sup_boxes_3d: int = 400_000
    lp_boxes_3d: int = 200_000  # per grade, as in 2-D
    grid_points: int = 200_000
    optimality_rtol: float = 1e-6  # 100 x Clarabel's default relative gap tolerance
    refutation_starts: int = 600  # gate searches per grade
    sollya: str = "auto"  # "auto": cross-check 1-D sup norms with Sollya when installed; "off"
    plateau_ratio: float = 0.95

    def __post_init__(self):
        ps = tuple(self.ps) if isinstance(self.ps, (tuple, list)) else (self.ps,)
        if not ps or not all(isinstance(p, numbers.Real) and not isinstance(p, bool) for p in ps):
            raise ValueError(f"CheckSettings.ps must be a non-empty tuple of numbers, got {self.ps!r}")
        if not all(math.isfinite(p) and p >= 1 for p in ps):
            raise ValueError(
                f"CheckSettings.ps must be finite exponents p >= 1, got {list(ps)}: for p < 1 ||.||_p is not a norm "
                "and the theorem's strict L^p decay is claimed for p >= 1 (sup |e_k|, p = inf, is C2's)"
            )
        object.__setattr__(self, "ps", ps)
        if not (isinstance(self.eps_rel, numbers.Real) and 0 < self.eps_rel < math.inf):
            raise ValueError(f"CheckSettings.eps_rel must be a finite number > 0, got {self.eps_rel!r}")
        for name in ("sup_rtol", "lp_rtol", "sup_rtol_2d", "sup_rtol_3d", "optimality_rtol"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 <= value < math.inf):
                raise ValueError(
                    f"CheckSettings.{name} must be a finite number >= 0 (0: to the box budget), got {value!r}"
                )


def _check_input(scheme: Scheme, target) -> None:
    if not isinstance(scheme, Scheme):
        raise TypeError(f"check_scheme needs a proofs_check.Scheme (scheme_from_model), got {type(scheme).__name__}")
    if not isinstance(target, TargetLike):
        raise TypeError(
            f"the target ({type(target).__name__}) lacks what the checks read: name, domain, continuous, rigorous, "
            "a numpy call, arb and arb_gradient (see proofs_check.TargetLike; mgdl_convex.get_target builds one)"
        )
    _check_domain(scheme, target)


def _check_domain(scheme: Scheme, target) -> None:
    theirs = np.asarray(target.domain, dtype=float)
    if theirs.shape != scheme.domain.shape or not np.array_equal(theirs, scheme.domain):
        raise ValueError(
            f"the scheme's domain {scheme.domain.tolist()} is not the domain {theirs.tolist()} of target "
            f"{target.name!r}: a check on another domain proves nothing about this one"
        )


def _bounds(scheme: Scheme, target, s: CheckSettings):
    d = scheme.dimension
    if d == 1 and target.rigorous:
        return rigorous_1d(scheme, target, s)
    if d in RIGOROUS_DIMENSIONS and target.rigorous:
        return rigorous_boxes(scheme, target, s)
    bounds = grids(scheme, target, s)
    if not target.rigorous:
        why = "the target has no ball-arithmetic form and gradient"
    else:
        why = f"{d}-D: the rigorous checks cover 1-D to 3-D only"
    return replace(bounds, method=f"{bounds.method}: {why}")


def check_scheme(scheme: Scheme, target, settings: CheckSettings | None = None) -> Report:
    """Run every claim; rigorous where the dimension and the target allow it."""
    s = settings or CheckSettings()
    if s.sollya not in ("auto", "off"):
        raise ValueError(f"CheckSettings.sollya must be 'auto' or 'off', got {s.sollya!r}")
    _check_input(scheme, target)
    bounds = _bounds(scheme, target, s)
    mismatch = provenance_mismatch(scheme, target)
    if mismatch:  # records and samples of another function: nothing that reads them is about this one
        scheme = replace(scheme, records=None, samples=None, why_no_records=mismatch)
    facts = training_facts(scheme)
    evidence, why_none = optimality_evidence(scheme, s)
    c2 = c2_verdict(bounds, target, scheme.records, scheme.domain, s)
    if bounds.pieces is not None:
        c2 = sollya_cross_check(c2, bounds.pieces, [g.sup.enclosure for g in bounds.grades], target, s.sollya)
    zero = [g.zero for g in bounds.grades[1:]]
    kappa = [None if ev is None else ev["kappa_before"] for ev in evidence]
    method = bounds.method
    contraction = [
        (g.monotone.strict, g.monotone.strict_margin)
        if g.monotone is not None and g.monotone.status == PROVED and g.monotone.strict is not None
        else None
        for g in bounds.grades[1:]
    ]
    c3 = c3_verdict([g.lp for g in bounds.grades], zero, s, bounds.trust, kappa, contraction=contraction)
    undecided = [k for k in bounds.lp_unresolved if k and any(c3.per_grade[k].get(f"p{p}_verdict") == INCONCLUSIVE
                                                              for p in s.ps)]
    if undecided:  # the enclosures could not decide: the verdict stays theirs; a grid estimate beside it
        # a grid misses what lies between its nodes and rounds in float64: it may inform, never pass a claim
        estimate = grid_lp_norms(scheme, target, s)
        summary = (
            f"{c3.summary}; certified enclosures still overlap at grade(s) {undecided} after "
            f"{box_budget(s, scheme.dimension).lp_boxes} boxes (raise CheckSettings.lp_boxes_{scheme.dimension}d "
            "to decide); a grid quadrature estimate, not a verdict, is in details['grid_norms']"
        )
        grid = [{f"p{p}": g[p].to_dict() for p in s.ps} for g in estimate]
        c3 = replace(c3, summary=summary, details={**c3.details, "grid_norms": grid})
        method += "; grid estimate of C3's norms beside the unresolved enclosures"
    claims = [
        c1_verdict(bounds),
        c1_train_verdict(facts, scheme.n_grades, mismatch),
        c2,
        c3,
        c4_verdict(scheme, evidence, why_none, facts, s),
    ]
    details = {"method": method, **bounds.details}
    records = [] if scheme.records is None else [r.to_dict() for r in scheme.records]
    training = [] if facts is None else [f.to_dict() for f in facts]
    if mismatch:
        details["records_not_used"] = mismatch
    if mismatch:
        details["records_not_used"] = mismatch
    return Report(claims, target.name, scheme.dimension, scheme.domain.tolist(), records, training, details)
