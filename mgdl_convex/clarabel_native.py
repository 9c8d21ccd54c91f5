"""The restricted grade program handed to Clarabel directly, without CVXPY.

For the blocks ``b = 1..B`` kept by the working set (``x_b`` in R^q, stacked
into ``x``) with ``F = [sign_b D_b Zb]_b`` (rows: every row of the program,
training rows ``T`` first), Clarabel's standard form
``min 1/2 x'Px + c'x  s.t.  Ax + s = b, s in K`` is::

    variables  x (qB), t (B), p (n)
    P = diag(0, 0, I / n),   c = (0, beta 1, 0)
    F_T x - p = e_T                                       (p: the residual's negative, a zero cone)
    -G x + s = 0,         s >= 0                          (cone rows, block diagonal)
    -(t_b, x_b) + s = 0,  s in SOC(q + 1)                 (||x_b|| <= t_b)
    p + s = upper_T - e_T,  -p + s = e_T - lower_T        (bounds on training rows, if any)
    F_C x + s = upper_C,  -F_C x + s = -lower_C           (bounds on the other rows, if any)

Rows with ``lower == upper`` get one row in the zero cone instead of two
opposite inequalities (which would leave the interior point method no
interior: Clarabel then stalls short of its tolerances), and of those only a
linearly independent set (the others are implied; kept, they make the KKT
system singular).

With bounds (or rows beyond the training samples) the training rows are taken in
the coordinates of their mask groups instead: samples with the same mask over the
kept blocks share ``F_G x = Zb_G y_G``, and with the thin QR ``Zb_G = Q_G R_G`` the
prediction there is ``Q_G w_G``, ``w_G = R_G y_G`` (rank of the group: 2 on a
stretch of a 1-D curve).  The residual variable is ``p = w - Q'e`` (a few rows per
group), the loss ``||p||^2 / 2n`` plus a constant, and the bound of sample j a
sparse row ``Q_G[j] . p`` (rank entries) instead of a dense row of F: the bounded
program is then as small as the compressed plain one.
When nothing is bounded the loss rows are first compressed
(:func:`mgdl_convex.compression.compress_loss`: samples grouped by their masks, each
group reduced to its rank, then a streamed QR of ``[F, e]`` that never holds F; with the
program's atoms, :func:`mgdl_convex.compression.loss_atoms`, from their rows, reduced once per
program, instead of the n samples), so the solver sees at most min(n, qB) residual rows, and
on a curve far fewer (a group of samples between two kinks has rank 2: 1024 rows became 170
on a grade of a 1-D scheme).
The residual is a variable rather than ``P = F'F / n``: forming ``F'F``
squares the conditioning and cost 3e-7 relative accuracy in the objective in a
test here.  CVXPY's compilation of the same program costs seconds per round
at n = 1024; building it here costs milliseconds.

From Clarabel's KKT condition ``Px + c + A'z = 0`` the multipliers ``z`` of
the bound rows give ``nu = n (z_upper - z_lower)`` per row, as
:func:`mgdl_convex.program.bound_multipliers` does for CVXPY: the gradient of
the Lagrangian in the prediction is ``-(r - nu) / n``.

The three steps are separate functions: :func:`build_problem` (data only,
testable without solving), :func:`run_clarabel`, :func:`read_solution`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import clarabel
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from .compression import LossAtoms, block_features, compress_loss
from .faults import GradeTimeLimit
from .program import BlockSolution, GradeProgram, bounded_rows
from .solvers import SolveStats, check_status

__all__ = [
    "solve_blocks_native",
    "build_problem",
    "run_clarabel",
    "read_solution",
    "ClarabelProblem",
    "CLARABEL_STATUS",
]

#: Clarabel's statuses mapped onto CVXPY's vocabulary, so one policy applies.
CLARABEL_STATUS = {
    "Solved": "optimal",
    "AlmostSolved": "optimal_inaccurate",
    "MaxIterations": "max_iterations",
    "MaxTime": "time_limit",
    "PrimalInfeasible": "infeasible",
    "DualInfeasible": "unbounded",
    "AlmostPrimalInfeasible": "infeasible_inaccurate",
    "AlmostDualInfeasible": "unbounded_inaccurate",
    "NumericalError": "solver_error",
    "InsufficientProgress": "solver_error",
}


def _settings(options: dict | None) -> clarabel.DefaultSettings:
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    # faer's supernodal LDL on one thread: measured 1.4x faster than the default here
    settings.direct_solve_method = "faer"
    settings.max_threads = 1
    for key, value in (options or {}).items():
        if not hasattr(settings, key):
            raise ValueError(f"unknown Clarabel option {key!r} in solver_options")
        setattr(settings, key, value)
    return settings


@dataclass(frozen=True)
class ClarabelProblem:
    """Clarabel's data for one restricted program, and where to read the answer back."""

    P: sp.csc_matrix
    c: np.ndarray
    A: sp.csc_matrix
    b: np.ndarray
    cones: list
    x_index: np.ndarray  # Clarabel's first entries are these entries of the weights (B x q, flattened)
    n_cone_rows: int
    offset: float  # constant dropped by the QR compression of the loss
    eq_rows: np.ndarray  # rows of the program with an equality, in the order of the constraints
    up_rows: np.ndarray  # rows with an upper bound (that is not an equality)
    lo_rows: np.ndarray
    build_time: float


