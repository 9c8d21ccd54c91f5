"""One grade: patterns -> convex program -> solve at the chosen width -> recovery -> certificate.

Given the frozen input ``Zb = [z_{k-1}(x), 1]`` on the grade's samples and the
residual ``e = e_{k-1}`` there, :func:`fit_grade` returns the grade's ReLU layer
and a :class:`GradeResult` with everything a user needs to trust it: solver
status, objective (re-evaluated in float64), the weak-duality certificate,
how the width was met and the recovery gap.

**Regularisation.**  ``beta`` is absolute, or ``beta = tau kappa_S(e)`` with
``tau = beta_ratio`` in (0, 1) and ``kappa_S`` the largest correlation over the
program's patterns: then the zero grade is not optimal, the grade is
non-trivial and the training residual strictly decreases.

**Width** (``width_mode``).  A grade may keep at most ``width`` neurons (one per
non-zero block).

* ``"exact"`` (default): beta is chosen on the regularisation path
  (:mod:`mgdl_convex.path`) as the smallest beta, down to the floor given by
  ``beta`` / ``beta_ratio``, whose *exact* optimum has at most ``width`` blocks.
  The grade is then the certified optimum of its whole program; with every
  pattern enumerated (1-D and 2-D grade inputs), the global optimum of the
  non-convex grade of width ``width``.
  Blocks are counted after near-duplicates are merged (see "Pruning" below: on
  dense 1-D samples the interior point spreads each neuron over neighbouring
  thresholds, and without merging no beta qualified from n = 8192 on).  If no
  beta on the path qualifies, the grade falls back to the greedy cap below,
  labelled ``width_mode="greedy"``, ``capped`` and with the reason in
  ``attempts``: never a silent zero grade.
* ``"greedy"``: beta is the floor; the working set never holds more than
  ``width`` non-zero blocks (blocks enter by price, a few swaps), and the grade is
  the exact optimum over its kept blocks only (``capped = True``).  The
  certificate against the whole program then bounds what the cap cost.
  With ``formulation="direct"`` the whole program is solved and the ``width``
  blocks of largest norm are kept and re-solved.

**What "optimal" means.**  ``status == "optimal"`` iff the solver reported
optimal *and* the certified relative gap of the problem the grade claims to
solve (its whole program; the kept blocks for a greedy-capped grade) is at most
:data:`OPTIMAL_RTOL`.  A solve that misses either goes through the retry policy
of :mod:`mgdl_convex.faults`; if no attempt meets both, the best certified one is
kept with status ``optimal_inaccurate`` and a warning.  The attempts are
recorded in ``GradeResult.attempts``.

**Pruning.**  Interior-point solutions hold blocks that are zero up to the
solver's tolerance.  They are pruned (norm below ``PRUNE_RTOL`` of the largest;
where that breaks a bound, the program is re-solved on the blocks kept);
then the blocks below ``POLISH_RTOL`` are tried away too: the program restricted
to the others is re-solved and kept only if its certificate against the whole
program still meets the tolerance.  If that leaves more blocks than the width, groups
of near-duplicate blocks (patterns that differ on at most :data:`MERGE_DIFFER` samples;
the interior point spreads one neuron over them, see :mod:`mgdl_convex.recovery`) are
tried as one block each, on the same terms: re-solved, and kept only if certified
against the whole program.  So the neurons a grade reports are those an exact optimum
needs, not the solver's noise.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from .certificate import GradeCertificate, certify, program_kappa, program_rows
from .faults import GradeTimeLimit, attempts_for, check_memory
from .network import GradeLayer
from .patterns import make_patterns
from .program import BlockSolution, GradeProgram, monotone_bounds, negligible_norm, solve_direct
from .recovery import MERGE_DIFFER, duplicate_groups, pattern_differences, prune, recover_neurons
from .solvers import SolverError, warn_inaccurate
from .working_set import WorkingSet, WorkingSetOptions, solve_working_set

logger = logging.getLogger(__name__)

__all__ = [
    "GradeSettings",
    "GradeResult",
    "SolveContext",
    "SolveOutcome",
    "solve_at_beta",
    "solve_grade_program",
    "fit_grade",
]

PRUNE_RTOL = 1e-7
POLISH_RTOL = 1e-4
#: a grade is "optimal" when its certified relative gap is at most this (100 x Clarabel's default)
OPTIMAL_RTOL = 1e-6
#: and its bounds hold to this, relative to max |e| (the certificate's primal must be feasible)
FEASIBILITY_RTOL = 1e-8
WIDTH_MODES = ("exact", "greedy")


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
    width_mode: str = "exact"


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
    width_mode: str = "greedy"
    path_steps: int = 0
    beta_floor: float = 0.0
    kept_relative_gap: float = 0.0
    guarantee: str = "none"
    c1_status: str = ""
    c1_rounds: int = 0
    constraint_points: int = 0
    zones: int = 0
    sup_lower: float | None = None  # certified sup |e_k| (run to eps only)
    sup_upper: float | None = None
    sup_ratio_upper: float | None = None  # sup |e_k| / sup |e_(k-1)|, an upper bound
    sup_trust: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SolveOutcome:
    """One solve of a grade program at one beta, certified.

    ``solver_point`` is the solver's own solution (the best dual point), ``solution``
    the pruned one the network is recovered from, ``certificate`` its certificate
    against the whole program, ``kept_certificate`` the one over its kept blocks
    (the same program unless the width was capped greedily).
    """

    solver_point: BlockSolution
    solution: BlockSolution
    stats: list
    nu: np.ndarray
    rounds: int
    capped: bool
    certificate: GradeCertificate
    kept_certificate: GradeCertificate
    working_set: WorkingSet | None = None
    overflow: bool = False

    feasibility: float = 0.0  # largest bound violation, relative to max |e|

    @property
    def accurate(self) -> bool:
        """Certified: the gap of the problem it solves is within tolerance, at a feasible point.

        The solver's own status of the last solve is not asked (an ``AlmostSolved`` point
        whose certificate meets the tolerance is optimal to that tolerance, by weak duality).
        """
        return (
            not self.overflow
            and self.kept_certificate.relative_gap <= OPTIMAL_RTOL
            and self.feasibility <= FEASIBILITY_RTOL
        )

    @property
    def neurons(self) -> int:
        return self.solution.n_blocks


@dataclass(frozen=True)
class SolveContext:
    """What every solve of one grade program shares: the samples' order along a 1-D curve, the
    cone rows of every pattern, the prices of the target, whether the patterns are all of them,
    and the grade's deadline."""

    order: np.ndarray | None
    rows: object
    initial_kappa: np.ndarray | None
    complete: bool
    deadline: float | None = None


