"""Exact width on the regularisation path, and theorem mode (pointwise contraction, proved)."""

import numpy as np
import pytest

from mgdl_convex import MultigradeRegressor, get_target
from mgdl_convex.patterns import enumerate_patterns
from mgdl_convex.program import GradeProgram, solve_direct
from proofs_check import CheckSettings, check_scheme, monotone_violations, scheme_from_model

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


def test_an_exact_width_grade_is_the_direct_optimum_at_its_beta_with_at_most_w_neurons():
    x = np.linspace(0.0, 1.0, 40)
    y = np.sin(2 * np.pi * x) + 0.3 * np.sin(12 * np.pi * x)
    m = MultigradeRegressor(n_grades=1, width=6, width_mode="exact").fit(x[:, None], y)
    g = m.grades_[0]
    assert g.width_mode == "exact" and g.status == "optimal" and not g.capped
    assert 1 <= g.width <= 6 and g.path_steps >= 2
    assert g.beta > g.beta_floor  # the floor's optimum is wider than 6: the path had to climb
    Zb = np.column_stack([x, np.ones_like(x)])
    program = GradeProgram(Zb, y, np.asarray(enumerate_patterns(Zb).D), g.beta)
    direct, _, _ = solve_direct(program, "CLARABEL", TIGHT)
    assert g.objective == pytest.approx(direct.objective(program), rel=1e-6)
    network = m.predict(x[:, None])
    np.testing.assert_allclose(network, direct.prediction(program), atol=1e-4)
    assert g.recovery_gap < 1e-7
    # greedy at the floor is a different, labelled thing: capped, exact over its kept blocks only
    greedy = MultigradeRegressor(n_grades=1, width=6, width_mode="greedy").fit(x[:, None], y).grades_[0]
    assert greedy.width_mode == "greedy" and greedy.capped and greedy.relative_gap > 1e-3


def _dense_first_grade(n):
    """Grade 1 of fangxu1 on n grid samples, every threshold pattern: the program and its context."""
    from mgdl_convex.certificate import program_kappa, program_rows
    from mgdl_convex.grade import SolveContext
    from mgdl_convex.patterns import make_patterns

    target = get_target("fangxu1")
    x = np.linspace(*target.domain[0], n)
    Zb = np.column_stack([x, np.ones(n)])
    patterns = make_patterns(Zb, "auto", 256, np.random.default_rng(0))
    program = GradeProgram(Zb, target(x[:, None]), patterns.D, 0.0)
    order = np.argsort(x)
    rows = program_rows(program, order)
    kappa = program_kappa(program, program.e, rows)
    return program, SolveContext(order, rows, kappa, patterns.complete), float(kappa.max())


def test_near_duplicate_blocks_merge_into_a_certified_optimum_with_fewer_neurons():
    """On 4096 samples the interior point spreads each neuron over neighbouring thresholds; one
    block per group, re-solved, is certified against all 8191 patterns and has the same fitted
    values (at any two points within gaps d1, d2 of the optimum, ||g1 - g2||^2 / 2n <= 2 (d1 + d2))."""
    from dataclasses import replace

    from mgdl_convex.grade import GradeSettings, solve_at_beta
    from mgdl_convex.recovery import duplicate_groups, pattern_differences

    program, ctx, kappa = _dense_first_grade(4096)
    program = replace(program, beta=0.05 * kappa)
    settings = GradeSettings(32, None, None, None, "auto", 256, "CLARABEL", None, "auto")
    spread, _ = solve_at_beta(program, settings, ctx)  # polish only
    merged, _ = solve_at_beta(program, settings, ctx, polish_above=1)  # merge while more than 1 block
    assert spread.accurate and merged.accurate
    groups = duplicate_groups(pattern_differences(program.D, spread.solution.pattern), spread.solution.sign, 16)
    assert np.unique(groups).size < spread.neurons  # the spread is there
    assert merged.neurons < spread.neurons
    gap = spread.certificate.gap + merged.certificate.gap
    d = spread.solution.prediction(program) - merged.solution.prediction(program)
    assert d @ d / (2 * program.n) <= 2 * gap * 1.01 + 1e-14
    assert merged.certificate.primal == pytest.approx(spread.certificate.primal, rel=1e-6)