def _grouped_rows(program: GradeProgram, pattern, sign):
    """The training rows in the coordinates of their mask groups (module docstring, bounded programs).

    Samples with one mask over the kept blocks form a group G; with the thin QR
    ``Zb_G = Q_G R_G`` (rank-revealing), the prediction on G is ``Q_G w_G`` with
    ``w_G = R_G sum_b mask_Gb sign_b x_b``.  Returns ``L`` (sparse, rows ``R_G (mask_G (x) I)``),
    ``c = Q_G' e_G`` stacked, the constant ``sum_G ||e_G - Q_G Q_G' e_G||^2`` and ``Qrows``
    (sparse n x rows) with ``g_T = Qrows (L x)``.
    """
    n, q = program.n, program.q
    B = len(pattern)
    masks = np.asarray(program.D[:, pattern][:n], dtype=bool)
    _, inverse = np.unique(np.packbits(masks, axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    members = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse)
    ends = np.cumsum(counts)
    L_data, L_rows, L_cols, Q_data, Q_rows, Q_cols, rhs = [], [], [], [], [], [], []
    const, top = 0.0, 0
    for g in range(counts.size):
        idx = members[ends[g] - counts[g] : ends[g]]
        Zg, eg = program.Zb[idx], program.e[idx]
        Q, R, perm = sla.qr(Zg, mode="economic", pivoting=True, check_finite=False)
        rank = int(np.sum(np.abs(np.diag(R)) > 1e-13 * abs(R[0, 0]))) if R[0, 0] != 0 else 0
        Rg = np.zeros((rank, q))
        Rg[:, perm] = R[:rank]
        Q = Q[:, :rank]
        ce = Q.T @ eg
        const += float(eg @ eg - ce @ ce)
        on = np.flatnonzero(masks[idx[0]])
        block = (Rg[:, None, :] * sign[on][None, :, None]).reshape(rank, on.size * q)
        cols = (on[:, None] * q + np.arange(q)[None, :]).ravel()
        L_data.append(block.ravel())
        L_rows.append(np.repeat(np.arange(top, top + rank), cols.size))
        L_cols.append(np.tile(cols, rank))
        Q_data.append(Q.ravel())
        Q_rows.append(np.repeat(idx, rank))
        Q_cols.append(np.tile(np.arange(top, top + rank), idx.size))
        rhs.append(ce)
        top += rank
    cat = np.concatenate
    L = sp.csr_matrix((cat(L_data), (cat(L_rows), cat(L_cols))), shape=(top, B * q))
    Qrows = sp.csr_matrix((cat(Q_data), (cat(Q_rows), cat(Q_cols))), shape=(n, top))
    return L, cat(rhs), max(const, 0.0), Qrows


def _independent_rows(E: sp.csr_matrix, rtol: float = 1e-10, max_dense: int = 400) -> np.ndarray:
    """Indices of linearly independent rows of E: zero rows and exact repeats go, then a rank-revealing
    QR of E' picks among the rest (skipped above ``max_dense`` rows: repeats are the usual case, rows
    of zones with the same blocks on).

    An equality that is a combination of others (and consistent: ``g = 0`` is feasible) is
    implied; kept, it makes the KKT system singular.  Its multiplier is then taken as 0.
    """
    if E.shape[0] == 0:
        return np.zeros(0, int)
    used = np.flatnonzero(np.asarray(abs(E).sum(axis=0)).ravel() > 0)
    dense = E[:, used].toarray()
    nonzero = np.flatnonzero(np.abs(dense).sum(axis=1) > 0)
    _, first = np.unique(dense[nonzero], axis=0, return_index=True)
    candidates = np.sort(nonzero[first])
    if candidates.size == 0 or candidates.size > max_dense:
        return candidates
    _, R, perm = sla.qr(dense[candidates].T, mode="economic", pivoting=True, check_finite=False)
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > rtol * diag[0])) if diag.size and diag[0] > 0 else 0
    return np.sort(candidates[perm[:rank]])


