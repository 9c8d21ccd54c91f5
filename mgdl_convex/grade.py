"""One grade: patterns -> convex program -> solve -> width cap -> recovery -> certificate.

Given the frozen input ``Zb = [z_{k-1}(x), 1]`` on the grade's samples and the
residual ``e = e_{k-1}`` there, :func:`fit_grade` returns the grade's ReLU layer
and a :class:`GradeResult` with everything a user needs to trust it: solver
status, objective (re-evaluated in float64), the weak-duality certificate,
the cost of the width cap and the recovery gap.

**Regularisation.**  ``beta`` is absolute, or ``beta = tau kappa_S(e)`` with
``tau = beta_ratio`` in (0, 1) and ``kappa_S`` the largest correlation over the
program's patterns (THEORY section 3): then the zero grade is not optimal, the
grade is non-trivial and the training residual strictly decreases.

**Width cap.**  A grade may keep at most ``width`` neurons (one per non-zero
block).  The working-set solver never holds more than ``width`` non-zero
blocks: blocks enter in order of their price kappa, and once ``width`` are in
use the grade is the exact optimum of the program restricted to them
(``capped = True``).  With ``formulation="direct"`` the whole program is solved
and, if its optimum has more blocks, the ``width`` of largest norm are kept and
the program re-solved restricted to them.  Either way the choice of blocks is
greedy, the restricted solve is exact, and the certificate is taken against
the *whole* program: its gap is a certified bound on what the cap cost.

**Faults.**  Solves follow the retry policy of :mod:`mgdl_convex.faults`; the
attempts are recorded in ``GradeResult.attempts``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from .certificate import certify
from .cones import cone_rows, pattern_kappa
from .faults import GradeTimeLimit, attempts_for, check_memory
from .patterns import make_patterns
from .program import BlockSolution, GradeProgram, monotone_bounds, solve_direct
from .recovery import Neurons, prune, recover_neurons
from .solvers import SolverError, warn_inaccurate
from .working_set import solve_working_set

logger = logging.getLogger(__name__)

__all__ = ["GradeSettings", "GradeResult", "fit_grade"]

PRUNE_RTOL = 1e-7


@dataclass(frozen=True)
class GradeSettings:
    """The estimator's options that shape one grade (validated by the estimator)."""

    width: int
    beta: float | None
    beta_ratio: float | None
    rho: float | None
    patterns: str
    n_patterns: int
    solver: str
    solver_options: dict | None
    formulation: str
    time_limit: float | None = None


@dataclass(frozen=True)
class GradeResult:
    """Everything recorded about one fitted grade (scalars only; see ``to_dict``)."""

    grade: int
    n_samples: int
    input_dim: int
    width: int
    n_patterns: int
    patterns_complete: bool
    beta: float
    kappa_before: float
    trivial: bool
    solver: str
    status: str
    attempts: str
    solver_iterations: int
    working_set_rounds: int
    objective: float
    dual_bound: float
    gap: float
    relative_gap: float
    certificate_scope: str
    capped: bool
    recovery_gap: float
    cone_violation: float
    loss_before: float
    loss_after: float
    max_abs_before: float
    max_abs_after: float
    monotone_violation: float
    time_patterns: float
    time_solve: float
    time_total: float

    def to_dict(self) -> dict:
        return asdict(self)


def _solve_with_retries(program: GradeProgram, settings: GradeSettings, order, deadline, **prepared):
    """The retry policy of :mod:`mgdl_convex.faults`; returns ``_solve``'s tuple and the attempts line."""
    tried, kept = [], None
    for solver, options, label in attempts_for(settings.solver, settings.solver_options):
        try:
            out = _solve(program, replace(settings, solver=solver, solver_options=options), order, deadline, **prepared)
        except GradeTimeLimit:
            raise
        except SolverError as e:
            tried.append(f"{label}: {str(e)[:80]}")
            logger.warning("grade solve failed (%s): %s", label, e)
            continue
        accurate = all(s.status == "optimal" for s in out[2])
        tried.append(f"{label}: {'optimal' if accurate else 'optimal_inaccurate'}")
        if kept is None or out[1].objective(program) < kept[1].objective(program):
            kept = out
        if accurate:
            return out, "; ".join(tried), True
    if kept is None:
        raise SolverError(f"every attempt failed: {'; '.join(tried)}")
    return kept, "; ".join(tried), False