def test_dense_1d_samples_get_an_exact_first_grade_not_the_greedy_fallback():
    """8192 samples, all 16383 threshold patterns: before near-duplicates were merged, no beta on
    the path had an optimum of at most 32 blocks and the grade fell back to the greedy cap."""
    from mgdl_convex.grade import GradeSettings, fit_grade

    program, ctx, _ = _dense_first_grade(8192)
    settings = GradeSettings(32, None, 1e-4, None, "auto", 256, "CLARABEL", None, "auto")
    _, g = fit_grade(1, program.Zb, program.e, settings, np.random.default_rng(0), order=ctx.order)
    assert g.patterns_complete and g.n_patterns == 16383
    assert g.width_mode == "exact" and not g.capped and g.status == "optimal" and g.relative_gap <= 1e-6
    assert 1 <= g.width <= 32 and g.beta < 0.01 * g.kappa_before


@pytest.fixture(scope="module")
def pointwise():
    """fangxu1 on 256 samples, one grade: the residual changes sign about 20 times, and bounds at the
    samples alone leave violations between them that only the oracle finds."""
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=1, width=32, carry_input=True, guarantee="pointwise", random_state=0)
    return m.fit_target(target, samples=256), target


def test_a_pointwise_grade_is_proved_after_a_counterexample_became_a_constraint(pointwise):
    m, target = pointwise
    assert len(m.grades_) == 1
    g = m.grades_[0]
    assert g.guarantee == "pointwise" and g.c1_status == "proved" and g.width > 0
    assert g.c1_rounds >= 2 and g.constraint_points >= 1  # a counterexample of round 1 became a constraint
    assert g.loss_after < g.loss_before and g.status == "optimal" and g.relative_gap <= 1e-6
    report = check_scheme(scheme_from_model(m, target), target, CheckSettings(sollya="off"))
    c1 = next(c for c in report.claims if c.name.startswith("C1 pointwise"))
    assert c1.outcome == "pass" and c1.trust == "rigorous"


def test_c3_is_proved_by_the_contraction_where_the_enclosures_overlap():
    """sqrt_kink in theorem mode: from grade 8 on the L^p norms fall by less than the enclosures can
    separate (lp_rtol 1e-3), yet C3 passes, rigorously: C1 is proved on all of [0, 1] and |e_k| <
    |e_(k-1)| on a box.  Independently (float): every such box is strict at the points of a grid in
    it, and on a fine grid of [0, 1] no |e_k| exceeds |e_(k-1)|."""
    target = get_target("sqrt_kink")
    m = MultigradeRegressor(n_grades=9, width=32, guarantee="pointwise", random_state=0)
    m.fit_target(target, samples=128)
    report = check_scheme(scheme_from_model(m, target), target, CheckSettings(sollya="off"))
    c3 = report.claim("C3")
    assert c3.outcome == "pass" and c3.trust == "rigorous" and "contraction" in c3.summary, c3.summary
    contracted = [row for row in c3.per_grade[1:] if "strict_box" in row]
    assert contracted
    X = np.linspace(0.0, 1.0, 200_001)[:, None]
    e = [target(X).ravel(), *(target(X).ravel() - g for g in m.staged_predict(X))]
    for row in contracted:
        k = row["grade"]
        (lo, hi), = row["strict_box"]
        B = np.linspace(max(lo, 0.0), min(hi, 1.0), 103)[1:-1, None]  # the box is narrower than X's spacing
        eb = [target(B).ravel(), *(target(B).ravel() - G for G in m.staged_predict(B))]
        decrease = eb[k - 1] ** 2 - eb[k] ** 2  # float: rounding about 1e-16 |e|^2
        margin = row["strict_margin"]
        assert lo < hi and margin > 0 and np.all(decrease > 0) and np.all(decrease >= margin * (1 - 1e-6) - 1e-20)
        assert np.all(np.abs(e[k]) <= np.abs(e[k - 1]) + 1e-12)


