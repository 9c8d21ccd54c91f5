"""The convex program of one grade (Pilanci & Ergen), as in docs/theory.md, section 2.

Input ``Zb = [Z, 1]`` (n x q), target ``e`` (the residual left by earlier grades),
patterns ``D_1..D_P`` (columns of a boolean n x P matrix) and ``beta > 0``::

    minimize   (1/(2n)) || sum_i D_i Zb (v_i - w_i) - e ||^2  +  beta sum_i (||v_i|| + ||w_i||)
    subject to (2 D_i - I) Zb v_i >= 0,   (2 D_i - I) Zb w_i >= 0,      i = 1..P
               lower <= sum_i D_i Zb (v_i - w_i) <= upper      (only with ``monotone``)

The optional bounds make the grade pointwise monotone: with
``lower, upper = sorted((1 - rho) e, (1 + rho) e)`` every training point
satisfies ``|e - g| <= rho |e|``.  Zero weights are always feasible.

**Rows beyond the training samples.**  The rows of ``Zb`` (and ``e``, ``D``,
the bounds) come in three groups, in this order:

* ``n`` *training* rows: the loss is ``(1/(2n)) sum_j (e_j - g_j)^2`` over them;
* *constraint points*: real points of the domain with zero weight in the loss,
  carrying bounds on g and cone rows (so that the recovered network takes the
  convex prediction there, and the bound holds for the network too);
* *virtual rows*: a row ``Zb_j`` that is not a point (for instance a unit
  vector) with a pattern column ``D_j``; it has no cone rows and exists to
  carry a bound on the linear form ``sum_i D_ij Zb_j (v_i - w_i)``.  Bounds
  ``[0, 0]`` on the q unit vectors with the activation of a region say that
  the blocks active on that region sum to zero, so g vanishes on all of it.

``n_train`` and ``n_real`` mark the groups (default: every row is a training
row).  Without extra rows the program is the one above.

A solution is stored by *blocks*: block ``b`` is a pattern index ``pattern[b]``,
a sign ``sign[b]`` (+1 for a ``v_i``, -1 for a ``w_i``) and a weight column
``U[:, b]``; blocks not listed are zero.  This serves both formulations: the
direct one (every pattern, both signs) and the working-set one of
:mod:`mgdl_convex.working_set` (only the blocks that can be non-zero).

:func:`solve_direct` is the program written straight into CVXPY, the baseline
every speed figure is a ratio against (``benchmarks/``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from .solvers import SolveStats, solve_problem
from .thresholds import ThresholdPatterns

__all__ = [
    "GradeProgram",
    "BlockSolution",
    "monotone_bounds",
    "solve_direct",
    "bounded_rows",
    "bound_multipliers",
    "effective_residual",
    "negligible_norm",
]


def monotone_bounds(e: np.ndarray, rho: float, zero_rtol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on the prediction g that make ``|e - g| <= rho |e|`` pointwise.

    Where ``|e|`` is at most ``zero_rtol max |e|`` both bounds are 0 (``g = 0`` there): an
    interval of width 1e-15 is an equality in all but name, and the solver is told so.
    """
    a, b = (1.0 - rho) * e, (1.0 + rho) * e
    lower, upper = np.minimum(a, b), np.maximum(a, b)
    tiny = np.abs(e) <= zero_rtol * float(np.max(np.abs(e), initial=0.0))
    lower[tiny] = upper[tiny] = 0.0
    return lower, upper


@dataclass(frozen=True)
class GradeProgram:
    """Data of one grade's convex program (see the module docstring)."""

    Zb: np.ndarray
    e: np.ndarray
    D: np.ndarray
    beta: float
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    n_train: int | None = None  # rows [0, n_train) carry the loss (default: all)
    n_real: int | None = None  # rows [0, n_real) are points with cone rows (default: all)
    @property
    def n(self) -> int:
        """Training rows: the loss is ``||e - g||^2 / (2n)`` over them."""
        return int(self.Zb.shape[0] if self.n_train is None else self.n_train)

    @property
    def n_points(self) -> int:
        """Every row: training rows, constraint points and virtual rows."""
        return int(self.Zb.shape[0])

    @property
    def n_cone(self) -> int:
        """Rows with cone constraints (training rows and constraint points)."""
        return int(self.Zb.shape[0] if self.n_real is None else self.n_real)

    @property
    def extra_rows(self) -> bool:
        return self.n_points > self.n

    @property
    def q(self) -> int:
        return int(self.Zb.shape[1])

    @property
    def n_patterns(self) -> int:
        return int(self.D.shape[1])

    @property
    def bounded(self) -> bool:
        return self.lower is not None