def _ws_options(settings: GradeSettings, ctx: SolveContext, **extra) -> WorkingSetOptions:
    return WorkingSetOptions(
        solver=settings.solver, solver_options=settings.solver_options, deadline=ctx.deadline, **extra
    )


def _certify(program, sol, nu, ctx: SolveContext, dual_point, candidates=None) -> GradeCertificate:
    return certify(
        program, sol, nu, ctx.complete, ctx.order, dual_point=dual_point, rows=ctx.rows, candidates=candidates
    )


def _feasibility(program: GradeProgram, sol: BlockSolution) -> float:
    scale = max(float(np.max(np.abs(program.e[: program.n]), initial=0.0)), 1e-300)
    return sol.bound_violation(program) / scale


def _certified(program, sol: BlockSolution, own, ctx: SolveContext, other):
    """The certificate of ``sol`` from the dual point ``own = (nu, solver point)``, or from ``other`` where
    that is better (:func:`_polish`), with the dual point it was built from."""
    cert = _certify(program, sol, own[0], ctx, own[1])
    if other is not None and other[1] is not own[1] and cert.relative_gap > OPTIMAL_RTOL:
        alt = _certify(program, sol, other[0], ctx, other[1])
        if alt.relative_gap < cert.relative_gap:
            return alt, other
    return cert, own


def _with_dual(res, dual):
    """``res`` carrying the dual point its certificate was built from."""
    return res if dual[1] is res.solution else replace(res, nu=dual[0], solution=dual[1])


