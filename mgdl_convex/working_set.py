"""Exact solution of a grade program by a working set of blocks and rows.

The direct program (:func:`mgdl_convex.program.solve_direct`) carries 2P weight
blocks and 2nP cone rows, although at the optimum only a few blocks are
non-zero and each cone is defined by a few rows.  This solver keeps the same
program and the same optimum, and hands the solver only what can matter:

1. **Rows.**  Per pattern, the rows of :func:`mgdl_convex.cones.pattern_rows`
   (all rows unless the samples lie along a 1-D curve).  After each solve the
   kept blocks are checked against *every* row of their cone; a violated row is
   added and the program solved again.
2. **Blocks.**  Start from the ``initial_blocks`` (or, with a width cap, the
   ``max_blocks``) blocks with the largest correlation ``kappa(e)`` with the
   target.  After each solve, price every block left out with the effective
   residual ``r - nu`` (the plain residual, corrected by the monotone bounds' multipliers when there are bounds; see
   :func:`mgdl_convex.program.bound_multipliers`).  By the optimality
   conditions of THEORY section 3 the zero block (i, sign) is optimal iff
   ``kappa_i^{sign}(r) <= beta``; blocks above that are added (largest first)
   and the program is solved again.

It stops when no row is violated and no block left out prices above
``beta (1 + price_rtol)``: the restricted optimum, padded with zero blocks,
then satisfies the optimality conditions of the whole program.  Every block
is priced in every round, so the result is exact for the patterns given, not
a heuristic restriction; the grade's certificate
(:mod:`mgdl_convex.certificate`) re-checks it independently.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from .clarabel_native import solve_blocks_native
from .cones import cone_rows, pattern_kappa
from .faults import GradeTimeLimit
from .program import BlockSolution, GradeProgram, bound_multipliers
from .progress import emit
from .solvers import SolveStats, solve_problem

__all__ = ["WorkingSetInfo", "solve_working_set", "solve_blocks"]


@dataclass(frozen=True)
class WorkingSetInfo:
    """How the working set evolved: rounds, final sizes, the largest price left out."""

    rounds: int
    blocks: int
    rows: int
    rows_added: int
    max_kappa_outside: float
    converged: bool
    capped: bool
    pricing_time: float

    def to_dict(self) -> dict:
        return asdict(self)


def _restricted_problem(program: GradeProgram, pattern, sign, rows):
    n, q = program.Zb.shape
    B = len(pattern)
    masks = program.D[:, pattern] * sign  # (n, B)
    F = (masks[:, :, None] * program.Zb[:, None, :]).reshape(n, B * q)
    X = cp.Variable((B, q))
    x = cp.vec(X, order="C")
    pred = sp.csr_matrix(F) @ x
    G_parts, r_idx, c_idx = [], [], []
    offset = 0
    for b in range(B):
        R = rows[b]
        s = 2.0 * program.D[R, pattern[b]] - 1.0
        G_parts.append((s[:, None] * program.Zb[R]).ravel())
        r_idx.append(np.repeat(np.arange(offset, offset + R.size), q))
        c_idx.append(np.tile(np.arange(b * q, (b + 1) * q), R.size))
        offset += R.size
    G = sp.csr_matrix((np.concatenate(G_parts), (np.concatenate(r_idx), np.concatenate(c_idx))), shape=(offset, B * q))
    constraints = [G @ x >= 0]
    if program.bounded:
        constraints += [pred <= program.upper, pred >= program.lower]
    objective = cp.sum_squares(pred - program.e) / (2 * n) + program.beta * cp.sum(cp.norm(X, 2, axis=1))
    return cp.Problem(cp.Minimize(objective), constraints), X, constraints[1:], offset


def solve_blocks(
    program: GradeProgram,
    pattern: np.ndarray,
    sign: np.ndarray,
    rows: list[np.ndarray],
    solver: str,
    solver_options: dict | None,
    interface: str = "native",
) -> tuple[BlockSolution, SolveStats, np.ndarray, int]:
    """Solve the program restricted to the given blocks and cone rows (rows[b] for block b).

    ``interface="native"`` hands CLARABEL the program directly
    (:mod:`mgdl_convex.clarabel_native`); every other solver, and
    ``interface="cvxpy"``, goes through CVXPY.
    """
    if solver == "CLARABEL" and interface == "native":
        return solve_blocks_native(program, pattern, sign, rows, solver_options)
    if interface not in ("native", "cvxpy"):
        raise ValueError(f"interface must be 'native' or 'cvxpy', got {interface!r}")
    problem, X, bounds, n_rows = _restricted_problem(program, pattern, sign, rows)
    what = f"a grade program restricted to {len(pattern)} blocks (n={program.n}, q={program.q})"
    stats = solve_problem(problem, solver, solver_options, what)
    sol = BlockSolution(pattern=np.asarray(pattern), sign=np.asarray(sign, dtype=float), U=np.asarray(X.value).T)
    return sol, stats, bound_multipliers(program, bounds), n_rows


def _violated_rows(program: GradeProgram, sol: BlockSolution, rows: list[np.ndarray], rtol: float) -> list[np.ndarray]:
    """Rows left out of each block's program that its weights violate.

    Violations are measured against ``rtol ||Zb_j|| max_b ||U_b||``: the solver
    meets the rows it was given only to its own tolerance, so a block that is
    numerically zero must not trigger rounds of its own.
    """
    s = 2.0 * program.D[:, sol.pattern] - 1.0
    vals = s * (program.Zb @ sol.U)
    scale = rtol * np.linalg.norm(program.Zb, axis=1) * max(float(sol.block_norms().max(initial=0.0)), 1e-300)
    out = []
    for b in range(sol.n_blocks):
        bad = np.flatnonzero(vals[:, b] < -scale)
        out.append(np.setdiff1d(bad, rows[b], assume_unique=True))
    return out


def solve_working_set(
    program: GradeProgram,
    solver: str,
    solver_options: dict | None = None,
    order: np.ndarray | None = None,
    initial_blocks: int = 16,
    max_rounds: int = 60,
    price_rtol: float = 1e-6,
    row_rtol: float = 1e-7,
    drop_rtol: float = 1e-6,
    interface: str = "native",
    restrict_to: tuple[np.ndarray, np.ndarray] | None = None,
    max_blocks: int | None = None,
    swap_rounds: int = 4,
    swap_size: int = 4,
    deadline: float | None = None,
    rows: list[np.ndarray] | None = None,
    initial_kappa: np.ndarray | None = None,
) -> tuple[BlockSolution, list[SolveStats], WorkingSetInfo, np.ndarray]:
    """Solve the grade program exactly by working sets (module docstring).

    ``order`` sorts the samples along a 1-D curve (enables row reduction).
    ``restrict_to = (pattern, sign)`` fixes the blocks (no pricing): the
    program then is the one restricted to those blocks.
    ``max_blocks`` caps the working set (the grade's width): once that many
    blocks are non-zero no block is added, and the result is the exact optimum
    of the program restricted to them (``info.capped``); the certificate's gap
    against the whole program then bounds what the cap cost.  When capped, up
    to ``swap_rounds`` swaps replace the ``swap_size`` weakest blocks by the
    best-priced ones left out, each kept only if the restricted optimum drops.
    ``deadline`` (a ``time.perf_counter()`` value) raises ``GradeTimeLimit``
    between rounds once passed.  ``rows`` and ``initial_kappa`` (the cone rows of every
    pattern and the prices of the target) may be passed in when the caller has them.
    Returns the solution (kept blocks only), the statistics of every solve, the
    working-set summary and the bound multipliers ``nu`` of the last solve.
    """
    beta = program.beta
    base_rows = rows if rows is not None else cone_rows(program.Zb, program.D, order)
    pricing_time = 0.0
    if restrict_to is not None:
        pattern, sign = (np.asarray(a) for a in restrict_to)
    else:
        t0 = time.perf_counter()
        kap = initial_kappa if initial_kappa is not None else pattern_kappa(program.Zb, program.D, program.e, base_rows)
        pricing_time += time.perf_counter() - t0
        top = np.argsort(-kap.ravel(), kind="stable")[: max_blocks or initial_blocks]
        pattern, sign = top // 2, np.where(top % 2 == 0, 1.0, -1.0)
    rows = [base_rows[i] for i in pattern]
    stats: list[SolveStats] = []
    rows_added = 0
    max_out = 0.0
    converged = capped = False
    best = None  # (objective, sol, nu, n_rows) of the best capped solution, once capped
    swaps_left = swap_rounds
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        options = solver_options
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise GradeTimeLimit(f"the grade's time limit ran out after {rounds - 1} working-set round(s)")
            if solver == "CLARABEL":
                options = {**(solver_options or {}), "time_limit": left}
        sol, st, nu, n_rows = solve_blocks(program, pattern, sign, rows, solver, options, interface)
        stats.append(st)
        emit("working set: round %d, %d blocks, %d rows, obj %.6g", rounds, len(pattern), n_rows, st.primal_objective)
        if best is not None:
            if sol.objective(program) >= best[0]:
                _, sol, nu, n_rows = best  # the swap did not pay: keep the best capped solution
                break
            best = (sol.objective(program), sol, nu, n_rows)
        violated = _violated_rows(program, sol, rows, row_rtol)
        for b, extra in enumerate(violated):
            if extra.size:
                rows[b] = np.union1d(rows[b], extra)
                rows_added += extra.size
        if restrict_to is not None:
            if not any(v.size for v in violated):
                converged = True
                break
            continue
        t0 = time.perf_counter()
        r_eff = program.e - sol.prediction(program) - nu
        kap = pattern_kappa(program.Zb, program.D, r_eff, base_rows, threshold=beta * (1 + price_rtol))
        pricing_time += time.perf_counter() - t0
        kap[pattern, np.where(sign > 0, 0, 1)] = -np.inf
        max_out = float(max(0.0, kap.max()))
        new = np.flatnonzero(kap.ravel() > beta * (1 + price_rtol))
        if new.size == 0 and not any(v.size for v in violated):
            converged = True
            break
        # blocks that are zero at this optimum leave the working set (column deletion);
        # they are priced again in every round, so the stopping test stays exact
        keep = sol.block_norms() > drop_rtol * max(float(sol.block_norms().max(initial=0.0)), 1e-300)
        room = initial_blocks if max_blocks is None else min(initial_blocks, max_blocks - int(keep.sum()))
        new = new[np.argsort(-kap.ravel()[new], kind="stable")]
        if room <= 0 and new.size and not any(v.size for v in violated):
            capped = True
            if swaps_left == 0:
                break
            # swap: the weakest blocks make way for the best-priced ones; kept only if it pays
            swaps_left -= 1
            best = best or (sol.objective(program), sol, nu, n_rows)
            k = min(swap_size, new.size, int(keep.sum()))
            weakest = np.argsort(sol.block_norms() + np.where(keep, 0, np.inf), kind="stable")[:k]
            keep[weakest] = False
            room = k
        new = new[: max(room, 0)]
        pattern, sign = pattern[keep], sign[keep]
        rows = [rows[b] for b in np.flatnonzero(keep)]
        pattern = np.concatenate([pattern, new // 2])
        sign = np.concatenate([sign, np.where(new % 2 == 0, 1.0, -1.0)])
        rows += [base_rows[i] for i in new // 2]
    info = WorkingSetInfo(
        rounds=rounds,
        blocks=len(pattern),
        rows=n_rows,
        rows_added=rows_added,
        max_kappa_outside=max_out,
        converged=converged,
        capped=capped,
        pricing_time=pricing_time,
    )
    return sol, stats, info, nu
