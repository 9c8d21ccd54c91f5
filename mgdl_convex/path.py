"""Exact at fixed width: choose a grade's beta on the regularisation path.

For beta >= kappa(e) the zero grade is optimal; as beta falls the optimum's
number of non-zero blocks k(beta) grows, though not always monotonically.
Any beta whose *exact* optimum has ``k(beta) <= W`` gives a grade that is both
the certified optimum of its whole program and a network of width W; with every
pattern enumerated (1-D and 2-D grade inputs) it is the global optimum of the
non-convex width-W grade (a width-W network maps to a feasible point of the
program with no larger objective, and the optimum is realised by W neurons).

The path::

    beta_j = kappa(e) * ratio^j,   j = 1, 2, ...   down to the floor (beta or beta_ratio kappa)

is walked downwards, each solve warm-started from the working set of the
previous one.  A beta is *good* when its solve is certified (relative gap <=
1e-6) and uses at most W neurons (a count above W is re-counted after near-duplicate blocks
are merged, :mod:`mgdl_convex.grade`).  Near the width the step shrinks: from a good beta whose
optimum already uses more than ``near * W`` neurons the next beta is ``sqrt(ratio)``
times smaller, not ``ratio``.  (A quarter step from 25 neurons of 31 landed at 46-57 on the
late grades of an 8-grade fangxu1 scheme: the widest and slowest solve of the grade, more
than half its time, for a beta far below the answer.  A count of at most W is not merged,
so it can overstate the optimum's width; the walk then takes a half step where a quarter
would do, which costs one narrow solve.)  The walk stops at the first bad beta (or at the
floor, which is taken if good); then bisection (geometric midpoints) between the smallest good
and the largest bad beta found goes on until the two are within ``precision = 4^(1/8) ~ 1.19``
of each other: three midpoints after a quarter step, two after a half step.  The grade is the
smallest good beta found.  (With a precision of 1.41, grade 3 of Fang-Xu setting 1 once kept 21
neurons of its 32 and a loss above the published one.)

**Overflow.**  A restricted optimum with more than ``overflow * W`` non-zero
blocks ends that beta's solve early and counts as bad.  This keeps the working
sets small, and it is sound in the only sense that matters: it can only make
a beta look bad, never good, so the chosen grade is still a certified exact
optimum with at most W neurons.  What it can cost is minimality: a beta whose
restricted optima pass through a wide working set on the way to a narrow exact
optimum would be refused, and a larger beta chosen.  (A wide restricted optimum
does not prove the whole optimum is wide.)

**Where to start.**  By default the walk starts at ``kappa * ratio``; a caller that knows
roughly where the answer lies (theorem mode: the beta of the previous round or grade) passes
``start``.  From a good start the walk goes down as above; from a bad one it goes up by steps of
``1 / ratio`` to the first good beta; either way it then bisects between the smallest good and
the largest bad beta found.  With bounds on the prediction this matters: near kappa the
optimum is the zero grade, and the bounds' multipliers that certify it are found only once most
patterns are in the working set, which is slow for wide grade inputs.

A solve that is not certified (gap above the tolerance after the retry policy)
also counts as bad: the path never keeps an uncertified grade.  Every uncertified solve goes
through the retry, however wide: in a bounded program an uncertified solve can count 251
neurons (blocks of noise size that only a certified solve polishes away) and come back from the
robust retry certified with 23.  If no beta below
kappa is good, the grade is the zero grade.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

logger = logging.getLogger(__name__)

__all__ = ["PathResult", "solve_path", "PATH_RATIO", "NEAR_WIDTH", "PRECISION", "OVERFLOW_FACTOR"]

PATH_RATIO = 0.25
NEAR_WIDTH = 0.5
PRECISION = 4 ** (1 / 8)
OVERFLOW_FACTOR = 4


@dataclass(frozen=True)
class PathResult:
    """The kept solve (None: the zero grade), its beta, and how many solves the path took."""

    outcome: object | None
    attempts: str
    beta: float
    steps: int


def solve_path(
    solve_at,
    kappa: float,
    floor: float,
    width: int,
    ratio: float = PATH_RATIO,
    precision: float = PRECISION,
    near: float = NEAR_WIDTH,
    overflow: int = OVERFLOW_FACTOR,
    start: float | None = None,
) -> PathResult:
    """Walk the path (module docstring).

    ``solve_at(beta, start, overflow_blocks)`` returns ``(outcome, attempts)`` with
    ``outcome.accurate``, ``outcome.neurons``, ``outcome.overflow`` and ``outcome.working_set``.
    ``start``: the first beta to try (default ``kappa * ratio``); from a bad one the walk goes up.
    ``near``: the fraction of the width above which the walk steps by ``sqrt(ratio)``;
    ``precision`` (> 1): how close the bisection brings the chosen beta to the bad one below it.
    """
    if not (0 < ratio < 1 and precision > 1):
        raise ValueError(f"the path needs 0 < ratio < 1 and precision > 1, got {ratio} and {precision}")
    if not (0 < floor < kappa):
        return PathResult(None, "", kappa, 0)
    steps = 0
    cap = overflow * width

    def try_beta(beta, warm):
        nonlocal steps
        steps += 1
        outcome, attempts = solve_at(beta, warm, cap)
        ok = outcome.accurate and not outcome.overflow and outcome.neurons <= width
        logger.debug("path: beta/kappa %.3e: %d neurons, accurate %s, overflow %s (%s)", beta / kappa,
                     outcome.neurons, outcome.accurate, outcome.overflow, attempts)
        return ok, (beta, outcome, attempts)

    good, bad = None, None  # (beta, outcome, attempts): the smallest good beta, and a bad one below it
    beta = min(max(start if start is not None else kappa * ratio, floor), kappa * ratio)
    ok, found = try_beta(beta, None)
    if ok:  # down until bad (or the floor)
        good = found
        while beta > floor:
            step = ratio if good[1].neurons <= near * width else math.sqrt(ratio)
            beta = max(beta * step, floor)
            ok, found = try_beta(beta, good[1].working_set)
            if not ok:
                bad = found
                break
            good = found
    else:  # up until good (or kappa: the zero grade)
        bad = found
        while beta / ratio < kappa:
            beta /= ratio
            ok, found = try_beta(beta, None)
            if ok:
                good = found
                break
            bad = found
    if bad is not None:
        hi, lo = (good[0] if good is not None else kappa), bad[0]
        while hi > lo * precision * (1 + 1e-9):
            mid = math.sqrt(hi * lo)
            ok, found = try_beta(mid, good[1].working_set if good is not None else None)
            if ok:
                good, hi = found, mid
            else:
                lo = mid
    if good is None:
        return PathResult(None, f"no beta below kappa gives a certified grade of width <= {width}", kappa, steps)
    beta, outcome, attempts = good
    return PathResult(outcome, attempts, beta, steps)
