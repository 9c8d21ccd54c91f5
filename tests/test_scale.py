"""Scale without approximation: implicit threshold patterns and the streamed compression.

Each implicit or streamed computation is compared with the dense one it replaces: the
boolean pattern matrix and its per-pattern cone projections, the QR of the whole [F, e].
"""

import tracemalloc

import numpy as np
import pytest

import mgdl_convex.clarabel_native as clarabel_native
import mgdl_convex.grade as grade_module
from mgdl_convex.certificate import certify
from mgdl_convex.compression import block_features, compress_loss
from mgdl_convex.cones import cone_rows, pattern_kappa, sample_orders
from mgdl_convex.faults import estimate_bytes
from mgdl_convex.grade import GradeSettings, fit_grade
from mgdl_convex.patterns import Patterns, enumerate_patterns, make_patterns
from mgdl_convex.problems import feature_grade_program
from mgdl_convex.program import GradeProgram
from mgdl_convex.recovery import pattern_differences
from mgdl_convex.thresholds import ThresholdPatterns
from mgdl_convex.working_set import WorkingSetOptions, solve_working_set

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


def _dense_thresholds(x):
    """The 1-D patterns written out: all-ones, {x >= v_(k+1)}, {x <= v_k} for each cut k."""
    v = np.unique(x)
    return np.hstack([x[:, None] >= v[None, :], x[:, None] <= v[None, :-1]])


