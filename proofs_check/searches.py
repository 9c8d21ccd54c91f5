"""What the branch-and-bound searches return: sup enclosures and pointwise-monotonicity searches.

Both are small frozen records shared by the 1-D and box searches (:mod:`proofs_check.bounds1d`,
:mod:`proofs_check.boundsnd`).  A box is a tuple of ``(lo, hi)`` float pairs, one per coordinate,
rounded outward so that it contains the exact box that was searched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .balls import Enclosure

__all__ = ["SupSearch", "Counterexample", "MonotoneSearch", "PROVED", "COUNTEREXAMPLE", "UNRESOLVED"]

PROVED, COUNTEREXAMPLE, UNRESOLVED = "proved", "counterexample", "unresolved"

Box = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class SupSearch:
    """An enclosure of ``sup |e|`` over the domain, where its lower end is attained, and the search's size."""

    enclosure: Enclosure
    point: tuple[float, ...] | None  # a point with |e(point)| >= enclosure.lower
    boxes: int
    converged: bool  # upper <= lower (1 + rtol)

    @classmethod
    def finish(cls, lower: float, heap_keys, stuck, point, boxes: int, rtol: float, max_boxes: int) -> SupSearch:
        """The result of a best-first search: ``heap_keys`` the negated upper bounds of the boxes left
        (best first), ``stuck`` the upper bounds of boxes too narrow to split.  An infinite upper end
        (a box the target's ball form could not bound) makes the enclosure unbounded, with the reason."""
        keys = list(heap_keys)
        upper = max([-keys[0] if keys else 0.0, *stuck])
        reason = None
        if upper == math.inf:
            bad = keys.count(-math.inf) + list(stuck).count(math.inf)
            reason = (
                f"{bad} box(es) could not be bounded (the target's ball form is NaN or infinite there) "
                f"within {max_boxes} boxes"
            )
        enclosure = Enclosure.of(lower, upper, reason)
        return cls(enclosure, point, boxes, enclosure.bounded and upper <= lower * (1 + rtol))


@dataclass(frozen=True)
class Counterexample:
    """A float point where ``|e_k(x)| > |e_(k-1)(x)|`` is certified, with a certified lower bound of the excess."""

    point: tuple[float, ...]
    excess: float

    def to_dict(self) -> dict:
        return {"point": list(self.point), "excess": self.excess}


@dataclass(frozen=True)
class MonotoneSearch:
    """The search for ``|e_k| <= |e_(k-1)|`` on the domain.

    ``status`` is ``proved`` (every box proved), ``counterexample`` (at least one certified
    counterexample) or ``unresolved`` (no counterexample, but boxes neither proved nor refuted
    within the budget: listed in ``unresolved``).

    ``strict``: a box of positive volume on which ``|e_k| < |e_(k-1)|`` is proved at every point (but
    possibly on a null set of its boundary), or None; with ``status == proved`` it makes every
    ``||e_k||_p`` strictly smaller than ``||e_(k-1)||_p`` (:func:`proofs_check.verdicts.c3_verdict`).
    ``strict_margin``: a certified lower bound of ``e_(k-1)^2 - e_k^2`` on that box (0 where the box
    touches a zero of g_k); of the strict boxes met, the one with the largest margin is kept.
    """

    grade: int
    counterexamples: tuple[Counterexample, ...]
    unresolved: tuple[Box, ...]
    boxes: int
    strict: Box | None = None
    strict_margin: float = 0.0

    @property
    def status(self) -> str:
        if self.counterexamples:
            return COUNTEREXAMPLE
        return UNRESOLVED if self.unresolved else PROVED

    @property
    def worst(self) -> Counterexample | None:
        return max(self.counterexamples, key=lambda c: c.excess, default=None)

    def to_dict(self) -> dict:
        worst = self.worst
        return {
            "grade": self.grade,
            "status": self.status,
            "counterexamples": len(self.counterexamples),
            "unresolved_boxes": len(self.unresolved),
            "boxes": self.boxes,
            "worst_excess": None if worst is None else worst.excess,
            "worst_point": None if worst is None else list(worst.point),
            "strict_box": None if self.strict is None else [list(b) for b in self.strict],
            "strict_margin": None if self.strict is None else self.strict_margin,
        }

    @staticmethod
    def merge(grade: int, parts) -> MonotoneSearch:
        parts = list(parts)
        best = max((p for p in parts if p.strict is not None), key=lambda p: p.strict_margin, default=None)
        return MonotoneSearch(
            grade,
            tuple(c for p in parts for c in p.counterexamples),
            tuple(b for p in parts for b in p.unresolved),
            sum(p.boxes for p in parts),
            None if best is None else best.strict,
            0.0 if best is None else best.strict_margin,
        )