def build_problem(
    program: GradeProgram, pattern, sign, rows: list[np.ndarray], atoms: LossAtoms | None = None
) -> ClarabelProblem:
    """Clarabel's standard form of the restricted program (module docstring); ``atoms``: the
    program's training rows pre-reduced (:func:`mgdl_convex.compression.loss_atoms`)."""
    t0 = time.perf_counter()
    n, q = program.n, program.q
    B = len(pattern)
    N = B * q
    sign = np.asarray(sign, dtype=float)
    if not program.bounded and not program.extra_rows:
        F_loss, e_loss, const = compress_loss(program.Zb, program.D, program.e, pattern, sign, atoms=atoms)
        Qrows = None
    else:
        F_loss, e_loss, const, Qrows = _grouped_rows(program, pattern, sign)
    offset = const / (2 * n)
    k = F_loss.shape[0]
    P = sp.block_diag([sp.csc_matrix((N + B, N + B)), sp.identity(k) / n], format="csr")
    c = np.concatenate([np.zeros(N), np.full(B, program.beta), np.zeros(k)])

    G_blocks = []
    for b in range(B):
        R = rows[b]
        s = 2.0 * program.D[R, pattern[b]] - 1.0
        G_blocks.append(sp.csr_matrix(s[:, None] * program.Zb[R]))
    G = sp.block_diag(G_blocks, format="csr")
    m = G.shape[0]
    soc_cols = np.empty(B * (q + 1), dtype=int)
    for b in range(B):
        soc_cols[b * (q + 1)] = N + b
        soc_cols[b * (q + 1) + 1 : (b + 1) * (q + 1)] = np.arange(b * q, (b + 1) * q)
    S = sp.csr_matrix((-np.ones(B * (q + 1)), (np.arange(B * (q + 1)), soc_cols)), shape=(B * (q + 1), N + B))
    parts = [
        sp.hstack([sp.csr_matrix(F_loss), sp.csr_matrix((k, B)), -sp.identity(k)]),
        sp.hstack([-G, sp.csr_matrix((m, B + k))]),
        sp.hstack([S, sp.csr_matrix((B * (q + 1), k))]),
    ]
    rhs = [e_loss, np.zeros(m), np.zeros(B * (q + 1))]
    cones = [clarabel.ZeroConeT(k), clarabel.NonnegativeConeT(m)] + [clarabel.SecondOrderConeT(q + 1)] * B
    up_rows, lo_rows, eq_rows = bounded_rows(program)
    bound_rows = []
    for idx, sgn in ((eq_rows, 1.0), (up_rows, 1.0), (lo_rows, -1.0)) if program.bounded else ():
        bound = program.upper if sgn > 0 else program.lower
        T, C = idx[idx < n], idx[idx >= n]
        # training rows: g_T = Qrows (p + e_loss), sparse in p; other rows: F_C x, dense (few rows)
        F_C = block_features(program.Zb[C], np.asarray(program.D[:, pattern])[C], sign)
        rows_b = sp.vstack([sp.hstack([sp.csr_matrix((T.size, N + B)), sgn * Qrows[T]]),
                            sp.hstack([sp.csr_matrix(sgn * F_C), sp.csr_matrix((C.size, B + k))])], format="csr")
        rhs_b = np.concatenate([sgn * (bound[T] - Qrows[T] @ e_loss), sgn * bound[C]])
        which = np.concatenate([T, C])
        if idx is eq_rows:
            keep = _independent_rows(rows_b)
            rows_b, rhs_b, which = rows_b[keep], rhs_b[keep], which[keep]
            eq_rows = which
        parts.append(rows_b)
        rhs.append(rhs_b)
        bound_rows.append(which)
    if eq_rows.size:
        cones.append(clarabel.ZeroConeT(eq_rows.size))
    if up_rows.size + lo_rows.size:
        cones.append(clarabel.NonnegativeConeT(up_rows.size + lo_rows.size))
    A = sp.vstack(parts, format="csr")
    b_vec = np.concatenate(rhs)
    build_time = time.perf_counter() - t0
    if not bound_rows:
        bound_rows = [np.zeros(0, int)] * 3
    x_index = np.arange(N)
    return ClarabelProblem(
        sp.csc_matrix(P), c, sp.csc_matrix(A), b_vec, cones, x_index, m, offset, *bound_rows, build_time
    )


