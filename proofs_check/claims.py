"""The theorem's claims as structured, honest results (THEORY sections 2 and 4).

Each check returns a :class:`ClaimResult`: outcome (pass / fail /
inconclusive), trust (rigorous / solver-trusted / heuristic), per-grade
numbers with enclosures where rigorous, the tolerance, the worst point, and
one line a person can act on.  Nothing passes silently:

* C1  |e_k| <= |e_{k-1}| on Omega.  Rigorous in 1-D (exact pieces, ball
  arithmetic) and 2-D (input splitting): proved boxes or a certified
  counterexample; grids elsewhere (a grid can refute but only heuristically
  "pass").  C1-train is the same on the training points (what ``monotone``
  guarantees by construction).
* C2  sup |e_k| -> 0.  Not finitely decidable: we certify sup |e_k| per grade
  (1-D, 2-D), eps-attainment ``sup |e_K| <= eps``, contraction ratios as
  intervals and plateaus; in 1-D Sollya's ``supnorm`` cross-checks the
  enclosures when installed (a disagreement blocks a pass).  "pass" =
  certified eps-attainment for a continuous target; a target with a jump
  fails (no continuous network approximates it uniformly); a grid verdict is
  never more than heuristic and is inconclusive whenever refining the grid
  changes it.
* C3  ||e_k||_p < ||e_{k-1}||_p at every non-trivial grade, p in ``ps``.
  Rigorous integral enclosures in 1-D and 2-D (refined until neighbours
  separate), grid quadrature with a stated error estimate elsewhere or when
  the 2-D box budget runs out.  Nontriviality (kappa > beta) comes from the
  grade record.
* C4  each grade is the optimum of its grade problem: solver status, the
  weak-duality certificate recorded by the fit, recovery gap, and evidence
  independent of the solver: an exact certificate over all patterns for a
  first grade on 1-D or 2-D data (rigorous), or for wider inputs a gate
  search whose improving gate is a rigorous refutation (nothing found proves
  nothing).  Capped grades are the exact optimum over their kept blocks
  only: inconclusive, with the certified gap shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

__all__ = ["ClaimResult", "PASS", "FAIL", "INCONCLUSIVE", "RIGOROUS", "SOLVER", "HEURISTIC", "worst_outcome"]

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
RIGOROUS, SOLVER, HEURISTIC = "rigorous", "solver-trusted", "heuristic"


@dataclass(frozen=True)
class ClaimResult:
    name: str
    outcome: str
    trust: str
    summary: str
    per_grade: list = field(default_factory=list)
    tolerance: float | None = None
    worst_point: list | None = None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def worst_outcome(outcomes) -> str:
    outcomes = list(outcomes)
    if FAIL in outcomes:
        return FAIL
    if INCONCLUSIVE in outcomes or not outcomes:
        return INCONCLUSIVE
    return PASS
