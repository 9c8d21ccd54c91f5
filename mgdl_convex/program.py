"""The convex program of one grade (Pilanci & Ergen), exactly as in THEORY section 3.

Input ``Zb = [Z, 1]`` (n x q), target ``e`` (the residual left by earlier grades),
patterns ``D_1..D_P`` (columns of a boolean n x P matrix) and ``beta > 0``::

    minimize   (1/(2n)) || sum_i D_i Zb (v_i - w_i) - e ||^2  +  beta sum_i (||v_i|| + ||w_i||)
    subject to (2 D_i - I) Zb v_i >= 0,   (2 D_i - I) Zb w_i >= 0,      i = 1..P
               lower <= sum_i D_i Zb (v_i - w_i) <= upper      (only with ``monotone``)

The optional bounds are THEORY's pointwise-monotone grades: with
``lower, upper = sorted((1 - rho) e, (1 + rho) e)`` every training point
satisfies ``|e - g| <= rho |e|``.  Zero weights are always feasible.

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

__all__ = ["GradeProgram", "BlockSolution", "monotone_bounds", "solve_direct"]


def monotone_bounds(e: np.ndarray, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on the prediction g that make ``|e - g| <= rho |e|`` pointwise."""
    a, b = (1.0 - rho) * e, (1.0 + rho) * e
    return np.minimum(a, b), np.maximum(a, b)


@dataclass(frozen=True)
class GradeProgram:
    """Data of one grade's convex program (see the module docstring)."""

    Zb: np.ndarray
    e: np.ndarray
    D: np.ndarray
    beta: float
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.Zb.shape[0])

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
        """``sum_b sign_b D_{pattern_b} Zb U_b`` on the training points."""
        masks = program.D[:, self.pattern] * self.sign
        return np.einsum("nb,nb->n", masks, program.Zb @ self.U)

    def objective(self, program: GradeProgram) -> float:
        """The program's objective at this point, evaluated in float64 (not the solver's figure)."""
        r = program.e - self.prediction(program)
        return float(r @ r / (2 * program.n) + program.beta * self.block_norms().sum())

    def cone_violation(self, program: GradeProgram) -> float:
        """Largest violation of a cone constraint, relative to ``||Zb_j|| max_b ||U_b||``."""
        norms = self.block_norms()
        if self.n_blocks == 0 or norms.max() == 0:
            return 0.0
        s = 2.0 * program.D[:, self.pattern] - 1.0
        scale = np.linalg.norm(program.Zb, axis=1)[:, None] * norms.max()
        return float(max(0.0, (-(s * (program.Zb @ self.U)) / scale).max()))


def solve_direct(
    program: GradeProgram, solver: str, solver_options: dict | None = None
) -> tuple[BlockSolution, SolveStats, np.ndarray]:
    """Solve the whole program in CVXPY (every pattern, both signs).

    Returns the solution, the solver's statistics and the bound multipliers
    ``nu = n (mu_upper - mu_lower)`` (zeros without bounds; see :func:`bound_multipliers`).
    """
    n, q, P = program.n, program.q, program.n_patterns
    Zb, D = program.Zb, program.D.astype(float)
    V = cp.Variable((q, P))
    W = cp.Variable((q, P))
    pred = cp.sum(cp.multiply(D, Zb @ (V - W)), axis=1)
    constraints = [cp.multiply(2 * D - 1, Zb @ V) >= 0, cp.multiply(2 * D - 1, Zb @ W) >= 0]
    if program.bounded:
        constraints += [pred <= program.upper, pred >= program.lower]
    penalty = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    problem = cp.Problem(cp.Minimize(cp.sum_squares(pred - program.e) / (2 * n) + program.beta * penalty), constraints)
    stats = solve_problem(problem, solver, solver_options, f"the direct grade program (n={n}, q={q}, P={P})")
    sol = BlockSolution(
        pattern=np.concatenate([np.arange(P), np.arange(P)]),
        sign=np.concatenate([np.ones(P), -np.ones(P)]),
        U=np.hstack([V.value, W.value]),
    )
    return sol, stats, bound_multipliers(program, constraints[2:])


def bound_multipliers(program: GradeProgram, bound_constraints: list) -> np.ndarray:
    """``nu = n (mu_upper - mu_lower)`` from CVXPY's duals of ``pred <= upper`` and ``pred >= lower``.

    The Lagrangian's gradient in the prediction is ``-(r - nu) / n``: the
    *effective residual* ``r - nu`` prices blocks and builds the certificate.
    """
    if not program.bounded:
        return np.zeros(program.n)
    mu_upper, mu_lower = (np.asarray(c.dual_value, dtype=float) for c in bound_constraints)
    return program.n * (mu_upper - mu_lower)
