"""The grade program: recovery, formulations and solvers agree, certificates hold."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mgdl_convex.certificate import certify
from mgdl_convex.patterns import sample_patterns
from mgdl_convex.problems import feature_grade_program, first_grade_program
from mgdl_convex.program import BlockSolution, GradeProgram, monotone_bounds, solve_direct
from mgdl_convex.recovery import recover_neurons
from mgdl_convex.working_set import WorkingSetOptions, solve_working_set

TIGHT = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9}


def _ws(prog, order=None, **options):
    """The working set with tight Clarabel tolerances: (solution, stats, info, nu)."""
    res = solve_working_set(prog, WorkingSetOptions(solver_options=TIGHT, **options), order)
    return res.solution, res.stats, res.info, res.nu


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 40), m=st.integers(1, 5), blocks=st.integers(1, 8))
def test_recovery_reproduces_convex_prediction_and_objective(seed, n, m, blocks):
    """At any feasible point the recovered ReLU layer equals the convex model on the samples."""
    rng = np.random.default_rng(seed)
    Zb = np.column_stack([rng.standard_normal((n, m)), np.ones(n)])
    pats = sample_patterns(Zb, blocks, rng)
    P = pats.n_patterns
    # a feasible point: each block a positive multiple of its pattern's own gate (which lies in the cone)
    pattern = np.arange(P)
    sol = BlockSolution(pattern, rng.choice([-1.0, 1.0], P), pats.gates * rng.uniform(0.1, 3.0, P))
    prog = GradeProgram(Zb=Zb, e=rng.standard_normal(n), D=pats.D, beta=0.37)
    assert sol.cone_violation(prog) < 1e-14  # gates pass through a sample: zero up to rounding
    layer = recover_neurons(sol)
    np.testing.assert_allclose(layer(Zb), sol.prediction(prog), rtol=1e-12, atol=1e-12)
    # convex objective == non-convex objective with weight decay (1/2)(||u||^2 + a^2)
    r = prog.e - layer(Zb)
    nonconvex = r @ r / (2 * n) + prog.beta * layer.penalty()
    assert nonconvex == pytest.approx(sol.objective(prog), rel=1e-12)


def _first_grade(n=40, beta=2e-3):
    return first_grade_program(n=n, beta=beta)


def _feature_grade():
    return feature_grade_program(n=64, width=6, n_patterns=24, beta=2e-3)


@pytest.mark.parametrize("make", [_first_grade, _feature_grade])
@pytest.mark.parametrize("interface", ["native", "cvxpy"])
def test_working_set_reaches_the_direct_optimum(make, interface):
    prog, x = make()
    direct, _, _ = solve_direct(prog, "CLARABEL", TIGHT)
    ws, _, info, nu = _ws(prog, np.argsort(x), interface=interface)
    assert info.converged
    assert ws.objective(prog) == pytest.approx(direct.objective(prog), rel=1e-6)
    np.testing.assert_allclose(ws.prediction(prog), direct.prediction(prog), atol=1e-4)
    assert ws.cone_violation(prog) < 1e-6
    cert = certify(prog, ws, nu, complete=make is _first_grade, order=np.argsort(x))
    assert -1e-7 <= cert.relative_gap < 1e-6


def test_clarabel_and_scs_agree_at_tight_tolerance():
    prog, _ = _first_grade(n=30, beta=5e-3)
    a, _, _ = solve_direct(prog, "CLARABEL", TIGHT)
    b, _, _ = solve_direct(prog, "SCS", {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000})
    assert b.objective(prog) == pytest.approx(a.objective(prog), rel=1e-5)


def test_row_reduction_keeps_the_cone_on_a_1d_curve():
    prog, x = _feature_grade()
    ws, _, info, _ = _ws(prog, np.argsort(x))
    assert info.rows < prog.n * info.blocks  # fewer rows than the direct program
    assert ws.cone_violation(prog) < 1e-6  # yet every one of the n rows holds


def test_monotone_bounds_hold_on_every_training_point():
    prog, x = _feature_grade()
    lo, hi = monotone_bounds(prog.e, 1.0)
    bounded = GradeProgram(prog.Zb, prog.e, prog.D, prog.beta, lo, hi)
    sol, _, info, nu = _ws(bounded, np.argsort(x))
    g = sol.prediction(bounded)
    assert np.all(np.abs(prog.e - g) <= np.abs(prog.e) + 1e-7)
    direct, _, nu_d = solve_direct(bounded, "CLARABEL", TIGHT)
    assert sol.objective(bounded) == pytest.approx(direct.objective(bounded), rel=1e-6)
    cert = certify(bounded, sol, nu, complete=False, order=np.argsort(x))
    assert -1e-7 <= cert.relative_gap < 1e-5


def test_certificate_exposes_a_perturbed_solution():
    prog, x = _first_grade()
    sol, _, _, nu = _ws(prog, np.argsort(x))
    good = certify(prog, sol, nu, True, np.argsort(x))
    worse = BlockSolution(sol.pattern, sol.sign, sol.U * 0.9)
    bad = certify(prog, worse, nu, True, np.argsort(x))
    assert bad.gap > 100 * max(good.gap, 1e-12)
    # the dual bound is a lower bound for any feasible point
    assert bad.dual <= worse.objective(prog) + 1e-12
    assert good.dual <= worse.objective(prog)


def _gd_nonconvex(prog, width, rng, steps=4000, lr=0.02):
    """Adam on (1/2n)||sum_j a_j relu(Zb u_j) - e||^2 + (beta/2) sum_j (||u_j||^2 + a_j^2)."""
    n, q = prog.Zb.shape
    U = rng.standard_normal((q, width)) * 0.5
    a = rng.standard_normal(width) * 0.5
    params = [U, a]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    best = np.inf
    for t in range(1, steps + 1):
        H = prog.Zb @ U
        A = np.maximum(H, 0)
        r = A @ a - prog.e
        obj = r @ r / (2 * n) + prog.beta / 2 * ((U**2).sum() + (a**2).sum())
        best = min(best, obj)
        ga = A.T @ r / n + prog.beta * a
        gU = prog.Zb.T @ ((H > 0) * np.outer(r, a)) / n + prog.beta * U
        for i, g in enumerate((gU, ga)):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            params[i] -= lr * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-12)
        U, a = params
    return best


def test_all_patterns_optimum_beats_gradient_descent_restarts():
    """1-D, every pattern: the convex optimum is the global optimum of the non-convex grade."""
    prog, x = _first_grade(n=30, beta=5e-3)
    sol, _, _, _ = _ws(prog, np.argsort(x))
    convex = sol.objective(prog)
    rng = np.random.default_rng(0)
    restarts = [_gd_nonconvex(prog, width=12, rng=rng) for _ in range(10)]
    assert convex <= min(restarts) * (1 + 1e-6)
    # and gradient descent does get close: the comparison is not vacuous
    assert min(restarts) <= convex * 1.2


def test_2d_degenerate_grid_certificate_agrees_with_a_full_solve():
    """Collinear samples on a grid: all patterns enumerated; the certificate claims no more than holds."""
    from mgdl_convex.patterns import enumerate_patterns

    g = np.array([[a, b] for a in np.linspace(0, 1, 4) for b in np.linspace(0, 1, 4)])
    Zb = np.column_stack([g, np.ones(len(g))])
    e = np.sin(3 * g[:, 0]) * np.cos(2 * g[:, 1]) + g[:, 1]
    prog = GradeProgram(Zb=Zb, e=e, D=enumerate_patterns(Zb).D, beta=5e-3)
    direct, _, _ = solve_direct(prog, "CLARABEL", TIGHT)
    ws, _, _, nu = _ws(prog)
    cert = certify(prog, ws, nu, complete=True)
    optimum = direct.objective(prog)
    assert cert.dual <= optimum + 1e-9  # a lower bound on the true optimum
    assert cert.primal == pytest.approx(optimum, rel=1e-6)
    assert 0 <= cert.relative_gap + 1e-9 and cert.relative_gap < 1e-6
    assert cert.scope.startswith("all patterns")


@pytest.mark.parametrize("ratio", [1e-2, 1e-3])
def test_bounded_working_set_equals_an_independent_direct_solve(ratio):
    """Bounds 0 <= g/e <= 2 on a residual with many sign changes: a block helps only together with
    others, so pricing with the bounds' multipliers and the stopping rule are what is tested."""
    from mgdl_convex.certificate import max_kappa

    x = np.linspace(0.0, 1.0, 64)
    e = np.sin(2 * np.pi * x) + np.sin(11 * np.pi * x) + np.sin(20 * np.pi * x)
    free, _ = first_grade_program(n=64, beta=1.0)
    free = GradeProgram(free.Zb, e, free.D, 1.0)
    beta = ratio * max_kappa(free, e, np.argsort(x))
    lo, hi = monotone_bounds(e, 1.0)
    prog = GradeProgram(free.Zb, e, free.D, beta, lo, hi)
    direct, _, _ = solve_direct(prog, "CLARABEL", TIGHT)
    sol, _, info, nu = _ws(prog, np.argsort(x))
    assert info.converged
    assert sol.objective(prog) == pytest.approx(direct.objective(prog), rel=1e-6)
    assert sol.bound_violation(prog) < 1e-7
    cert = certify(prog, sol, nu, complete=True, order=np.argsort(x))
    assert -1e-7 <= cert.relative_gap < 1e-6
    assert cert.dual <= direct.objective(prog) + 1e-9