def _polish(program: GradeProgram, sol: BlockSolution, settings, ctx: SolveContext, resolve: bool = False,
            dual=None):
    """Drop the blocks below POLISH_RTOL if the re-solved rest is still certified (module docstring).

    ``resolve``: when no block is that small, re-solve on all of ``sol``'s blocks anyway.
    ``dual = (nu, solver point)`` of the solve ``sol`` came from: a second dual point for the
    certificate.  Any point gives a valid bound, and with bounds the restricted solve's own
    multipliers can be a poor one: on a degenerate bounded grade they certified a gap of 2.6e4
    for a re-solve whose objective was lower than that of the solve they polished (certified
    at 1e-7).
    """
    norms = sol.block_norms()
    keep = norms > max(POLISH_RTOL * norms.max(initial=0.0), negligible_norm(program))
    if not keep.any() or (keep.all() and not resolve):
        return None
    restrict = (sol.pattern[keep], sol.sign[keep])
    res = solve_working_set(program, _ws_options(settings, ctx), ctx.order, rows=ctx.rows, restrict_to=restrict)
    polished = prune(res.solution, PRUNE_RTOL, negligible_norm(program))
    cert, used = _certified(program, polished, (res.nu, res.solution), ctx, dual)
    res = _with_dual(res, used)
    if cert.relative_gap > OPTIMAL_RTOL or _feasibility(program, polished) > FEASIBILITY_RTOL:
        return None
    return res, polished, cert


def _merge_duplicates(program: GradeProgram, sol: BlockSolution, settings, ctx: SolveContext, dual=None):
    """One block per group of near-duplicates (:func:`mgdl_convex.recovery.duplicate_groups`), then the
    working set from those (it adds back what the optimum needs), kept only if certified against the
    whole program with fewer blocks (module docstring, "Pruning"); None if no grouping in
    :data:`~mgdl_convex.recovery.MERGE_DIFFER` gives that."""
    norms = sol.block_norms()
    differ = pattern_differences(program.D, sol.pattern)
    tried = set()
    for max_differ in MERGE_DIFFER:
        groups = duplicate_groups(differ, sol.sign, max_differ)
        labels = np.unique(groups)
        if labels.size == sol.n_blocks or labels.size in tried:
            continue
        tried.add(labels.size)
        keep = np.array([np.flatnonzero(groups == g)[np.argmax(norms[groups == g])] for g in labels])
        start = WorkingSet(np.zeros(0, int), np.zeros(0), [])
        start.add(2 * sol.pattern[keep] + (sol.sign[keep] < 0), ctx.rows)
        res = solve_working_set(
            program, _ws_options(settings, ctx), ctx.order, rows=ctx.rows, initial_kappa=ctx.initial_kappa, start=start
        )
        merged = prune(res.solution, PRUNE_RTOL, negligible_norm(program))
        cert, used = _certified(program, merged, (res.nu, res.solution), ctx, dual)
        res = _with_dual(res, used)
        certified = cert.relative_gap <= OPTIMAL_RTOL and _feasibility(program, merged) <= FEASIBILITY_RTOL
        if certified and merged.n_blocks < sol.n_blocks:
            return res, merged, cert
    return None


def _solve_direct(program, settings, ctx):
    """The whole program in CVXPY; with a greedy cap, the ``width`` largest blocks re-solved alone."""
    sol, stats, nu = solve_direct(program, settings.solver, settings.solver_options)
    pruned = prune(sol, PRUNE_RTOL)
    if settings.width_mode != "greedy" or pruned.n_blocks <= settings.width:
        return sol, nu, [stats], 1, False, None, False
    top = np.argsort(-pruned.block_norms(), kind="stable")[: settings.width]
    restrict = (pruned.pattern[top], pruned.sign[top])
    res = solve_working_set(program, _ws_options(settings, ctx), ctx.order, rows=ctx.rows, restrict_to=restrict)
    return res.solution, res.nu, [stats, *res.stats], 1 + res.info.rounds, True, None, False


def _solve_working_set(program, settings, ctx, start, overflow_blocks):
    cap = settings.width if settings.width_mode == "greedy" else None
    options = _ws_options(settings, ctx, max_blocks=cap, overflow_blocks=overflow_blocks)
    res = solve_working_set(program, options, ctx.order, rows=ctx.rows, initial_kappa=ctx.initial_kappa, start=start)
    info = res.info
    if not (info.converged or info.capped or info.overflow):
        if overflow_blocks is None:
            logger.warning("working set stopped after %d rounds without converging; see the certificate", info.rounds)
        else:  # a step of the path: kept only if its certificate proves it optimal, so nothing for the user to do
            logger.info(
                "path step at beta %.3g: working set stopped after %d rounds without converging "
                "(the step counts only if certified)",
                program.beta,
                info.rounds,
            )
    return res.solution, res.nu, res.stats, info.rounds, info.capped, res.working_set, info.overflow