def test_a_grade_touches_only_the_largest_humps_of_the_residual(pointwise):
    """Outside the ``humps`` stretches between zeros of f where |f| is largest at the samples, g_1 is 0
    (exactly, in exact arithmetic: the rigorous check of C1 depends on it)."""
    from mgdl_convex.pointwise import PointwiseOptions

    m, target = pointwise
    x = np.linspace(0.0, 1.0, 200_001)
    g = m.layers_[0](np.column_stack([x, np.ones_like(x)]))
    f = target(x[:, None]).ravel()
    changes = np.flatnonzero(np.sign(f[1:]) * np.sign(f[:-1]) < 0)  # the zeros of f on the grid
    humps = np.split(np.arange(x.size), changes + 1)
    touched = [h for h in humps if np.max(np.abs(g[h])) > 1e-9 * np.max(np.abs(g))]  # float: 0 up to rounding
    assert len(humps) > 15 and 1 <= len(touched) <= PointwiseOptions().humps


def test_a_pointwise_grade_leaves_no_tent_between_samples(pointwise):
    """Its kinks lie at its points (within 1e-3 spacings), so between two samples away from a zero of f
    the residual is f minus a line: it leaves its chord by at most h^2 max|f''| / 8.  With kinks free
    in their gaps the same grade left 0.054 against that bound of 0.00996."""
    m, target = pointwise
    n, per = 256, 64
    x = np.linspace(0.0, 1.0, (n - 1) * per + 1)
    f = target(x[:, None]).ravel()
    e = f - m.predict(x[:, None])
    t = np.linspace(0.0, 1.0, per + 1)
    worst, gaps = 0.0, 0
    for j in range(n - 1):
        near = f[max(0, (j - 1) * per) : (j + 2) * per + 1]
        if np.any(np.sign(near) != np.sign(f[j * per])):
            continue  # a zone (around a zero of f) may end in this gap: a kink there is allowed
        seg = e[j * per : (j + 1) * per + 1]
        worst = max(worst, float(np.max(np.abs(seg - (seg[0] * (1 - t) + seg[-1] * t)))))
        gaps += 1
    curvature = (2 * np.pi) ** 2 * (1 + 5.5**2 + 10**2)  # >= max |f''| of fangxu1
    assert gaps > 150 and worst <= curvature / (n - 1) ** 2 / 8 + 1e-3


def test_later_pointwise_grades_read_the_carried_input_only():
    target = get_target("kink")
    m = MultigradeRegressor(n_grades=3, width=8, carry_input=True, guarantee="pointwise", eps=1e-3, random_state=0)
    m.fit_target(target, samples=32)
    assert len(m.grades_) >= 2
    for layer, g in zip(m.layers_[1:], m.grades_[1:]):
        hidden = layer.hidden  # rows: the previous grade's features (the carried x - lo last), then the bias
        assert not np.any(hidden[:-2]) and np.any(hidden[-2:])
        assert g.input_dim == hidden.shape[0] - 1 and "carried x" in g.certificate_scope
        assert g.c1_status == "proved" and g.status == "optimal" and g.relative_gap <= 1e-6
    assert all(b.sup_upper <= a.sup_upper for a, b in zip(m.grades_, m.grades_[1:]))


def test_a_grade_that_cannot_be_proved_in_its_budget_falls_back_and_says_so():
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=2, width=32, carry_input=True, guarantee="pointwise", c1_rounds=1, random_state=0)
    m.fit_target(target, samples=256)
    assert len(m.grades_) == 0  # grade 1 needed more rounds: the zero grade instead, and the run stops
    assert "grade 1 is the zero grade: fallback to the zero grade: C1 not proved in 1 rounds" in m.stop_reason_
    assert not np.any(m.predict(np.linspace(0.0, 1.0, 11)[:, None]))  # nothing unproved is kept


