"""When a solve goes wrong: the retry policy, the per-grade time limit, the memory guard.

**Retry policy.**  A grade is solved by the attempts below, in order; the first
that ends ``optimal`` is kept:

1. the configured solver with the user's ``solver_options`` (for Clarabel on top of
   :data:`FIRST_OPTIONS`: tolerances of 1e-10 instead of its default 1e-8.  A grade is
   ``optimal`` only with a certified gap <= 1e-6, and at 1e-8 18 of the 36 path steps of an
   8-grade 1-D scheme on 2^16 samples missed it, each then solved again from the start by
   attempt 2; on Fang-Xu setting 1 the tighter first attempt took the fit from 120 s to 80 s);
2. the same solver with robust settings (:data:`ROBUST_OPTIONS`: more
   iterations, and for Clarabel the same tight tolerances whatever the user's and a larger
   static regularisation);
3. a fallback solver through CVXPY (:data:`FALLBACK`: CLARABEL -> ECOS,
   every other solver -> CLARABEL).

An attempt that raises :class:`~mgdl_convex.solvers.SolverError`, or whose
answer's certified relative gap is above the grade's tolerance
(:mod:`mgdl_convex.grade`), leads to the next; the fallback solver is tried only
if both attempts raised (a solver that works but is not accurate enough is not
helped by a less accurate one).  If no attempt is certified, the solution with
the smallest certified gap is kept and a
:class:`~mgdl_convex.solvers.SolverInaccurateWarning` is issued; if every
attempt raised, the error names them all.  What happened is recorded in the
grade's result (``attempts``).  A time-limit overrun is not retried.

**Time limit.**  ``grade_time_limit`` seconds per grade: the working set stops
with :class:`GradeTimeLimit` between rounds once it is spent, and Clarabel is
given the remaining time for each solve.

**Memory guard.**  Before a grade's program is built its size is estimated
(bytes per constraint-matrix entry measured here: about 60 for CVXPY's
compilation of the direct program, which peaked at 2.7 GB for 46 million
entries; the working set's terms are listed in :func:`estimate_bytes`); a
program that would not fit in 80% of physical memory is refused with advice
instead of being swapped to death.
"""

from __future__ import annotations

import os

from .compression import ROW_CHUNK_BYTES, SAMPLE_CHUNK
from .solvers import SolverError

__all__ = [
    "GradeTimeLimit",
    "FIRST_OPTIONS",
    "ROBUST_OPTIONS",
    "FALLBACK",
    "attempts_for",
    "estimate_bytes",
    "check_memory",
]


class GradeTimeLimit(SolverError):
    """A grade used up its ``grade_time_limit``."""


#: the first attempt's defaults (the user's ``solver_options`` override them): at Clarabel's default
#: 1e-8 certified gaps up to 2e-4 were measured, far above the grade's 1e-6
FIRST_OPTIONS = {"CLARABEL": {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}}
ROBUST_OPTIONS = {
    # the same tight tolerances (over the user's), more iterations, more static regularisation
    "CLARABEL": {**FIRST_OPTIONS["CLARABEL"], "max_iter": 400, "static_regularization_constant": 1e-7},
    "SCS": {"max_iters": 200_000},
    "ECOS": {"max_iters": 500},
    "MOSEK": {},
}
FALLBACK = {"CLARABEL": "ECOS", "SCS": "CLARABEL", "ECOS": "CLARABEL", "MOSEK": "CLARABEL"}
#: the fallback's settings: tight enough that its answer can meet the certificate's 1e-6
FALLBACK_OPTIONS = {"ECOS": {"abstol": 1e-9, "reltol": 1e-9, "feastol": 1e-9, "max_iters": 500}, "CLARABEL": None}


def attempts_for(solver: str, options: dict | None) -> list[tuple[str, dict | None, str]]:
    """(solver, options, label) for each attempt of the policy."""
    first = {**FIRST_OPTIONS[solver], **(options or {})} if solver in FIRST_OPTIONS else options
    return [
        (solver, first, solver),
        (solver, {**(options or {}), **ROBUST_OPTIONS[solver]}, f"{solver}(robust)"),
        (FALLBACK[solver], FALLBACK_OPTIONS[FALLBACK[solver]], f"{FALLBACK[solver]}(fallback)"),
    ]


def estimate_bytes(
    n: int, q: int, n_patterns: int, width: int, formulation: str, dense_patterns: bool = True
) -> int:
    """Rough peak memory of one grade's solve.

    The pattern matrix: n x P bytes, or O(n + P) for the implicit threshold patterns of a
    1-D input (``dense_patterns=False``).  Direct formulation: CVXPY's compilation.  Working
    set: the n x q input and its copies, the per-round n x B arrays (masks, predictions,
    row checks; B up to the width plus 16 entering blocks), the streamed compression (its
    chunks and the (qB + 1)-square R: nothing n x qB) and Clarabel's factorisation of the
    qB compressed rows.
    """
    patterns = n * n_patterns if dense_patterns else 40 * (n + n_patterns)
    if formulation == "direct":
        return patterns + 60 * 6 * n * q * n_patterns  # 3 n q P entries for each of V and W
    B = max(width, 1) + 16
    N = q * B
    inputs = 8 * n * q * 4
    per_round = 8 * n * B * 6
    compression = 2 * ROW_CHUNK_BYTES + 8 * SAMPLE_CHUNK * (q + 2 * B) + 3 * 8 * (N + 1) ** 2
    solver = 6 * 8 * N**2
    return patterns + inputs + per_round + compression + solver


def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(
    n: int, q: int, n_patterns: int, width: int, formulation: str, dense_patterns: bool = True
) -> None:
    need = estimate_bytes(n, q, n_patterns, width, formulation, dense_patterns)
    have = physical_memory()
    if have is not None and need > 0.8 * have:
        raise MemoryError(
            f"a grade with n={n} samples, input width {q - 1} and {n_patterns} patterns needs about "
            f"{need / 2**30:.1f} GiB ({formulation} formulation), more than 80% of this machine's "
            f"{have / 2**30:.1f} GiB: use formulation='working_set', fewer patterns (n_patterns) or fewer samples"
        )
