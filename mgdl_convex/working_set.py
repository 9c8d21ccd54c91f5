"""Exact solution of a grade program by a working set of blocks and rows.

The direct program (:func:`mgdl_convex.program.solve_direct`) carries 2P weight
blocks and 2nP cone rows, although at the optimum only a few blocks are
non-zero and each cone is defined by a few rows.  This solver keeps the same
program and the same optimum, and hands the solver only what can matter.
Each round is a sequence of named steps:

1. **Solve** the program restricted to the working set (:func:`solve_blocks`).
2. **Add rows.**  Per pattern the solver sees the rows of
   :func:`mgdl_convex.cones.pattern_rows` (all rows unless the samples lie along
   a 1-D curve or a grid); on a grid in two or more dimensions a block enters
   with only those next to its split (:class:`mgdl_convex.cones.EntryRows`).
   The kept blocks are checked against *every* row of their cone; a violated
   row is added and the program solved again.
3. **Price** every block left out with the effective residual ``r - nu`` (the
   residual on the training rows, corrected by the bounds' multipliers nu where
   there are bounds; see :func:`mgdl_convex.program.bound_multipliers`).  By the
   optimality conditions of the program the zero block (i, sign) is optimal iff
   ``kappa_i^{sign}(r - nu) <= beta``; blocks above that are added (largest
   first, ``initial_blocks`` per round, doubling after each round without progress
   up to 4 times as many: with bounds, blocks help only in groups; near-duplicates of a
   better-priced block, see :func:`mgdl_convex.recovery.duplicate_groups`, go last).
4. **Drop** blocks that are zero at the restricted optimum (column deletion),
   but only after a round that lowered the restricted optimum by more than
   ``progress_rtol``.  Adding blocks never raises the restricted optimum and
   dropping zero blocks does not change it, so between two drops the optimum
   strictly decreases and no working set comes back: the loop ends.  Dropping
   after a round without progress could cycle, and does with bounds, where a
   block is useful only together with others (a bump between two zeros of e
   needs several neurons at once): those rounds keep every block, until the working
   set holds ``max_working_set`` blocks (then zero blocks go anyway; ``max_rounds``
   bounds the loop, and the certificate judges the result).
5. **Swap** (width cap only, see below).

It stops when no row is violated and no block left out prices above
``beta (1 + price_rtol)``: the restricted optimum, padded with zero blocks,
then satisfies the optimality conditions of the whole program.  Every block
is priced in every round, so the result is exact for the patterns given, not
a heuristic restriction; the grade's certificate
(:mod:`mgdl_convex.certificate`) re-checks it independently.

**Width cap (greedy).**  With ``max_blocks`` the working set never holds more
non-zero blocks than that; once full, up to ``swap_rounds`` swaps replace the
``swap_size`` weakest blocks by the best-priced ones left out, each kept only if
the restricted optimum drops.  The result is exact over its kept blocks only.

**Overflow.**  With ``overflow_blocks`` the loop gives up (``info.overflow``) once
a restricted optimum has more groups of near-duplicate blocks than that
(:func:`mgdl_convex.recovery.duplicate_groups`: an interior point spreads one neuron
over neighbouring patterns), or more than four times as many blocks.  The regularisation path
of :mod:`mgdl_convex.path` uses it to refuse betas whose optimum is far wider
than the grade may be.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from .certificate import PatternRows, entry_rows, program_kappa, program_rows
from .clarabel_native import solve_blocks_native
from .compression import LossAtoms
from .faults import GradeTimeLimit
from .program import (
    BlockSolution,
    GradeProgram,
    bound_constraints,
    bound_multipliers,
    effective_residual,
    negligible_norm,
)
from .progress import emit
from .recovery import MERGE_DIFFER, duplicate_groups, pattern_differences
from .solvers import SolveStats, solve_problem
from .thresholds import ThresholdPatterns

__all__ = [
    "WorkingSetOptions",
    "WorkingSet",
    "WorkingSetInfo",
    "WorkingSetResult",
    "solve_working_set",
    "solve_blocks",
]


@dataclass(frozen=True)
class WorkingSetOptions:
    """How the working set is run (module docstring).

    ``deadline`` is a ``time.perf_counter()`` value: between rounds, once it has
    passed, :class:`~mgdl_convex.faults.GradeTimeLimit` is raised.
    """

    solver: str = "CLARABEL"
    solver_options: dict | None = None
    interface: str = "native"
    initial_blocks: int = 16
    max_rounds: int = 100
    price_rtol: float = 1e-7
    row_rtol: float = 1e-7
    drop_rtol: float = 1e-6
    progress_rtol: float = 1e-9
    max_blocks: int | None = None
    swap_rounds: int = 4
    swap_size: int = 4
    overflow_blocks: int | None = None
    max_working_set: int = 2048
    deadline: float | None = None


@dataclass
class WorkingSet:
    """The blocks (pattern, sign) in the restricted program and the cone rows of each."""

    pattern: np.ndarray
    sign: np.ndarray
    rows: list[np.ndarray]

    def keep(self, mask: np.ndarray) -> None:
        self.pattern, self.sign = self.pattern[mask], self.sign[mask]
        self.rows = [self.rows[b] for b in np.flatnonzero(mask)]

    def add(self, blocks: np.ndarray, base_rows: list[np.ndarray]) -> None:
        """Add blocks given as ``2 i`` (v_i) or ``2 i + 1`` (w_i)."""
        self.pattern = np.concatenate([self.pattern, blocks // 2])
        self.sign = np.concatenate([self.sign, np.where(blocks % 2 == 0, 1.0, -1.0)])
        self.rows += [entry_rows(base_rows, i) for i in blocks // 2]

    def block_ids(self) -> np.ndarray:
        return 2 * self.pattern + (self.sign < 0)

    def copy(self) -> WorkingSet:
        return WorkingSet(self.pattern.copy(), self.sign.copy(), list(self.rows))


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
    overflow: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class WorkingSetResult:
    """The restricted optimum (every block of the final working set), the statistics of every
    solve, the summary, the bound multipliers ``nu`` of the last solve, and the working set
    itself (to warm-start a related program)."""

    solution: BlockSolution
    stats: list[SolveStats]
    info: WorkingSetInfo
    nu: np.ndarray
    working_set: WorkingSet = field(repr=False)


# --------------------------------------------------------------------------- step 1: solve
def _restricted_problem(program: GradeProgram, ws: WorkingSet):
    n, q = program.n, program.q
    B = len(ws.pattern)
    masks = program.D[:, ws.pattern] * ws.sign  # (N, B)
    F = (masks[:, :, None] * program.Zb[:, None, :]).reshape(program.n_points, B * q)
    X = cp.Variable((B, q))
    x = cp.vec(X, order="C")
    pred = sp.csr_matrix(F) @ x
    G_parts, r_idx, c_idx = [], [], []
    offset = 0
    for b in range(B):
        R = ws.rows[b]
        s = 2.0 * program.D[R, ws.pattern[b]] - 1.0
        G_parts.append((s[:, None] * program.Zb[R]).ravel())
        r_idx.append(np.repeat(np.arange(offset, offset + R.size), q))
        c_idx.append(np.tile(np.arange(b * q, (b + 1) * q), R.size))
        offset += R.size
    G = sp.csr_matrix((np.concatenate(G_parts), (np.concatenate(r_idx), np.concatenate(c_idx))), shape=(offset, B * q))
    bounds = bound_constraints(program, pred)
    loss = cp.sum_squares(pred[:n] - program.e[:n]) / (2 * n)
    objective = loss + program.beta * cp.sum(cp.norm(X, 2, axis=1))
    constraints = [G @ x >= 0, *bounds]
    return cp.Problem(cp.Minimize(objective), constraints), X, bounds, offset


def solve_blocks(
    program: GradeProgram,
    pattern: np.ndarray,
    sign: np.ndarray,
    rows: list[np.ndarray],
    solver: str,
    solver_options: dict | None,
    interface: str = "native",
    atoms: LossAtoms | None = None,
) -> tuple[BlockSolution, SolveStats, np.ndarray, int]:
    """Solve the program restricted to the given blocks and cone rows (rows[b] for block b).

    ``interface="native"`` hands CLARABEL the program directly
    (:mod:`mgdl_convex.clarabel_native`, which compresses the loss from ``atoms`` when they are
    the program's); every other solver, and ``interface="cvxpy"``, goes through CVXPY.
    """
    if solver == "CLARABEL" and interface == "native":
        return solve_blocks_native(program, pattern, sign, rows, solver_options, atoms=atoms)
    if interface not in ("native", "cvxpy"):
        raise ValueError(f"interface must be 'native' or 'cvxpy', got {interface!r}")
    ws = WorkingSet(np.asarray(pattern), np.asarray(sign, dtype=float), rows)
    problem, X, bounds, n_rows = _restricted_problem(program, ws)
    what = f"a grade program restricted to {len(pattern)} blocks (n={program.n}, q={program.q})"
    stats = solve_problem(problem, solver, solver_options, what)
    sol = BlockSolution(pattern=np.asarray(pattern), sign=np.asarray(sign, dtype=float), U=np.asarray(X.value).T)
    return sol, stats, bound_multipliers(program, bounds), n_rows


def _solve_step(program: GradeProgram, ws: WorkingSet, options: WorkingSetOptions, rounds: int, atoms=None):
    solver_options = options.solver_options
    if options.deadline is not None:
        left = options.deadline - time.perf_counter()
        if left <= 0:
            raise GradeTimeLimit(f"the grade's time limit ran out after {rounds} working-set round(s)")
        if options.solver == "CLARABEL":
            solver_options = {**(solver_options or {}), "time_limit": left}
    return solve_blocks(
        program, ws.pattern, ws.sign, ws.rows, options.solver, solver_options, options.interface, atoms=atoms
    )


def _too_wide(program: GradeProgram, sol: BlockSolution, overflow_blocks: int) -> bool:
    """The overflow test: more than ``overflow_blocks`` groups of near-duplicate blocks (module
    docstring), or more than four times as many blocks."""
    if sol.n_blocks <= overflow_blocks:
        return False
    if sol.n_blocks > 4 * overflow_blocks:
        return True
    differ = pattern_differences(program.D, sol.pattern)
    return np.unique(duplicate_groups(differ, sol.sign, MERGE_DIFFER[0])).size > overflow_blocks


# --------------------------------------------------------------------------- step 2: rows
def _violated_rows(program: GradeProgram, sol: BlockSolution, rows: list[np.ndarray], rtol: float) -> list[np.ndarray]:
    """Rows left out of each block's program that its weights violate.

    A violation v at a row is a difference of v between the network and the convex
    prediction there.  It counts once it exceeds ``rtol ||Zb_j|| max_b ||U_b||`` (the
    solver meets the rows it was given only to its own tolerance, so a block that is
    numerically zero must not trigger rounds of its own) and ``rtol * 0.1 max |e|``
    (so that a solution that is zero up to noise does not either).
    """
    m = program.n_cone
    out = [np.zeros(0, dtype=int)] * sol.n_blocks
    if sol.n_blocks == 0 or isinstance(program.D, ThresholdPatterns):
        # a threshold pattern's rows are its side's extreme samples, and the gate is affine along
        # the line: it has the right sign on the whole side iff it has at those rows
        return out
    vals = program.Zb[:m] @ sol.U
    largest = max(float(sol.block_norms().max(initial=0.0)), 1e-300)
    floor = rtol * 0.1 * float(np.max(np.abs(program.e[: program.n]), initial=0.0))
    scale = np.maximum(rtol * np.linalg.norm(program.Zb[:m], axis=1) * largest, floor)[:, None]
    # on the pattern's side (D = 1) the gate must be >= 0, off it <= 0
    bad = np.where(program.D[:m, sol.pattern], vals < -scale, vals > scale)
    for b in np.flatnonzero(bad.any(axis=0)):
        out[b] = np.setdiff1d(np.flatnonzero(bad[:, b]), rows[b], assume_unique=True)
    return out


def _add_rows(program: GradeProgram, sol: BlockSolution, ws: WorkingSet, rtol: float) -> int:
    added = 0
    for b, extra in enumerate(_violated_rows(program, sol, ws.rows, rtol)):
        if extra.size:
            ws.rows[b] = np.union1d(ws.rows[b], extra)
            added += extra.size
    return added


# --------------------------------------------------------------------------- step 3: price
def _price(program: GradeProgram, prediction: np.ndarray, nu: np.ndarray, ws: WorkingSet, base_rows, threshold: float):
    """Prices of every block, those in the working set set to -inf (shape (P, 2))."""
    r_eff = effective_residual(program, prediction, nu)
    kap = program_kappa(program, r_eff, base_rows, threshold=threshold)
    kap[ws.pattern, np.where(ws.sign > 0, 0, 1)] = -np.inf
    return kap


def _spread_out(program: GradeProgram, ranked: np.ndarray, room: int) -> np.ndarray:
    """The blocks to add first, best price first, skipping near-duplicates of better-priced ones.

    Blocks are numbered ``2 i + (sign < 0)``.  Of the best ``2 room`` candidates, one whose
    pattern differs on at most ``MERGE_DIFFER[0]`` samples from a better one of the same sign
    goes to the back: on dense samples the best prices sit on neighbouring patterns of one
    neuron, and a round that adds them all adds one neuron.  Only the order changes, so the
    loop's stopping rule (no block priced above beta) is untouched.
    """
    head = ranked[: 2 * room]
    if head.size < 2:
        return ranked
    differ = pattern_differences(program.D, head // 2)
    same_sign = (head[:, None] % 2) == (head[None, :] % 2)
    near = same_sign & (differ <= MERGE_DIFFER[0])
    first = []
    for i in range(head.size):
        if not any(near[i, j] for j in first):
            first.append(i)
    rest = np.setdiff1d(np.arange(head.size), first, assume_unique=True)
    return np.concatenate([head[first], head[rest], ranked[2 * room :]])


# --------------------------------------------------------------------------- step 4: drop
def _nonzero(program: GradeProgram, sol: BlockSolution, rtol: float) -> np.ndarray:
    """Blocks above ``rtol`` of the largest, and able to move the prediction by more than 1e-7 max |e|
    (a solution that is zero up to the solver's noise has no non-zero block)."""
    norms = sol.block_norms()
    return norms > max(rtol * float(norms.max(initial=0.0)), negligible_norm(program), 1e-300)


# --------------------------------------------------------------------------- the loop
def _initial_working_set(program, options, base_rows, initial_kappa, restrict_to, start) -> tuple[WorkingSet, float]:
    if restrict_to is not None:
        pattern, sign = (np.asarray(a) for a in restrict_to)
        return WorkingSet(pattern, np.asarray(sign, dtype=float), [entry_rows(base_rows, i) for i in pattern]), 0.0
    if start is not None:
        return start.copy(), 0.0
    t0 = time.perf_counter()
    if initial_kappa is None:
        zero = np.zeros(program.n_points)
        initial_kappa = program_kappa(program, effective_residual(program, zero, zero), base_rows)
    kap = initial_kappa
    top = np.argsort(-kap.ravel(), kind="stable")[: options.max_blocks or options.initial_blocks]
    ws = WorkingSet(np.zeros(0, int), np.zeros(0), [])
    ws.add(top, base_rows)
    return ws, time.perf_counter() - t0


def solve_working_set(
    program: GradeProgram,
    options: WorkingSetOptions | None = None,
    order: np.ndarray | None = None,
    *,
    rows: list[np.ndarray] | None = None,
    initial_kappa: np.ndarray | None = None,
    restrict_to: tuple[np.ndarray, np.ndarray] | None = None,
    start: WorkingSet | None = None,
) -> WorkingSetResult:
    """Solve the grade program exactly by working sets (module docstring).

    ``order`` sorts the real rows along a 1-D curve (enables row reduction).
    ``rows`` and ``initial_kappa`` (the cone rows of every pattern and the prices of the
    target) may be passed in when the caller has them.  ``restrict_to = (pattern, sign)``
    fixes the blocks (no pricing): the program then is the one restricted to them.
    ``start`` warm-starts from another program's working set (same patterns).
    """
    options = options or WorkingSetOptions()
    beta = program.beta
    threshold = beta * (1 + options.price_rtol)
    base_rows = rows if rows is not None else program_rows(program, order)
    atoms = base_rows.atoms if isinstance(base_rows, PatternRows) else None
    ws, pricing_time = _initial_working_set(program, options, base_rows, initial_kappa, restrict_to, start)
    stats: list[SolveStats] = []
    rows_added, max_out = 0, 0.0
    converged = capped = overflow = False
    best = None  # (objective, sol, nu, n_rows, working set) of the best capped solution, once capped
    swaps_left = options.swap_rounds
    last_objective = np.inf
    rounds = stalled = 0
    while rounds < options.max_rounds:
        sol, st, nu, n_rows = _solve_step(program, ws, options, rounds, atoms)
        rounds += 1
        stats.append(st)
        prediction = sol.prediction(program)
        objective = sol.objective(program, prediction)
        emit("working set: round %d, %d blocks, %d rows, obj %.6g", rounds, len(ws.pattern), n_rows, objective)
        violated = _add_rows(program, sol, ws, options.row_rtol)
        rows_added += violated
        solved = ws.copy()  # the blocks of sol, with their rows
        if best is not None:
            if objective >= best[0]:
                _, sol, nu, n_rows, solved = best  # the swap did not pay: keep the best capped solution
                break
            best = (objective, sol, nu, n_rows, solved)
        if restrict_to is not None:
            if not violated:
                converged = True
                break
            continue
        nonzero = _nonzero(program, sol, options.drop_rtol)
        if options.overflow_blocks is not None and _too_wide(program, sol.select(nonzero), options.overflow_blocks):
            overflow = True
            break
        t0 = time.perf_counter()
        kap = _price(program, prediction, nu, ws, base_rows, threshold)
        pricing_time += time.perf_counter() - t0
        max_out = float(max(0.0, kap.max(initial=0.0)))
        new = np.flatnonzero(kap.ravel() > threshold)
        if new.size == 0 and not violated:
            converged = True
            break
        progress = objective < last_objective - options.progress_rtol * max(abs(objective), 1e-300)
        last_objective = min(last_objective, objective)
        stalled = 0 if progress else stalled + 1
        full = len(ws.pattern) >= options.max_working_set
        keep = nonzero if progress or full else np.ones(len(ws.pattern), dtype=bool)
        room = options.initial_blocks * 2 ** min(stalled, 2)  # no progress: larger batches
        if options.max_blocks is not None:  # capped: the working set never exceeds the width
            room = min(room, options.max_blocks - int(keep.sum()))
        new = _spread_out(program, new[np.argsort(-kap.ravel()[new], kind="stable")], max(room, 1))
        if room <= 0 and new.size and not violated:
            capped = True
            if swaps_left == 0:
                break
            # swap: the weakest blocks make way for the best-priced ones; kept only if it pays
            swaps_left -= 1
            best = best or (objective, sol, nu, n_rows, solved)
            k = min(options.swap_size, new.size, int(keep.sum()))
            weakest = np.argsort(sol.block_norms() + np.where(keep, 0, np.inf), kind="stable")[:k]
            keep[weakest] = False
            room = k
        ws.keep(keep)
        ws.add(new[: max(room, 0)], base_rows)
    info = WorkingSetInfo(
        rounds=rounds,
        blocks=len(sol.pattern),
        rows=n_rows,
        rows_added=rows_added,
        max_kappa_outside=max_out,
        converged=converged,
        capped=capped,
        pricing_time=pricing_time,
        overflow=overflow,
    )
    return WorkingSetResult(sol, stats, info, nu, solved)
