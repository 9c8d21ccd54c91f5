"""Solver selection and the one status policy every grade goes through.

CVXPY reports a solve's status as a string.  We sort them into three groups,
as CVXPY itself does (``cvxpy.settings``):

=====================  ==========================================  ===========
status                 meaning                                     policy
=====================  ==========================================  ===========
optimal                solution present, within the solver's tol   accept
optimal_inaccurate     solution present, tolerances not all met    accept, warn
anything else          infeasible, unbounded, solver error, None   raise
=====================  ==========================================  ===========

A grade's program is always feasible (zero weights) and bounded below (the
loss is non-negative), so "infeasible" or "unbounded" can only be a numerical
failure of the solver; the error says so and what to try.  No variable's value
is read before :func:`check_status` has accepted the status.

MOSEK is optional (``pip install mgdl-convex[mosek]`` plus a licence).  Before
it is used it is probed by solving a one-variable problem, so a missing
package or licence is reported up front, not in the middle of a run.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import asdict, dataclass

import cvxpy as cp

logger = logging.getLogger(__name__)

__all__ = [
    "SOLVERS",
    "SolverError",
    "SolverInaccurateWarning",
    "SolveStats",
    "check_solver",
    "probe_mosek",
    "check_status",
    "warn_inaccurate",
    "solve_problem",
]

SOLVERS = ("CLARABEL", "SCS", "ECOS", "MOSEK")
ACCEPTED = ("optimal",)
ACCEPTED_WITH_WARNING = ("optimal_inaccurate",)


class SolverError(RuntimeError):
    """A solver failed on a grade program, or cannot be used at all."""


class SolverInaccurateWarning(UserWarning):
    """The solver returned a solution without meeting all of its tolerances."""


@dataclass(frozen=True)
class SolveStats:
    """What one solver call reported (times in seconds)."""

    solver: str
    status: str
    compile_time: float
    solve_time: float
    iterations: int | None
    primal_objective: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@functools.cache
def probe_mosek() -> str | None:
    """None if MOSEK can solve a tiny problem, else the reason it cannot."""
    try:
        import mosek  # noqa: F401
    except ImportError:
        return "the mosek package is not installed (pip install 'mgdl-convex[mosek]')"
    x = cp.Variable()
    try:
        cp.Problem(cp.Minimize(cp.square(x - 1))).solve(solver="MOSEK")
    except Exception as e:  # licence errors surface as several exception types
        return f"MOSEK is installed but cannot solve ({type(e).__name__}: {e}); check its licence"
    return None


def check_solver(name: str) -> str:
    """Normalise a solver name and make sure it can run here; raise otherwise."""
    if not isinstance(name, str) or name.upper() not in SOLVERS:
        raise ValueError(f"unknown solver {name!r}: expected one of {', '.join(SOLVERS)}")
    name = name.upper()
    if name == "MOSEK":
        reason = probe_mosek()
        if reason is not None:
            raise SolverError(f"solver 'MOSEK' is not available: {reason}. Use solver='CLARABEL' instead.")
    elif name not in cp.installed_solvers():
        raise SolverError(f"solver {name!r} is not installed; install it or use solver='CLARABEL'")
    return name


def check_status(status: str | None, solver: str, what: str) -> None:
    """Apply the status policy of the module docstring (the warning is the caller's:
    :func:`warn_inaccurate`, once the retry policy of :mod:`mgdl_convex.faults` is done)."""
    if status in ACCEPTED or status in ACCEPTED_WITH_WARNING:
        return
    raise SolverError(
        f"{solver} returned status {status!r} for {what}. The program is always feasible and bounded, "
        "so this is a numerical failure: try another solver (solver='CLARABEL' or 'MOSEK'), "
        "tighter solver_options, or rescale the target"
    )


def warn_inaccurate(what: str) -> None:
    msg = f"{what}: the solution is used but its accuracy is not guaranteed (status optimal_inaccurate)"
    logger.warning(msg)
    warnings.warn(msg, SolverInaccurateWarning, stacklevel=3)


def solve_problem(problem: cp.Problem, solver: str, solver_options: dict | None, what: str) -> SolveStats:
    """Solve a CVXPY problem, apply the status policy, return its statistics."""
    try:
        problem.solve(solver=solver, **(solver_options or {}))
    except cp.error.SolverError as e:
        raise SolverError(f"{solver} failed on {what}: {e}") from e
    except TypeError as e:
        raise ValueError(f"solver_options {solver_options!r} were not accepted by {solver}: {e}") from e
    check_status(problem.status, solver, what)
    st = problem.solver_stats
    return SolveStats(
        solver=solver,
        status=problem.status,
        compile_time=float(problem.compilation_time or 0.0),
        solve_time=float(st.solve_time or 0.0),
        iterations=None if st.num_iters is None else int(st.num_iters),
        primal_objective=float(problem.value),
    )