def _grid_feature_grade(side=14, width=6, n_patterns=40, beta=2e-3, seed=3):
    """A grade on the features of a random ReLU layer over a side x side grid of [0, 1]^2."""
    rng = np.random.default_rng(seed)
    g = np.linspace(0.0, 1.0, side)
    X = np.array([[a, b] for a in g for b in g])
    Z = np.maximum(np.column_stack([X, np.ones(len(X))]) @ rng.standard_normal((3, width)), 0.0)
    Zb = np.column_stack([Z, np.ones(len(X))])
    e = np.sin(4 * X[:, 0]) * np.cos(3 * X[:, 1])
    return GradeProgram(Zb=Zb, e=e, D=sample_patterns(Zb, n_patterns, rng).D, beta=beta), X


def test_boundary_rows_are_the_rows_with_a_neighbour_across_the_split():
    """Brute force on a grid: a row is kept iff a sample next to it on a grid line or diagonal is on the other side."""
    from mgdl_convex.cones import boundary_rows, sample_orders

    side = 9
    prog, X = _grid_feature_grade(side=side)
    ij = np.rint(X * (side - 1)).astype(int)
    steps = [(1, 0), (0, 1), (1, 1), (1, -1)]
    for i in range(prog.n_patterns):
        col = prog.D[:, i]
        rows = np.arange(prog.n)[::2]  # any subset of rows: the function only filters them
        got = boundary_rows(col, rows, sample_orders(X))
        want = []
        for j in rows:
            for di, dj in steps:
                for s in (1, -1):
                    a, b = ij[j, 0] + s * di, ij[j, 1] + s * dj
                    if 0 <= a < side and 0 <= b < side and col[a * side + b] != col[j]:
                        want.append(j)
                        break
                else:
                    continue
                break
        # a lexsorted ordering also joins the end of one grid line to the start of the next: extra rows, never fewer
        assert set(want) <= set(got.tolist())