def _humps_touched(m, target) -> int:
    """How many stretches between zeros of f the first grade is non-zero on (fine grid)."""
    x = np.linspace(0.0, 1.0, 200_001)
    g = m.layers_[0](np.column_stack([x, np.ones_like(x)]))
    f = target(x[:, None]).ravel()
    humps = np.split(np.arange(x.size), np.flatnonzero(np.sign(f[1:]) * np.sign(f[:-1]) < 0) + 1)
    return sum(np.max(np.abs(g[h])) > 1e-9 * np.max(np.abs(g)) for h in humps)


def test_a_grade_whose_zones_cannot_be_made_exact_tries_fewer_humps(monkeypatch):
    """The exact-zero step refused (forced here) for the 3 largest humps: the grade is fit again on 2, is
    proved by the rigorous checker, and says what happened; forced for every choice: the zero grade, said."""
    import mgdl_convex.pointwise as pw

    target = get_target("fangxu1")
    real, calls = pw._layer_of, []

    def refuse_first(solution, program, zones):
        calls.append(len(zones))
        return (None, "forced") if len(calls) == 1 else real(solution, program, zones)

    monkeypatch.setattr(pw, "_layer_of", refuse_first)
    m = MultigradeRegressor(n_grades=1, width=32, guarantee="pointwise", random_state=0).fit_target(target, samples=128)
    g = m.grades_[0]
    assert g.c1_status.startswith("proved") and "1 choice(s) of humps" in g.c1_status and g.width > 0
    assert 1 <= _humps_touched(m, target) <= 2
    report = check_scheme(scheme_from_model(m, target), target, CheckSettings(sollya="off"))
    assert report.claim("C1").outcome == "pass" and report.claim("C1").trust == "rigorous"

    monkeypatch.setattr(pw, "_layer_of", lambda solution, program, zones: (None, "forced"))
    m = MultigradeRegressor(n_grades=1, width=32, guarantee="pointwise", random_state=0).fit_target(target, samples=128)
    assert len(m.grades_) == 0 and "could not be made exact for every choice of humps" in m.stop_reason_
    assert m.stop_reason_.count("forced") == 5  # 3, 2, 1 largest; the second and the third alone


def test_bounds_at_the_samples_alone_are_refuted_by_the_oracle():
    """The same target with the pointwise bounds at the samples only (monotone=True): a certified counterexample."""
    target = get_target("sqrt_kink")
    m = MultigradeRegressor(n_grades=1, width=8, carry_input=True, monotone=True, beta_ratio=1e-3)
    m.fit_target(target, samples=16)
    search = monotone_violations([], m.layers_[0], target, np.array(target.domain))
    assert search.status == "counterexample" and search.worst.excess > 0


def test_when_no_beta_on_the_path_fits_the_width_the_grade_is_the_labelled_greedy_cap(monkeypatch):
    import mgdl_convex.path as path

    def no_beta(solve_at, kappa, floor, width, **kw):
        return path.PathResult(None, f"no beta below kappa gives a certified grade of width <= {width}", kappa, 3)

    monkeypatch.setattr(path, "solve_path", no_beta)
    x = np.linspace(0.0, 1.0, 40)
    y = np.sin(2 * np.pi * x) + 0.3 * np.sin(12 * np.pi * x)
    g = MultigradeRegressor(n_grades=1, width=6, width_mode="exact").fit(x[:, None], y).grades_[0]
    assert not g.trivial and g.width_mode == "greedy" and g.capped and 1 <= g.width <= 6
    assert g.attempts.startswith("exact width: no beta below kappa") and "greedy cap" in g.attempts
    assert g.loss_after < g.loss_before