def _solve(program: GradeProgram, settings: GradeSettings, order, deadline=None, **prepared):
    """Returns (solver's solution, pruned solution, statistics, bound multipliers nu, rounds, capped).

    ``prepared`` may hold ``rows`` and ``initial_kappa`` for the working set.
    """
    if settings.formulation == "direct":
        sol, stats, nu = solve_direct(program, settings.solver, settings.solver_options)
        pruned = prune(sol, PRUNE_RTOL)
        if pruned.n_blocks <= settings.width:
            return sol, pruned, [stats], nu, 1, False
        top = np.argsort(-pruned.block_norms(), kind="stable")[: settings.width]
        restrict = (pruned.pattern[top], pruned.sign[top])
        sol, more, info, nu = solve_working_set(
            program,
            settings.solver,
            settings.solver_options,
            order=order,
            restrict_to=restrict,
            deadline=deadline,
            rows=prepared.get("rows"),
        )
        return sol, prune(sol, PRUNE_RTOL), [stats, *more], nu, 1 + info.rounds, True
    sol, stats, info, nu = solve_working_set(
        program,
        settings.solver,
        settings.solver_options,
        order=order,
        max_blocks=settings.width,
        deadline=deadline,
        **prepared,
    )
    if not (info.converged or info.capped):
        logger.warning("working set stopped after %d rounds without converging; see the certificate", info.rounds)
    return sol, prune(sol, PRUNE_RTOL), stats, nu, info.rounds, info.capped


def fit_grade(
    grade: int,
    Zb: np.ndarray,
    e: np.ndarray,
    settings: GradeSettings,
    rng: np.random.Generator,
    order: np.ndarray | None = None,
) -> tuple[Neurons, GradeResult]:
    """Fit one grade to the residual ``e`` on input ``Zb`` (module docstring)."""
    t_start = time.perf_counter()
    n, q = Zb.shape
    deadline = None if settings.time_limit is None else t_start + settings.time_limit
    patterns = make_patterns(Zb, settings.patterns, settings.n_patterns, rng)
    check_memory(n, q, patterns.n_patterns, settings.width, settings.formulation, isinstance(patterns.D, np.ndarray))
    time_patterns = time.perf_counter() - t_start
    rows = cone_rows(Zb, patterns.D, order)  # computed once, shared by every pricing below
    kappa_all = pattern_kappa(Zb, patterns.D, e, rows)
    kappa_e = float(kappa_all.max()) if kappa_all.size else 0.0
    beta = settings.beta if settings.beta is not None else settings.beta_ratio * kappa_e
    bounds = monotone_bounds(e, settings.rho) if settings.rho is not None else (None, None)
    program = GradeProgram(Zb=Zb, e=e, D=patterns.D, beta=beta, lower=bounds[0], upper=bounds[1])
    loss_before = float(e @ e / (2 * n))

    trivial = kappa_e <= beta or patterns.n_patterns == 0
    t_solve = time.perf_counter()
    if trivial:
        sol = solver_point = BlockSolution(np.zeros(0, int), np.zeros(0), np.zeros((q, 0)))
        stats, nu, rounds, capped, status, attempts = [], np.zeros(n), 0, False, "trivial", ""
    else:
        solved, attempts, accurate = _solve_with_retries(
            program, settings, order, deadline, rows=rows, initial_kappa=kappa_all
        )
        solver_point, sol, stats, nu, rounds, capped = solved
        status = "optimal" if accurate else "optimal_inaccurate"
        if not accurate:
            warn_inaccurate(f"grade {grade} ({attempts})")
    time_solve = time.perf_counter() - t_solve

    layer = recover_neurons(sol)
    convex_prediction = sol.prediction(program)
    network_prediction = layer(Zb)
    e_after = e - network_prediction
    certificate = certify(program, sol, nu, patterns.complete, order, dual_point=solver_point, rows=rows)
    rho = settings.rho if settings.rho is not None else 1.0
    result = GradeResult(
        grade=grade,
        n_samples=n,
        input_dim=q - 1,
        width=layer.width,
        n_patterns=patterns.n_patterns,
        patterns_complete=patterns.complete,
        beta=float(beta),
        kappa_before=kappa_e,
        trivial=bool(trivial),
        solver=settings.solver,
        status=status,
        attempts=attempts,
        solver_iterations=int(sum(s.iterations or 0 for s in stats)),
        working_set_rounds=rounds,
        objective=certificate.primal,
        dual_bound=certificate.dual,
        gap=certificate.gap,
        relative_gap=certificate.relative_gap,
        certificate_scope=certificate.scope,
        capped=bool(capped),
        recovery_gap=float(np.max(np.abs(network_prediction - convex_prediction), initial=0.0)),
        cone_violation=sol.cone_violation(program),
        loss_before=loss_before,
        loss_after=float(e_after @ e_after / (2 * n)),
        max_abs_before=float(np.max(np.abs(e))),
        max_abs_after=float(np.max(np.abs(e_after))),
        monotone_violation=float(np.max(np.abs(e_after) - rho * np.abs(e), initial=0.0)),
        time_patterns=time_patterns,
        time_solve=time_solve,
        time_total=time.perf_counter() - t_start,
    )
    return layer, result