def test_grid_blocks_enter_with_their_boundary_rows_and_reach_the_direct_optimum():
    """On a 2-D grid a block enters the restricted program with the rows next to its split only; rows its
    solution violates join later, so the optimum is the direct program's and every row of every cone holds."""
    from mgdl_convex.certificate import program_rows
    from mgdl_convex.cones import sample_orders

    prog, X = _grid_feature_grade(width=8)  # seed 3: its optimum violates rows it did not enter with
    order = sample_orders(X)
    rows = program_rows(prog, order)
    assert rows.entry is not None
    assert sum(len(rows.entry[i]) for i in range(prog.n_patterns)) < 0.8 * sum(len(r) for r in rows)
    direct, _, _ = solve_direct(prog, "CLARABEL", TIGHT)
    ws, _, info, nu = _ws(prog, order)
    assert info.converged and info.rows_added > 0  # rows joined (without them the cones are violated by 0.04)
    assert ws.objective(prog) == pytest.approx(direct.objective(prog), rel=1e-6)
    assert ws.cone_violation(prog) < 1e-6
    assert info.rows < sum(len(rows[i]) for i in ws.pattern) + ws.n_blocks * (prog.q + 1)  # fewer rows than all
    cert = certify(prog, ws, nu, complete=False, order=order)
    assert -1e-7 <= cert.relative_gap < 1e-6