def _points(kind, n, rng):
    if kind == "duplicates":  # few distinct values, many repeats
        return rng.integers(0, max(2, n // 4), n) / 7.0
    if kind == "constant":
        return np.full(n, 0.3)
    return rng.uniform(-2.0, 3.0, n)


@pytest.mark.parametrize("kind", ["random", "duplicates", "constant"])
def test_threshold_patterns_are_the_dense_enumeration(kind, rng):
    x = _points(kind, 23, rng)
    T = ThresholdPatterns(x)
    D = _dense_thresholds(x)
    assert T.shape == D.shape and T.n_patterns == 2 * np.unique(x).size - 1
    assert np.array_equal(T.toarray(), D)
    cols = np.array([0, T.n_patterns - 1, T.n_patterns // 2])
    assert np.array_equal(T[:, cols], D[:, cols])
    assert np.array_equal(T[5:9, cols], D[5:9, cols])
    assert np.array_equal(T[np.array([3, 1, 4]), 2 % T.n_patterns], D[[3, 1, 4], 2 % T.n_patterns])
    assert np.array_equal(np.column_stack([x, np.ones_like(x)]) @ T.gates >= 0, D)
    with pytest.raises(TypeError, match="both sides"):
        T[np.array([0, 1]), np.array([0, 1])]


@pytest.mark.parametrize("kind", ["random", "duplicates", "constant"])
def test_threshold_predictions_and_column_differences_equal_the_dense_matrix(kind, rng):
    """combine (difference arrays) and differences (closed form) against the dense matrix, with
    restricted cuts too: neither ever builds the n x B matrix, so each is checked entry by entry."""
    for trial in range(20):
        x = _points(kind, int(rng.integers(1, 40)), rng)
        T = ThresholdPatterns(x)
        if trial % 2 and T.cuts.size:
            T = ThresholdPatterns(x, rng.random(T.cuts.size) < 0.5)
        D = T.toarray()
        cols = rng.integers(0, T.n_patterns, 9)  # repeated columns included
        W = rng.standard_normal((2, cols.size))
        dense = (D[:, cols] * (np.outer(x, W[0]) + W[1])).sum(axis=1)
        np.testing.assert_allclose(T.combine(cols, W), dense, rtol=1e-12, atol=1e-12)
        M = D[:, cols]
        assert np.array_equal(T.differences(cols), (M[:, :, None] != M[:, None, :]).sum(axis=0))
        assert np.array_equal(pattern_differences(D, cols), T.differences(cols))


def test_allowed_cuts_keep_those_thresholds_and_the_all_ones_pattern(rng):
    x = rng.uniform(0, 1, 30)
    T = ThresholdPatterns(x)
    allowed = (T.cut_points < 0.3) | (T.cut_points > 0.6)  # no cut inside the zone [0.3, 0.6]
    R = ThresholdPatterns(x, allowed)
    keep = np.concatenate([[0], 1 + np.flatnonzero(allowed), 1 + T.cuts.size + np.flatnonzero(allowed)])
    assert np.array_equal(R.toarray(), T.toarray()[:, keep])
    r = rng.standard_normal(30)
    np.testing.assert_allclose(R.kappa(r), T.kappa(r)[keep], rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="one boolean per cut"):
        ThresholdPatterns(x, allowed[:-1])


@pytest.mark.parametrize("kind", ["random", "duplicates", "constant"])
def test_linear_time_pricing_equals_the_per_pattern_cone_projections(kind, rng):
    """kappa^+ and kappa^- of every threshold pattern: prefix sums + sectors vs NNLS on every row of D."""
    for trial in range(25):
        n = int(rng.integers(1, 40))
        x = _points(kind, n, rng)
        Zb = np.column_stack([x, np.ones(n)])
        T = ThresholdPatterns(x)
        D = T.toarray()
        every_row = [np.arange(n)] * D.shape[1]
        r = rng.standard_normal(n) * (10.0 if trial % 2 else 1e-3)
        ref = pattern_kappa(Zb, D, r, every_row)
        ours = pattern_kappa(Zb, T, r, cone_rows(Zb, T, None))
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())
        # the extreme samples define the same cones as every row
        few = pattern_kappa(Zb, D, r, cone_rows(Zb, T, None))
        np.testing.assert_allclose(few, ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


def test_projection_by_row_generation_equals_nnls_on_every_row(rng):
    """project_to_cone solves NNLS on a growing subset of rows; its norm must equal the projection
    on all rows (and can never be below it: a looser cone only makes kappa larger)."""
    from scipy.optimize import nnls

    from mgdl_convex.cones import project_to_cone

    for trial in range(200):
        q, m = int(rng.integers(2, 8)), int(rng.integers(1, 400))
        G = rng.standard_normal((m, q))
        if trial % 2:
            G[:, -1] = np.abs(G[:, -1]) + 0.1  # a pointed cone, as a pattern's is
        c = 3 * rng.standard_normal(q)
        lam, _ = nnls(G.T, -c, maxiter=5000)
        exact = np.linalg.norm(c + G.T @ lam)
        p = project_to_cone(c, G)
        assert np.linalg.norm(p) == pytest.approx(exact, rel=1e-9, abs=1e-12)
        assert np.all(G @ p >= -1e-9 * np.linalg.norm(G, axis=1) * np.linalg.norm(c))


def test_a_projection_started_from_any_rows_equals_the_cold_one(rng):
    """A warm start (the support of an earlier projection, or any rows at all, even wrong ones) only
    chooses where the row generation begins: the projection is the same."""
    from mgdl_convex.cones import project_to_cone

    for _ in range(100):
        q, m = int(rng.integers(3, 10)), int(rng.integers(40, 400))
        G = rng.standard_normal((m, q))
        G[:, -1] = np.abs(G[:, -1]) + 0.1
        c = 3 * rng.standard_normal(q)
        cold = project_to_cone(c, G)
        start = rng.choice(m, size=int(rng.integers(0, 30)), replace=False)
        warm = project_to_cone(c, G, start)
        np.testing.assert_allclose(warm, cold, rtol=1e-9, atol=1e-10 * np.linalg.norm(c))


def test_pattern_kappa_with_remembered_supports_equals_a_fresh_pricing(rng):
    """Prices of a sequence of residuals, each pricing starting from the supports the last one left,
    equal pricings from scratch; the supports are kept for every projected pattern."""
    Zb = np.column_stack([rng.standard_normal((300, 5)), np.ones(300)])
    D = Zb @ rng.standard_normal((6, 40)) >= 0
    rows = [np.arange(300)] * 40
    supports = {}
    r = rng.standard_normal(300)
    for _ in range(4):
        warm = pattern_kappa(Zb, D, r, rows, supports=supports)
        np.testing.assert_allclose(warm, pattern_kappa(Zb, D, r, rows), rtol=1e-9, atol=1e-12)
        r = r + 0.1 * rng.standard_normal(300)
    assert supports and all(isinstance(v, np.ndarray) for v in supports.values())


def test_threshold_patterns_refuse_a_foreign_grade_input(rng):
    x = rng.uniform(0, 1, 10)
    T = ThresholdPatterns(x)
    with pytest.raises(ValueError, match="not \\[x, 1\\]"):
        pattern_kappa(np.column_stack([x + 1, np.ones(10)]), T, rng.standard_normal(10), None)


def test_auto_keeps_every_1d_pattern_at_any_n(rng):
    x = rng.uniform(0, 1, 50_000)
    p = make_patterns(np.column_stack([x, np.ones_like(x)]), "auto", 256, rng)
    assert p.complete and p.method == "all" and p.n_patterns == 2 * 50_000 - 1
    assert estimate_bytes(2**18, 2, 2**19 - 1, 32, "working_set", dense_patterns=False) < 2**30


def _grade_settings(**kw):
    base = dict(
        width=64,
        beta=None,
        beta_ratio=0.05,
        rho=None,
        patterns="all",
        n_patterns=0,
        solver="CLARABEL",
        solver_options=TIGHT,
        formulation="working_set",
    )
    return GradeSettings(**{**base, **kw})


def test_grade_on_implicit_patterns_equals_the_grade_on_the_dense_matrix(monkeypatch):
    """The whole grade (pricing, working set, certificate) with the implicit and the dense patterns."""
    n = 300
    x = np.linspace(0, 1, n) ** 1.5
    Zb = np.column_stack([x, np.ones(n)])
    e = np.sin(7 * x) + 0.5 * np.cos(19 * x)
    order = np.argsort(x)
    _, implicit = fit_grade(1, Zb, e, _grade_settings(), np.random.default_rng(0), order)

    def dense(Zb, method, n_gates, rng):
        p = enumerate_patterns(Zb)
        return Patterns(D=p.D.toarray(), gates=p.gates, complete=True, method="all")

    monkeypatch.setattr(grade_module, "make_patterns", dense)
    _, reference = fit_grade(1, Zb, e, _grade_settings(), np.random.default_rng(0), order)
    assert implicit.patterns_complete and reference.patterns_complete
    assert implicit.n_patterns == reference.n_patterns == 2 * n - 1
    assert implicit.status == reference.status == "optimal" and not implicit.capped
    assert implicit.objective == pytest.approx(reference.objective, rel=1e-9)
    assert implicit.dual_bound == pytest.approx(reference.dual_bound, rel=1e-9)
    assert implicit.certificate_scope == reference.certificate_scope
    assert implicit.relative_gap < 1e-6


def _dense_compression(Zb, D, e, pattern, sign, atoms=None):
    """The compression as it was: one QR of the whole n x (qB + 1) matrix [F, e] (of the samples,
    whatever the atoms)."""
    F = block_features(Zb, D[:, pattern], np.asarray(sign, dtype=float))
    N = F.shape[1]
    R = np.linalg.qr(np.column_stack([F, e]), mode="r")
    return R[:N, :N], R[:N, N], float(R[N, N]) ** 2


@pytest.mark.parametrize("chunks", [{}, {"sample_chunk": 97, "row_chunk_bytes": 1}])
@pytest.mark.parametrize("data", ["curve", "scattered"])
def test_compressed_loss_equals_the_loss_for_every_x(data, chunks, rng):
    """||F x - e||^2 = ||F_loss x - e_loss||^2 + const: grouped rows, several QR updates, or raw rows."""
    if data == "curve":  # a later grade of a 1-D scheme: few distinct masks
        prog, _ = feature_grade_program(n=700, width=5, n_patterns=30, random_state=1)
        Zb, D, e = prog.Zb, prog.D, prog.e
    else:  # general position: every mask distinct, nothing to group
        Zb = np.column_stack([rng.standard_normal((700, 3)), np.ones(700)])
        D = Zb @ rng.standard_normal((4, 30)) >= 0
        e = rng.standard_normal(700)
    for B in (1, 7, 25):
        pattern = rng.choice(D.shape[1], B, replace=False)
        sign = rng.choice([-1.0, 1.0], B)
        F = block_features(Zb, D[:, pattern], sign)
        F_loss, e_loss, const = compress_loss(Zb, D, e, pattern, sign, **chunks)
        assert F_loss.shape[0] <= F.shape[1] and const >= 0
        for _ in range(3):
            X = rng.standard_normal(F.shape[1])
            full = np.sum((F @ X - e) ** 2)
            assert np.sum((F_loss @ X - e_loss) ** 2) + const == pytest.approx(full, rel=1e-11)


def test_small_groups_along_a_straight_stretch_compress_to_two_rows_each(rng):
    """Groups of 3-8 samples (fewer than q) along a line: two rows per group, not one per sample.

    On a later grade of a 1-D scheme at n = 1024 most groups are that small; compressing them too
    took the restricted programs of Fang-Xu setting 1 from 1024 loss rows to about 260.
    """
    n, q = 600, 12
    x = np.sort(rng.uniform(-1, 1, n))
    Zb = np.column_stack([np.ones(n), x, rng.standard_normal((q - 2,))[None, :] * x[:, None] + 1.0])  # rank 2
    cuts = np.sort(rng.choice(np.arange(3, n - 3), 120, replace=False))
    cuts = cuts[np.r_[True, np.diff(cuts) >= 3]]  # every group has at least 3 samples
    D = x[:, None] >= x[cuts][None, :]  # one threshold pattern per cut: a group per stretch between cuts
    pattern = np.arange(D.shape[1])
    sign = rng.choice([-1.0, 1.0], pattern.size)
    e = np.sin(7 * x)
    F_loss, e_loss, const = compress_loss(Zb, D, e, pattern, sign)
    groups = pattern.size + 1
    assert F_loss.shape[0] <= 2 * groups < n
    F = block_features(Zb, D, sign)
    for _ in range(3):
        X = rng.standard_normal(F.shape[1])
        assert np.sum((F_loss @ X - e_loss) ** 2) + const == pytest.approx(np.sum((F @ X - e) ** 2), rel=1e-11)


def test_streamed_and_dense_compression_give_the_same_grade_optimum(monkeypatch):
    """Both solves at the optimum to ~1e-12, so that 1e-9 tests the compression, not the solver.

    Clarabel's default tolerance is 1e-8; at 1e-12 its row equilibration, not the data, limits
    what it reaches (measured here: 2e-9 apart on some seeds with it, 1e-14 without it).
    """
    prog, x = feature_grade_program(n=3000, width=8, n_patterns=40, beta=2e-3)
    order = np.argsort(x)
    options = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "equilibrate_enable": False}
    res = solve_working_set(prog, WorkingSetOptions(solver_options=options), order)
    sol, stats, info, nu = res.solution, res.stats, res.info, res.nu
    monkeypatch.setattr(clarabel_native, "compress_loss", _dense_compression)
    res = solve_working_set(prog, WorkingSetOptions(solver_options=options), order)
    ref, ref_info, ref_nu = res.solution, res.info, res.nu
    assert info.converged and ref_info.converged
    assert sol.objective(prog) == pytest.approx(ref.objective(prog), rel=1e-9)
    # the solver's objective (compressed rows + constant) is the program's, constant included
    assert stats[-1].primal_objective == pytest.approx(sol.objective(prog), rel=1e-9)
    for s, v in ((sol, nu), (ref, ref_nu)):
        assert certify(prog, s, v, complete=False, order=order).relative_gap < 1e-10


def _peak_bytes(fn, *args):
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streamed_compression_memory_does_not_grow_with_n(rng):
    """Peak memory of the compression at n and 4n: flat, and far below the n x qB matrix it replaces."""
    peaks = []
    for n in (2**16, 2**18):
        x = np.linspace(0, 1, n)
        Zb = np.column_stack([np.maximum(x[:, None] - np.linspace(0, 1, 6), 0.0), np.ones(n)])  # q = 7
        D = Zb @ np.random.default_rng(3).standard_normal((7, 12)) >= 0
        e = np.sin(9 * x)
        pattern, sign = np.arange(12), np.resize([1.0, -1.0], 12)
        peaks.append(_peak_bytes(compress_loss, Zb, D, e, pattern, sign))
    dense_big = 8 * 2**18 * 7 * 12
    assert peaks[1] < 1.3 * peaks[0]
    assert peaks[1] < dense_big / 10


def test_grade_program_with_threshold_patterns_solves_directly(rng):
    """The implicit patterns behave as the matrix where the direct formulation reads it."""
    x = np.sort(rng.uniform(0, 1, 25))
    Zb = np.column_stack([x, np.ones_like(x)])
    T = enumerate_patterns(Zb).D
    assert isinstance(T, ThresholdPatterns)
    prog = GradeProgram(Zb=Zb, e=np.sin(6 * x), D=T, beta=1e-3)
    dense = GradeProgram(Zb=Zb, e=prog.e, D=T.toarray(), beta=1e-3)
    from mgdl_convex.program import solve_direct

    a, _, _ = solve_direct(prog, "CLARABEL", TIGHT)
    b, _, _ = solve_direct(dense, "CLARABEL", TIGHT)
    assert a.objective(prog) == pytest.approx(b.objective(dense), rel=1e-9)


@pytest.mark.parametrize("d", [2, 3])
def test_grid_orders_drop_most_rows_and_keep_every_cone(d, rng):
    """Rows implied along grid lines or diagonals are dropped; every cone (so every kappa) is unchanged."""
    side = {2: 14, 3: 6}[d]
    axes = [np.linspace(0, 1, side)] * d
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    X = X[rng.permutation(len(X))]  # the orders must not rely on the samples' order
    W, b = rng.standard_normal((d, 5)), rng.uniform(-0.5, 0.5, 5)
    Zb = np.column_stack([np.maximum(X @ W + b, 0.0), X, np.ones(len(X))])  # a later grade's input
    D = Zb @ rng.standard_normal((Zb.shape[1], 80)) >= 0
    D = D[:, D.any(axis=0)]
    reduced = cone_rows(Zb, D, sample_orders(X))
    every = cone_rows(Zb, D, None)
    assert np.mean([len(r) for r in reduced]) < 0.6 * len(X)
    for _ in range(3):
        r = rng.standard_normal(len(X))
        ref = pattern_kappa(Zb, D, r, every)
        np.testing.assert_allclose(pattern_kappa(Zb, D, r, reduced), ref, rtol=1e-9, atol=1e-12 * ref.max())