@dataclass(frozen=True)
class BlockSolution:
    """Non-zero blocks of a solution: ``U[:, b]`` is ``v_{pattern[b]}`` if ``sign[b] > 0`` else ``w_{pattern[b]}``."""

    pattern: np.ndarray
    sign: np.ndarray
    U: np.ndarray

    @property
    def n_blocks(self) -> int:
        return int(self.pattern.size)

    def block_norms(self) -> np.ndarray:
        return np.linalg.norm(self.U, axis=0)

    def select(self, keep: np.ndarray) -> BlockSolution:
        return BlockSolution(self.pattern[keep], self.sign[keep], self.U[:, keep])

    def prediction(self, program: GradeProgram) -> np.ndarray:
        """``sum_b sign_b D_{pattern_b} Zb U_b`` on every row of the program (training rows first)."""
        if self.n_blocks == 0:
            return np.zeros(program.Zb.shape[0])
        if isinstance(program.D, ThresholdPatterns):  # O(n + B), no n x B matrix
            return program.D.combine(self.pattern, self.U * self.sign)
        out = program.Zb @ self.U
        out *= program.D[:, self.pattern]
        return out @ self.sign

    def objective(self, program: GradeProgram, prediction: np.ndarray | None = None) -> float:
        """The program's objective at this point, evaluated in float64 (not the solver's figure);
        ``prediction``: :meth:`prediction`, if the caller has it."""
        n = program.n
        g = self.prediction(program) if prediction is None else prediction
        r = program.e[:n] - g[:n]
        return float(r @ r / (2 * n) + program.beta * self.block_norms().sum())

    def bound_violation(self, program: GradeProgram) -> float:
        """Largest violation of a bound on the prediction (0 without bounds)."""
        if not program.bounded:
            return 0.0
        g = self.prediction(program)
        return float(max(0.0, np.max(program.lower - g, initial=0.0), np.max(g - program.upper, initial=0.0)))

    def cone_violation(self, program: GradeProgram) -> float:
        """Largest violation of a cone constraint, relative to ``||Zb_j|| max_b ||U_b||``."""
        norms = self.block_norms()
        if self.n_blocks == 0 or norms.max() == 0:
            return 0.0
        m = program.n_cone
        s = 2.0 * program.D[:, self.pattern][:m] - 1.0
        scale = np.linalg.norm(program.Zb[:m], axis=1)[:, None] * norms.max()
        return float(max(0.0, (-(s * (program.Zb[:m] @ self.U)) / scale).max()))


def solve_direct(
    program: GradeProgram, solver: str, solver_options: dict | None = None
) -> tuple[BlockSolution, SolveStats, np.ndarray]:
    """Solve the whole program in CVXPY (every pattern, both signs).

    Returns the solution, the solver's statistics and the bound multipliers
    ``nu = n (mu_upper - mu_lower)`` (zeros without bounds; see :func:`bound_multipliers`).
    """
    n, q, P, m = program.n, program.q, program.n_patterns, program.n_cone
    Zb, D = program.Zb, program.D.astype(float)
    V = cp.Variable((q, P))
    W = cp.Variable((q, P))
    pred = cp.sum(cp.multiply(D, Zb @ (V - W)), axis=1)
    cone = 2 * D[:m] - 1
    constraints = [cp.multiply(cone, Zb[:m] @ V) >= 0, cp.multiply(cone, Zb[:m] @ W) >= 0]
    constraints += bound_constraints(program, pred)
    penalty = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    loss = cp.sum_squares(pred[:n] - program.e[:n]) / (2 * n)
    problem = cp.Problem(cp.Minimize(loss + program.beta * penalty), constraints)
    stats = solve_problem(problem, solver, solver_options, f"the direct grade program (n={n}, q={q}, P={P})")
    sol = BlockSolution(
        pattern=np.concatenate([np.arange(P), np.arange(P)]),
        sign=np.concatenate([np.ones(P), -np.ones(P)]),
        U=np.hstack([V.value, W.value]),
    )
    return sol, stats, bound_multipliers(program, constraints[-3:] if program.bounded else [])


def bounded_rows(program: GradeProgram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a finite upper bound only-or-also, with a finite lower bound, and with ``lower == upper``.

    Equal bounds are an equality: the solvers get it as one (two opposite inequalities leave
    an interior point method no interior to walk in), so those rows are in neither of the
    first two lists.
    """
    if not program.bounded:
        empty = np.zeros(0, int)
        return empty, empty, empty
    lower, upper = program.lower, program.upper
    eq = np.isfinite(upper) & (lower == upper)
    return np.flatnonzero(np.isfinite(upper) & ~eq), np.flatnonzero(np.isfinite(lower) & ~eq), np.flatnonzero(eq)


def bound_constraints(program: GradeProgram, pred) -> list:
    """CVXPY constraints ``pred <= upper``, ``pred >= lower`` and ``pred == bound`` (:func:`bounded_rows`)."""
    if not program.bounded:
        return []
    up, lo, eq = bounded_rows(program)
    return [pred[up] <= program.upper[up], pred[lo] >= program.lower[lo], pred[eq] == program.upper[eq]]


def bound_multipliers(program: GradeProgram, bound_constraints: list) -> np.ndarray:
    """``nu = n (mu_upper - mu_lower)`` from CVXPY's duals of :func:`bound_constraints`.

    The Lagrangian's gradient in the prediction is ``-(r - nu) / n`` (r the residual on
    training rows, 0 elsewhere): the *effective residual* ``r - nu`` prices blocks and
    builds the certificate.  An equality's multiplier has either sign.
    """
    nu = np.zeros(program.n_points)
    if not program.bounded:
        return nu
    up, lo, eq = bounded_rows(program)
    mu_upper, mu_lower, mu_eq = (np.asarray(c.dual_value, dtype=float).ravel() for c in bound_constraints)
    nu[up] += program.n * mu_upper
    nu[lo] -= program.n * mu_lower
    # CVXPY's dual of ``pred == b`` is the multiplier of ``pred - b`` (its sign convention)
    nu[eq] += program.n * mu_eq
    return nu


def negligible_norm(program: GradeProgram, rtol: float = 1e-7) -> float:
    """A block norm below which a block cannot move the prediction by ``rtol max |e|`` anywhere."""
    reach = float(np.max(np.linalg.norm(program.Zb, axis=1), initial=1.0))
    return rtol * float(np.max(np.abs(program.e[: program.n]), initial=0.0)) / reach


def effective_residual(program: GradeProgram, prediction: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """``r - nu`` on every row, with r = e - g on the training rows and 0 on the others."""
    r = -np.asarray(nu, dtype=float).copy()
    n = program.n
    r[:n] += program.e[:n] - prediction[:n]
    return r