def _solve_once(program, settings, ctx: SolveContext, start, overflow_blocks, polish_above) -> SolveOutcome:
    """One attempt: working set (or direct), pruning, polishing, certificates."""
    if settings.formulation == "direct":
        solved = _solve_direct(program, settings, ctx)
    else:
        solved = _solve_working_set(program, settings, ctx, start, overflow_blocks)
    sol, nu, stats, rounds, capped, ws_state, overflow = solved
    first_dual = (nu, sol)  # the solver's own point and multipliers: a dual point for every later certificate
    pruned = prune(sol, PRUNE_RTOL, negligible_norm(program))
    if pruned.n_blocks < sol.n_blocks and _feasibility(program, pruned) > FEASIBILITY_RTOL:
        # the pruned blocks mattered for the bounds: re-solve on the others (feasible, exact over them)
        restrict = (pruned.pattern, pruned.sign)
        res = solve_working_set(program, _ws_options(settings, ctx), ctx.order, rows=ctx.rows, restrict_to=restrict)
        sol, nu, stats, rounds = res.solution, res.nu, [*stats, *res.stats], rounds + res.info.rounds
        pruned = sol
    # after a re-solve, the solver's own dual point may certify it better than the re-solve's
    cert, (nu, sol) = _certified(program, pruned, (nu, sol), ctx, None if capped else first_dual)
    kept = cert
    if not capped and not overflow and program.bounded and cert.relative_gap > OPTIMAL_RTOL:
        # with bounds the solver can stop short with blocks of noise size: re-solve on the others
        rescued = _polish(program, pruned, settings, ctx, resolve=True, dual=first_dual)
        if rescued is not None:
            more, pruned, cert = rescued
            kept, stats, rounds = cert, [*stats, *more.stats], rounds + more.info.rounds
            sol, nu = more.solution, more.nu
    if capped:
        kept = _certify(program, pruned, nu, ctx, sol, candidates=2 * pruned.pattern + (pruned.sign < 0))
    elif not overflow and cert.relative_gap <= OPTIMAL_RTOL and pruned.n_blocks > polish_above:
        # merging matters only where a width decision hangs on the count (the path: polish_above = W)
        for simplify in (_polish, _merge_duplicates) if polish_above else (_polish,):
            if pruned.n_blocks <= polish_above:
                break
            simpler = simplify(program, pruned, settings, ctx, dual=first_dual)
            if simpler is not None:
                more, pruned, cert = simpler
                kept, stats, rounds = cert, [*stats, *more.stats], rounds + more.info.rounds
                sol, nu = more.solution, more.nu
    feasibility = _feasibility(program, pruned)
    return SolveOutcome(sol, pruned, stats, nu, rounds, capped, cert, kept, ws_state, overflow, feasibility)


def _polish_chosen(program: GradeProgram, out: SolveOutcome, settings, ctx: SolveContext) -> SolveOutcome:
    """Polish the solve the path keeps (the path polishes only where it can change the width decision).

    A warm-started path leaves many blocks of noise size in the solver's point; pruning them moves
    the residual, so the network's own residual is a worse dual point than the solver's. A
    checker that sees only the weights then certifies a larger gap (2.0e-6 instead of 1.9e-9 on a
    first grade of fangxu1, 32 samples). Re-solving on the kept blocks makes the network's
    residual the exact optimum over them.
    """
    resolve = out.solver_point.n_blocks > out.solution.n_blocks
    polished = _polish(program, out.solution, settings, ctx, resolve=resolve, dual=(out.nu, out.solver_point))
    if polished is None:
        return out
    more, pruned, cert = polished
    return replace(
        out,
        solver_point=more.solution,
        solution=pruned,
        stats=[*out.stats, *more.stats],
        nu=more.nu,
        rounds=out.rounds + more.info.rounds,
        certificate=cert,
        kept_certificate=cert,
        feasibility=_feasibility(program, pruned),
    )


def _verdict(out: SolveOutcome) -> str:
    gap = out.kept_certificate.relative_gap
    verdict = "optimal" if out.accurate else f"certified gap {gap:.1e}"
    if gap <= OPTIMAL_RTOL and not out.accurate:
        verdict = f"bounds violated by {out.feasibility:.1e}"
    if out.stats and out.stats[-1].status != "optimal":
        verdict += f" (solver: {out.stats[-1].status})"
    return verdict