def run_clarabel(problem: ClarabelProblem, solver_options: dict | None, what: str):
    """Solve; apply the status policy (a time-limit stop raises ``GradeTimeLimit``)."""
    solver = clarabel.DefaultSolver(
        problem.P, problem.c, problem.A, problem.b, problem.cones, _settings(solver_options)
    )
    result = solver.solve()
    status = CLARABEL_STATUS.get(str(result.status), f"unknown ({result.status})")
    if status == "time_limit":
        raise GradeTimeLimit(f"Clarabel stopped at the grade's time limit after {result.iterations} iterations")
    check_status(status, "CLARABEL", what)
    return result, status


def read_solution(program: GradeProgram, problem: ClarabelProblem, pattern, sign, result, status):
    """The blocks, the statistics and the bound multipliers ``nu`` (one per row) of a solve."""
    B, q = len(pattern), program.q
    x = np.asarray(result.x)
    flat = np.zeros(B * q)
    flat[problem.x_index] = x[: problem.x_index.size]
    U = flat.reshape(B, q).T
    sol = BlockSolution(pattern=np.asarray(pattern), sign=np.asarray(sign, dtype=float), U=U)
    nu = np.zeros(program.n_points)
    n_eq, n_up, n_lo = problem.eq_rows.size, problem.up_rows.size, problem.lo_rows.size
    if n_eq + n_up + n_lo:
        z = np.asarray(result.z)[-(n_eq + n_up + n_lo) :]
        nu[problem.eq_rows] += program.n * z[:n_eq]
        nu[problem.up_rows] += program.n * z[n_eq : n_eq + n_up]
        nu[problem.lo_rows] -= program.n * z[n_eq + n_up :]
    stats = SolveStats(
        solver="CLARABEL",
        status=status,
        compile_time=problem.build_time,
        solve_time=float(result.solve_time),
        iterations=int(result.iterations),
        primal_objective=float(result.obj_val) + problem.offset,
    )
    return sol, stats, nu


def solve_blocks_native(
    program: GradeProgram,
    pattern: np.ndarray,
    sign: np.ndarray,
    rows: list[np.ndarray],
    solver_options: dict | None = None,
    atoms: LossAtoms | None = None,
) -> tuple[BlockSolution, SolveStats, np.ndarray, int]:
    """Solve the program restricted to the given blocks and rows with Clarabel's own API."""
    problem = build_problem(program, pattern, sign, rows, atoms)
    what = f"a grade program restricted to {len(pattern)} blocks (n={program.n}, q={program.q})"
    result, status = run_clarabel(problem, solver_options, what)
    sol, stats, nu = read_solution(program, problem, pattern, sign, result, status)
    return sol, stats, nu, problem.n_cone_rows