def test_a_re_solve_with_useless_multipliers_is_still_certified_by_the_first_solve(monkeypatch):
    """Bounded programs: a re-solve restricted to the kept blocks may return multipliers that certify
    nothing (a gap of 2.6e4 once, for a re-solve as good as the solve it polished; on this program its
    own multipliers gave 763).  The solver's own dual point still certifies it: the polished grade is
    kept, its bound stays a true lower bound, and the recorded dual point is the certifying one."""
    import mgdl_convex.grade as grade
    from mgdl_convex.certificate import max_kappa, program_kappa, program_rows

    x = np.linspace(0.0, 1.0, 64)
    e = np.sin(2 * np.pi * x) + np.sin(11 * np.pi * x) + np.sin(20 * np.pi * x)
    free, _ = first_grade_program(n=64, beta=1.0)
    free = GradeProgram(free.Zb, e, free.D, 1.0)
    order = np.argsort(x)
    lo, hi = monotone_bounds(e, 1.0)
    prog = GradeProgram(free.Zb, e, free.D, 1e-2 * max_kappa(free, e, order), lo, hi)
    direct, _, _ = solve_direct(prog, "CLARABEL", TIGHT)
    rows = program_rows(prog, order)
    ctx = grade.SolveContext(order, rows, program_kappa(prog, e, rows), True)
    settings = grade.GradeSettings(64, None, None, None, "auto", 256, "CLARABEL", None, "auto")
    useless = np.random.default_rng(0).standard_normal(prog.n_points) * 1e3
    real = grade.solve_working_set

    def re_solve(program, options=None, order=None, **kw):
        res = real(program, options, order, **kw)
        if kw.get("restrict_to") is not None:  # the re-solve on kept blocks: its multipliers are noise
            res = type(res)(**{**res.__dict__, "nu": useless.copy()})
        return res

    first, _ = grade.solve_at_beta(prog, settings, ctx)
    assert first.accurate
    monkeypatch.setattr(grade, "solve_working_set", re_solve)
    assert grade._polish(prog, first.solution, settings, ctx, resolve=True) is None  # its own nu certifies nothing
    polished = grade._polish(prog, first.solution, settings, ctx, resolve=True, dual=(first.nu, first.solver_point))
    assert polished is not None  # the re-solve is kept, certified by the first solve's dual point
    res, kept, cert = polished
    assert cert.relative_gap <= 1e-6 and cert.dual <= direct.objective(prog) + 1e-9  # still a true lower bound
    assert kept.objective(prog) == pytest.approx(direct.objective(prog), rel=1e-6)
    # what the grade records as its dual point is the one that certifies it
    again = certify(prog, kept, res.nu, complete=True, order=order, dual_point=res.solution)
    assert again.dual == pytest.approx(cert.dual, rel=1e-12) and not np.array_equal(res.nu, useless)
    # and the first solve's own record is consistent in the same way
    mine = certify(prog, first.solution, first.nu, complete=True, order=order, dual_point=first.solver_point)
    assert mine.relative_gap <= 1e-6