def solve_at_beta(
    program: GradeProgram,
    settings: GradeSettings,
    ctx: SolveContext,
    start: WorkingSet | None = None,
    overflow_blocks: int | None = None,
    polish_above: int = 0,
) -> tuple[SolveOutcome, str]:
    """The retry policy of :mod:`mgdl_convex.faults` around one certified solve; returns the outcome and
    the attempts line.  An attempt counts as a success only when it is :attr:`SolveOutcome.accurate`.

    ``polish_above``: polish (module docstring) only a solution with more blocks than this.
    """
    tried, kept = [], None
    for i, (solver, options, label) in enumerate(attempts_for(settings.solver, settings.solver_options)):
        if i == 2 and kept is not None:
            break  # the solver works, its answer is only not certified: a less accurate fallback will not be
        attempt = replace(settings, solver=solver, solver_options=options)
        try:
            out = _solve_once(program, attempt, ctx, start, overflow_blocks, polish_above)
        except GradeTimeLimit:
            raise
        except SolverError as e:
            tried.append(f"{label}: {str(e)[:80]}")
            logger.warning("grade solve failed (%s): %s", label, e)
            continue
        if out.overflow:
            return out, "; ".join([*tried, f"{label}: overflow"])  # the path's signal, not a fault
        tried.append(f"{label}: {_verdict(out)}")
        if kept is None or out.kept_certificate.relative_gap < kept.kept_certificate.relative_gap:
            kept = out
        if out.accurate:
            return out, "; ".join(tried)
    if kept is None:
        raise SolverError(f"every attempt failed: {'; '.join(tried)}")
    return kept, "; ".join(tried)


@dataclass(frozen=True)
class GradeSolve:
    """The solve a grade keeps: its outcome, the beta it was taken at, and how beta was found."""

    outcome: SolveOutcome | None  # None: the zero grade
    attempts: str
    beta: float
    path_steps: int


def solve_grade_program(
    program: GradeProgram, settings: GradeSettings, kappa_e: float, ctx: SolveContext, start: float | None = None
) -> GradeSolve:
    """Solve at the floor beta (greedy / uncapped) or on the regularisation path (exact width, from
    ``start`` if given: :func:`mgdl_convex.path.solve_path`)."""
    if settings.width_mode == "exact":
        from .path import solve_path

        def at(beta, start, overflow):
            return solve_at_beta(replace(program, beta=beta), settings, ctx, start, overflow, settings.width)

        found = solve_path(at, kappa_e, program.beta, settings.width, start=start)
        if found.outcome is not None and found.outcome.neurons == 0:  # the zero grade
            return GradeSolve(None, found.attempts, found.beta, found.steps)
        outcome = found.outcome
        if outcome is not None and not outcome.capped:
            outcome = _polish_chosen(replace(program, beta=found.beta), outcome, settings, ctx)
        return GradeSolve(outcome, found.attempts, found.beta, found.steps)
    out, attempts = solve_at_beta(program, settings, ctx)
    return GradeSolve(out, attempts, program.beta, 1)


