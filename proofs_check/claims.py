"""The theorem's claims as structured, honest results.

Each claim has a stable ``id`` and a name, an outcome and a trust level:

* outcome ``pass`` / ``fail`` / ``inconclusive``, or ``not run`` when the input it needs is
  missing (no grade records, samples that cannot be regenerated);
* trust ``rigorous`` (exact rationals and ball arithmetic), ``solver-trusted`` (rests on what
  the solver reported: its status, its own gap) or ``heuristic`` (grids).

The claims, for residuals ``e_k = f - (g_1 + ... + g_k)`` on the domain Omega:

* ``C1``: ``|e_k| <= |e_(k-1)|`` at every point of Omega, every grade.
* ``C1_train``: the same at the grade's training points (what ``monotone=True`` enforces).
* ``C2``: ``sup |e_k| -> 0``.  Not decidable from finitely many grades: "pass" is certified
  eps-attainment ``sup |e_K| <= eps`` for a target declared continuous.
* ``C3``: ``||e_k||_p < ||e_(k-1)||_p`` at every non-trivial grade (``g_k`` not identically 0).
* ``C4``: every grade is the optimum of its grade problem, within a relative tolerance.

Nothing passes silently: a NaN, an unbounded enclosure or a record that cannot be recomputed
makes a claim at best inconclusive, with the reason in its summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "ClaimResult",
    "PASS",
    "FAIL",
    "INCONCLUSIVE",
    "NOT_RUN",
    "RIGOROUS",
    "SOLVER",
    "HEURISTIC",
    "CLAIM_NAMES",
    "worst_outcome",
    "not_run",
    "jsonable",
]

PASS, FAIL, INCONCLUSIVE, NOT_RUN = "pass", "fail", "inconclusive", "not run"
RIGOROUS, SOLVER, HEURISTIC = "rigorous", "solver-trusted", "heuristic"

CLAIM_NAMES = {
    "C1": "C1 pointwise non-increase",
    "C1_train": "C1 on training points",
    "C2": "C2 uniform convergence",
    "C3": "C3 strict L^p decay",
    "C4": "C4 grade optimality",
}


@dataclass(frozen=True)
class ClaimResult:
    id: str
    outcome: str
    trust: str
    summary: str
    per_grade: list = field(default_factory=list)
    tolerance: float | None = None
    worst_point: list | None = None
    details: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.id not in CLAIM_NAMES:
            raise ValueError(f"unknown claim id {self.id!r}; known: {', '.join(CLAIM_NAMES)}")
        if self.outcome not in (PASS, FAIL, INCONCLUSIVE, NOT_RUN):
            raise ValueError(f"unknown outcome {self.outcome!r}")

    @property
    def name(self) -> str:
        return CLAIM_NAMES[self.id]

    def to_dict(self) -> dict:
        return jsonable(
            {
                "id": self.id,
                "name": self.name,
                "outcome": self.outcome,
                "trust": self.trust,
                "summary": self.summary,
                "per_grade": self.per_grade,
                "tolerance": self.tolerance,
                "worst_point": self.worst_point,
                "details": self.details,
            }
        )


def not_run(claim_id: str, why: str) -> ClaimResult:
    return ClaimResult(claim_id, NOT_RUN, "-", f"not run: {why}")


def worst_outcome(outcomes) -> str:
    outcomes = list(outcomes)
    if FAIL in outcomes:
        return FAIL
    if INCONCLUSIVE in outcomes or NOT_RUN in outcomes or not outcomes:
        return INCONCLUSIVE
    return PASS


def jsonable(v):
    """Plain JSON data: dataclasses via ``to_dict``, arrays as lists, non-finite floats as None.

    Every non-finite number of a claim is an unbounded end of an enclosure, whose reason is
    stored next to it; strict JSON has no NaN or Infinity.
    """
    if hasattr(v, "to_dict"):
        return jsonable(v.to_dict())
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if hasattr(v, "tolist"):
        return jsonable(v.tolist())
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return str(v)