def fit_grade(
    grade: int,
    Zb: np.ndarray,
    e: np.ndarray,
    settings: GradeSettings,
    rng: np.random.Generator,
    order: np.ndarray | None = None,
) -> tuple[GradeLayer, GradeResult]:
    """Fit one grade to the residual ``e`` on input ``Zb`` (module docstring)."""
    t_start = time.perf_counter()
    n, q = Zb.shape
    deadline = None if settings.time_limit is None else t_start + settings.time_limit
    patterns = make_patterns(Zb, settings.patterns, settings.n_patterns, rng)
    check_memory(n, q, patterns.n_patterns, settings.width, settings.formulation, isinstance(patterns.D, np.ndarray))
    time_patterns = time.perf_counter() - t_start
    bounds = monotone_bounds(e, settings.rho) if settings.rho is not None else (None, None)
    program = GradeProgram(Zb=Zb, e=e, D=patterns.D, beta=0.0, lower=bounds[0], upper=bounds[1])
    rows = program_rows(program, order)  # computed once, shared by every pricing below
    kappa_all = program_kappa(program, e, rows)
    kappa_e = float(kappa_all.max()) if kappa_all.size else 0.0
    floor = settings.beta if settings.beta is not None else settings.beta_ratio * kappa_e
    program = replace(program, beta=floor)
    t_solve = time.perf_counter()
    trivial = kappa_e <= floor or patterns.n_patterns == 0
    solved = None
    if not trivial:
        ctx = SolveContext(order, rows, kappa_all, patterns.complete, deadline)
        solved = solve_grade_program(program, settings, kappa_e, ctx)
        if solved.outcome is None and settings.width_mode == "exact":
            # no beta on the path gives a certified optimum of width <= W: the greedy cap at the
            # floor, labelled as such, rather than a zero grade that would end the run
            settings = replace(settings, width_mode="greedy")
            greedy = solve_grade_program(program, settings, kappa_e, ctx)
            why = f"exact width: {solved.attempts}; greedy cap at the floor beta: {greedy.attempts}"
            solved = replace(greedy, attempts=why, path_steps=solved.path_steps + greedy.path_steps)
        program = replace(program, beta=solved.beta)
        trivial = solved.outcome is None
    time_solve = time.perf_counter() - t_solve
    layer, result = grade_result(
        grade,
        program,
        solved,
        settings,
        patterns,
        kappa_e,
        floor,
        order,
        rows,
        times=(time_patterns, time_solve, t_start),
    )
    return layer, result


def grade_result(grade, program, solved, settings, patterns, kappa_e, floor, order, rows, times, **extra):
    """The grade's layer and its :class:`GradeResult` (training rows only) from a solve (None: zero grade)."""
    time_patterns, time_solve, t_start = times
    n, q = program.n, program.q
    if solved is None or solved.outcome is None:
        sol = BlockSolution(np.zeros(0, int), np.zeros(0), np.zeros((q, 0)))
        cert = certify(program, sol, np.zeros(program.n_points), patterns.complete, order, rows=rows)
        stats, rounds, capped, status, attempts, kept = [], 0, False, "trivial", "", cert
        if solved is not None:
            attempts = solved.attempts
    else:
        out = solved.outcome
        sol, cert, kept, stats, rounds, capped = (
            out.solution,
            out.certificate,
            out.kept_certificate,
            out.stats,
            out.rounds,
            out.capped,
        )
        status = "optimal" if out.accurate else "optimal_inaccurate"
        attempts = solved.attempts
        if not out.accurate:
            warn_inaccurate(f"grade {grade} ({attempts})")
    layer = extra.pop("layer", None) or recover_neurons(sol)
    e = program.e[:n]
    convex_prediction = sol.prediction(program)[:n]
    network_prediction = layer(program.Zb[:n])
    e_after = e - network_prediction
    rho = settings.rho if settings.rho is not None else 1.0
    result = GradeResult(
        grade=grade,
        n_samples=n,
        input_dim=q - 1,
        width=layer.width,
        n_patterns=patterns.n_patterns,
        patterns_complete=patterns.complete,
        beta=float(program.beta),
        kappa_before=kappa_e,
        trivial=solved is None or solved.outcome is None,
        solver=settings.solver,
        status=status,
        attempts=attempts,
        solver_iterations=int(sum(s.iterations or 0 for s in stats)),
        working_set_rounds=rounds,
        objective=cert.primal,
        dual_bound=cert.dual,
        gap=cert.gap,
        relative_gap=cert.relative_gap,
        certificate_scope=cert.scope,
        capped=bool(capped),
        recovery_gap=float(np.max(np.abs(network_prediction - convex_prediction), initial=0.0)),
        cone_violation=sol.cone_violation(program),
        loss_before=float(e @ e / (2 * n)),
        loss_after=float(e_after @ e_after / (2 * n)),
        max_abs_before=float(np.max(np.abs(e))),
        max_abs_after=float(np.max(np.abs(e_after))),
        monotone_violation=float(np.max(np.abs(e_after) - rho * np.abs(e), initial=0.0)),
        time_patterns=time_patterns,
        time_solve=time_solve,
        time_total=time.perf_counter() - t_start,
        width_mode=settings.width_mode,
        path_steps=0 if solved is None else solved.path_steps,
        beta_floor=float(floor),
        kept_relative_gap=kept.relative_gap,
        **extra,
    )
    return layer, result
