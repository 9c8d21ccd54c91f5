"""proofs_check on planted schemes: every verdict here could have gone the other way."""

import math

import numpy as np
import pytest
from exact_eval import excess_ball
from records import grade_record

from mgdl_convex import MultigradeRegressor, get_target
from mgdl_convex.network import GradeLayer
from mgdl_convex.targets import Target
from proofs_check import FAIL, HEURISTIC, INCONCLUSIVE, PASS, RIGOROUS, CheckSettings, Scheme, check_scheme
from proofs_check.balls import to_fmpq
from proofs_check.bounds1d import Residual, lp_integrals, sup_abs
from proofs_check.network import staged_outputs
from proofs_check.pieces import exact_pieces


def _one_neuron(weight, shift, out):
    """x -> out * relu(weight * x - weight * shift) as one grade on 1-D input."""
    return GradeLayer(hidden=np.array([[weight], [-weight * shift]]), readout=np.array([out]))


def _claim(report, claim_id):
    return report.claim(claim_id)


def test_a_grade_that_raises_the_residual_fails_c1_and_names_the_place():
    scheme = Scheme([_one_neuron(1.0, 0.7, 50.0)], np.array([[0.0, 1.0]]), [grade_record(1)])
    report = check_scheme(scheme, get_target("fangxu1"))
    c1 = _claim(report, "C1")
    assert c1.outcome == FAIL and c1.trust == RIGOROUS
    x = c1.worst_point[0]
    assert 0.7 < x <= 1.0
    f = get_target("fangxu1")(np.array([[x]]))[0]
    assert abs(f - 50 * (x - 0.7)) > abs(f)  # the named point really is a counterexample
    assert report.failed


def test_a_grade_inside_the_band_passes_c1_rigorously():
    # f = sqrt|x - 0.3| >= sqrt(0.2) on [0.5, 1]; g = relu(x - 0.5) <= 0.5 < 2 f there, 0 elsewhere
    scheme = Scheme([_one_neuron(1.0, 0.5, 1.0)], np.array([[0.0, 1.0]]), [grade_record(1)])
    c1 = _claim(check_scheme(scheme, get_target("sqrt_kink")), "C1")
    assert c1.outcome == PASS and c1.trust == RIGOROUS


def test_a_jump_target_never_passes_c2():
    m = MultigradeRegressor(n_grades=3, width=10, random_state=0).fit_target(get_target("step"), samples=200)
    from proofs_check import scheme_from_model

    c2 = _claim(check_scheme(scheme_from_model(m), get_target("step")), "C2")
    assert c2.outcome == FAIL and "discontinuous" in c2.summary


def test_an_unresolved_grid_is_inconclusive():
    # a tent of width 2e-4 at a point of the fine grid that falls between points of the coarse grid
    fine = np.linspace(0.0, 1.0, 4000)
    x0 = fine[1001]
    tent = Target("tent", ((0.0, 1.0),), lambda x, m: np.maximum(0.0, 1 - np.abs(x[0] - x0) / 1e-4), numpy_only=True)
    zero = GradeLayer(hidden=np.array([[1.0], [0.0]]), readout=np.array([0.0]))
    s = CheckSettings(grid_points=4000, eps=0.5)
    report = check_scheme(Scheme([zero], np.array([[0.0, 1.0]]), [grade_record(1)]), tent, s)
    c2 = _claim(report, "C2")
    assert c2.trust == HEURISTIC and c2.outcome == INCONCLUSIVE and "refined" in c2.summary


def _random_scheme(rng, grades=3, width=5):
    layers, q = [], 2
    for _ in range(grades):
        H = rng.standard_normal((q, width))
        layers.append(GradeLayer(hidden=H, readout=rng.standard_normal(width)))
        q = width + 1
    return Scheme(layers, np.array([[0.0, 1.0]]), [grade_record(k + 1) for k in range(grades)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_pieces_equal_a_brute_force_evaluation(seed):
    rng = np.random.default_rng(seed)
    scheme = _random_scheme(rng)
    pieces = exact_pieces(scheme.layers, 0.0, 1.0)
    x = np.sort(rng.random(100_000))
    staged = staged_outputs(scheme.layers, x[:, None])
    starts = np.array([float(p.a) for p in pieces])
    idx = np.searchsorted(starts, x, side="right") - 1
    for k in range(len(scheme.layers) + 1):
        S = np.array([float(p.S[k]) for p in pieces])
        T = np.array([float(p.T[k]) for p in pieces])
        np.testing.assert_allclose(S[idx] * x + T[idx], staged[k], atol=1e-10)
    # pieces tile the domain exactly (rational end points)
    assert pieces[0].a == to_fmpq(0.0) and pieces[-1].b == to_fmpq(1.0)
    assert all(p.b == q.a for p, q in zip(pieces, pieces[1:]))


def test_certified_sup_contains_the_brute_force_maximum():
    rng = np.random.default_rng(5)
    scheme = _random_scheme(rng, grades=2, width=4)
    target = get_target("fangxu1")
    pieces = exact_pieces(scheme.layers, 0.0, 1.0)
    x = np.linspace(0.0, 1.0, 1_000_001)
    f = target(x[:, None])
    for k, g in enumerate(staged_outputs(scheme.layers, x[:, None])):
        sup = sup_abs([(p.a, p.b, Residual(target, p.S[k], p.T[k])) for p in pieces], rtol=1e-8)
        brute = np.abs(f - g).max()
        assert sup.converged
        assert brute <= sup.enclosure.upper  # the grid maximum lies inside the certified enclosure
        assert sup.enclosure.lower >= brute * (1 - 1e-6)  # whose lower end is a real value, at least the grid's


def test_certified_l2_enclosure_contains_a_known_integral():
    target = get_target("sin100")
    pieces = exact_pieces([], 0.0, 1.0)
    res = [(p.a, p.b, Residual(target, p.S[0], p.T[0])) for p in pieces]
    enclosures, converged = lp_integrals(res, [1, 2, 4], rtol=1e-5, max_boxes=200_000)
    assert converged
    u = 100.0  # int_0^1 |sin(100 x)|^p dx = (1/100) int_0^100 |sin u|^p du
    exact = {
        1: (2 * 31 + 1 - math.cos(u - 31 * math.pi)) / u,  # 31 full half-periods, then a part one
        2: 0.5 - math.sin(2 * u) / (4 * u),
        4: (3 * u / 8 - math.sin(2 * u) / 4 + math.sin(4 * u) / 32) / u,
    }
    for p, value in exact.items():
        e = enclosures[p]
        assert e.lower <= value <= e.upper
        assert e.upper - e.lower <= 1e-5 * value


def test_verify_on_a_fitted_scheme_reports_what_brute_force_dictates():
    """Each claim's outcome is the one an independent fine-grid evaluation makes certain."""
    from proofs_check import scheme_from_model

    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=2, width=10, carry_input=True, width_mode="greedy", random_state=0)
    m.fit_target(target, samples=128)
    scheme = scheme_from_model(m, target)
    report = check_scheme(scheme, target, CheckSettings(sollya="off"))
    assert [c.id for c in report.claims] == ["C1", "C1_train", "C2", "C3", "C4"]
    x = (np.arange(1_000_000) + 0.5)[:, None] / 1_000_000
    errs = [target(x) - g for g in staged_outputs(scheme.layers, x)]
    # C1: some grade raises |e| by far more than rounding, so the search must find a certified counterexample
    assert max(np.max(np.abs(errs[k]) - np.abs(errs[k - 1])) for k in (1, 2)) > 1e-2
    c1 = _claim(report, "C1")
    assert c1.outcome == FAIL and c1.trust == RIGOROUS
    k = max((r for r in c1.per_grade if r["counterexamples"]), key=lambda r: r["worst_excess"])["grade"]
    assert excess_ball(scheme.layers, target, c1.worst_point, k) > 0  # re-verified exactly
    # C3: the L^p norms (midpoint rule) fall by far more than the quadrature error: strict decay proved
    norms = [{p: np.mean(np.abs(e) ** p) ** (1 / p) for p in (1, 2, 4)} for e in errs]
    assert all(norms[k][p] < 0.95 * norms[k - 1][p] for k in (1, 2) for p in (1, 2, 4))
    c3 = _claim(report, "C3")
    assert c3.outcome == PASS and c3.trust == RIGOROUS and all(row["nontrivial"] for row in c3.per_grade[1:])
    for row, norm in zip(c3.per_grade, norms):
        for p in (1, 2, 4):
            lo, hi = row[f"p{p}"]
            assert lo - 1e-5 <= norm[p] <= hi + 1e-5
    # C2: sup |e_2| is far above eps = 1% of sup |f|: eps-attainment cannot be shown
    assert np.abs(errs[-1]).max() > 0.05 * np.abs(errs[0]).max()
    assert _claim(report, "C2").outcome == INCONCLUSIVE
    # C1 at the training points, recomputed: grade 1 raises |e| at some of its own samples
    X = scheme.samples[0][0]
    y = target(X)
    assert np.max(np.abs(y - staged_outputs(scheme.layers, X)[1]) - np.abs(y)) > 1e-3
    assert _claim(report, "C1_train").outcome == FAIL
    # C4: the greedy width cap of 10 caps every grade of this fit (a precondition): exact over the kept blocks only
    assert all(g.capped for g in m.grades_)
    c4 = _claim(report, "C4")
    assert c4.outcome == INCONCLUSIVE and "width cap" in c4.summary


def _plus_two():
    """f = 2 + sin(x) cos(y) >= 1 on the unit square (ball form and gradient)."""
    return Target(
        "plus_two",
        ((0.0, 1.0), (0.0, 1.0)),
        lambda x, m: 2 + m.sin(x[0]) * m.cos(x[1]),
        lambda x, m: [m.cos(x[0]) * m.cos(x[1]), -m.sin(x[0]) * m.sin(x[1])],
    )


def test_2d_c1_passes_inside_the_band_and_fails_outside_it():
    """g = relu(x + y - 1) lies in [0, 1] and f >= 1, so |f - g| <= |f| everywhere; 6 g exceeds 2 f near (1, 1)."""
    target = _plus_two()
    domain = np.array([[0.0, 1.0], [0.0, 1.0]])
    s = CheckSettings(sup_rtol_2d=1e-3, lp_boxes_2d=4096)
    for scale, outcome in ((1.0, PASS), (6.0, FAIL)):
        layer = GradeLayer(hidden=np.array([[1.0], [1.0], [-1.0]]), readout=np.array([scale]))
        report = check_scheme(Scheme([layer], domain, [grade_record(1)]), target, s)
        c1 = _claim(report, "C1")
        assert c1.trust == RIGOROUS and c1.outcome == outcome
        if outcome == FAIL:
            assert excess_ball([layer], target, c1.worst_point, 1) > 0


def test_2d_rigorous_sup_contains_the_grid_maximum_and_c1_fails_where_brute_force_says():
    target = get_target("osc2d")
    m = MultigradeRegressor(n_grades=2, width=8, carry_input=True, patterns="sampled", n_patterns=60)
    m.fit_target(target, samples=144)
    from proofs_check import scheme_from_model

    scheme = scheme_from_model(m)
    report = check_scheme(scheme, target, CheckSettings(sup_rtol_2d=1e-3, grid_points=40_000))
    c2 = _claim(report, "C2")
    assert c2.trust == RIGOROUS
    g = np.stack(np.meshgrid(np.linspace(0, 1, 401), np.linspace(0, 1, 401), indexing="ij"), -1).reshape(-1, 2)
    f = target(g)
    preds = staged_outputs(scheme.layers, g)
    for row, pred in zip(c2.per_grade, preds):
        assert row["lower"] <= np.abs(f - pred).max() * (1 + 1e-3) + 1e-3 and np.abs(f - pred).max() <= row["upper"]
    assert np.max(np.abs(f - preds[1]) - np.abs(f)) > 1e-2  # grade 1 raises |e| somewhere, by far more than rounding
    c1 = _claim(report, "C1")
    assert c1.trust == RIGOROUS and c1.outcome == FAIL
    k = next(r["grade"] for r in c1.per_grade if r["counterexamples"])
    assert excess_ball(scheme.layers, target, c1.worst_point, k) > 0  # the named point, re-verified exactly


def test_rigorous_first_grade_certificate_and_a_perturbed_grade():
    """1-D, all patterns, uncapped: certified optimal; the same grade with its read-out scaled is not."""
    from proofs_check import scheme_from_model

    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=1, width=64, beta_ratio=0.05, random_state=0).fit_target(target, samples=80)
    assert not m.grades_[0].capped
    scheme = scheme_from_model(m, target)
    c4 = _claim(check_scheme(scheme, target), "C4")
    assert c4.trust == RIGOROUS and c4.outcome == PASS
    assert 0 <= c4.details["independent"][0]["relative_gap_upper"] < 1e-6
    bad = GradeLayer(hidden=m.layers_[0].hidden, readout=m.layers_[0].readout * 1.1)
    perturbed = Scheme([bad], scheme.domain, scheme.records, scheme.samples)
    c4_bad = _claim(check_scheme(perturbed, target), "C4")
    assert c4_bad.outcome == FAIL and c4_bad.details["independent"][0]["relative_gap_upper"] > 1e-4


def test_2d_affine_forms_contain_the_network_on_random_boxes(rng):
    """The float64 forms with their rounding-error radii contain the forward pass at points of each box."""
    from proofs_check.network import approximant_forms

    m = MultigradeRegressor(n_grades=3, width=12, patterns="sampled", n_patterns=40, random_state=2)
    m.fit_target(get_target("osc2d"), samples=100)
    lo = rng.random((300, 2)) * 0.9
    hi = lo + rng.random((300, 2)) * np.array([[0.1], [1e-6], [0.0]]).repeat(100, axis=0)
    forms, c, _ = approximant_forms(m.layers_, lo, hi, {0, 1, 2, 3})
    for _ in range(10):
        x = lo + rng.random(lo.shape) * (hi - lo)
        staged = staged_outputs(m.layers_, x)
        for k in range(4):
            F = forms[k]
            affine = np.einsum("bd,bd->b", F.A[:, 0, :], x - c) + F.b[:, 0]
            # the forward pass itself rounds: allow its own error, far below the radii that matter
            assert np.all(np.abs(staged[k] - affine) <= F.r[:, 0] + 1e-13)
    stable = forms[3].r[:, 0] < 1e-9
    assert stable.any()  # some small boxes hold no unstable neuron: a thin, exact-ish form


@pytest.mark.parametrize("seed", [0, 1])
def test_3d_forms_of_the_approximant_and_of_each_grade_contain_the_network(seed):
    """Random 4-grade 3-D schemes (weights of either sign, many neurons unstable on large boxes): the
    forms of G_k and of grade k's own output g_k contain the forward pass at random points of each box."""
    from proofs_check.network import box_forms

    rng = np.random.default_rng(seed)
    layers, q = [], 4
    for _ in range(4):
        layers.append(GradeLayer(hidden=rng.standard_normal((q, 8)), readout=rng.standard_normal(8)))
        q = 9
    lo = rng.random((200, 3)) * 0.8
    hi = lo + np.array([0.2, 1e-2, 1e-4, 0.0])[np.arange(200) % 4, None] * rng.random((200, 3))
    forms, c, _ = box_forms(layers, lo, hi, {0, 1, 2, 3, 4})
    for _ in range(20):
        x = lo + rng.random(lo.shape) * (hi - lo)
        staged = staged_outputs(layers, x)
        for k in range(5):
            g_k = staged[k] - staged[max(k - 1, 0)]
            for F, value in ((forms[k].approximant, staged[k]), (forms[k].increment, g_k)):
                affine = np.einsum("bd,bd->b", F.A[:, 0, :], x - c) + F.b[:, 0]
                assert np.all(np.abs(value - affine) <= F.r[:, 0] + 1e-12)


def test_two_paths_from_one_relaxed_neuron_cancel_in_the_forms():
    """Grade 2 reads grade 1's kink relu(x) through two neurons that are always on and subtracts them:
    g_2 = (z + 1) - (z + 2) = -1.  Each neuron's form carries the relaxation of z, but with one error
    symbol per relaxed neuron the two copies cancel, so on a box across the kink g_2's form is exact up
    to rounding, and G_2 = relu(x) - 1 is as wide as G_1 and no wider (an interval radius doubles it)."""
    from proofs_check.network import box_forms

    kink = GradeLayer(hidden=np.array([[1.0], [0.0]]), readout=np.array([1.0]))  # z = relu(x), g_1 = z
    twins = GradeLayer(hidden=np.array([[1.0, 1.0], [1.0, 2.0]]), readout=np.array([1.0, -1.0]))
    forms, _, _ = box_forms([kink, twins], np.array([[-0.5]]), np.array([[0.5]]), {1, 2})
    assert forms[1].approximant.r[0, 0] > 0.1  # the kink itself is relaxed on this box
    g2 = forms[2].increment
    assert abs(g2.b[0, 0] + 1) < 1e-12 and abs(g2.A[0, 0, 0]) < 1e-12 and g2.r[0, 0] < 1e-12
    assert forms[2].approximant.r[0, 0] <= forms[1].approximant.r[0, 0] * (1 + 1e-9)


def test_2d_lp_enclosures_contain_known_integrals():
    """int |f|^2 of osc2d over the unit square is exactly 3/8; a trained grade's against a fine quadrature."""
    from proofs_check.boundsnd import LpEnclosureND

    target = get_target("osc2d")
    domain = [(0.0, 1.0), (0.0, 1.0)]
    f_only = LpEnclosureND([], target, domain, 0, (1, 2))
    f_only.refine(16384)
    e = f_only.enclosure(2)
    assert e.lower <= 0.375 <= e.upper and e.upper - e.lower < 0.05
    m = MultigradeRegressor(n_grades=1, width=8, patterns="sampled", n_patterns=40, random_state=0)
    m.fit_target(target, samples=100)
    enc = LpEnclosureND(m.layers_, target, domain, 1, (1, 2, 4))
    enc.refine(8192)
    mid = (np.arange(1500) + 0.5) / 1500
    X = np.stack(np.meshgrid(mid, mid, indexing="ij"), -1).reshape(-1, 2)
    e = target(X) - staged_outputs(m.layers_, X)[1]
    for p in (1, 2, 4):
        quad = float(np.mean(np.abs(e) ** p))  # midpoint rule: error far below the enclosure's width
        assert enc.enclosure(p).lower <= quad <= enc.enclosure(p).upper


def test_2d_lp_enclosure_with_an_unbounded_gradient_stays_valid():
    """|x - (1/2, 1/2)| has no derivative at the centre: boxes there stay unbounded, nothing turns NaN."""
    from proofs_check.boundsnd import LpEnclosureND

    def norm(x, m):
        return m.sqrt((x[0] - 0.5) ** 2 + (x[1] - 0.5) ** 2)

    cone = Target(
        "cone", ((0.0, 1.0), (0.0, 1.0)), norm, lambda x, m: [(x[0] - 0.5) / norm(x, m), (x[1] - 0.5) / norm(x, m)]
    )
    enc = LpEnclosureND([], cone, [(0.0, 1.0), (0.0, 1.0)], 0, (2,))
    enc.refine(2048)
    lo, hi = enc.enclosure(2).lower, enc.enclosure(2).upper
    assert not math.isnan(lo) and not math.isnan(hi)
    assert lo <= 1 / 6 <= hi  # int |x - c|^2 over the unit square
    assert lo > 0.15  # the bounded boxes still count


# --------------------------------------------------------------------------- 3-D
def _plus_three():
    """f = 2 + x y z in [2, 3] on the unit cube (ball form and gradient)."""
    return Target(
        "plus_three",
        ((0.0, 1.0),) * 3,
        lambda x, m: 2 + x[0] * x[1] * x[2],
        lambda x, m: [x[1] * x[2], x[0] * x[2], x[0] * x[1]],
    )


def _tent(normal, t, delta, height):
    """``height`` times a tent of half-width delta across the plane ``normal . x = t + delta``; 0 elsewhere."""
    n = np.array(normal, float)
    cols = [[*n, -t], [*n, -t - delta], [*n, -t - 2 * delta]]
    return np.array(cols).T, np.array([1.0, -2.0, 1.0]) * height / delta


def test_3d_c1_finds_a_spike_between_grid_points_with_a_certified_counterexample():
    """A band grade (0 <= g <= 2 f, so C1 holds) plus a tent of height 10 > 2 max f, 2e-6 wide.

    The tent's slab ``2.715 <= x + 2y + 3z <= 2.715 + 2e-6`` holds no point of a 101^3 grid (there
    x + 2y + 3z is a multiple of 0.01), so a grid sees C1 hold; the rigorous 3-D search names a
    point inside the slab, and its excess is re-verified in exact rationals.
    """
    target = _plus_three()
    domain = np.array([[0.0, 1.0]] * 3)
    H, a = _tent((1.0, 2.0, 3.0), 2.715, 1e-6, 10.0)
    # 1/2 + relu(x + y + z - 2) in [1/2, 3/2]: beyond the slab the tent cancels only up to rounding, and the
    # band's margin above 0 is what lets the float forms prove g >= 0 there
    band = GradeLayer(hidden=np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [1.0, -2.0]]), readout=np.array([0.5, 1.0]))
    spiked = GradeLayer(hidden=np.hstack([band.hidden, H]), readout=np.concatenate([band.readout, a]))
    axis = np.linspace(0, 1, 101)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), -1).reshape(-1, 3)
    f = target(grid)
    assert np.max(np.abs(f - staged_outputs([spiked], grid)[1]) - np.abs(f)) <= 1e-12  # the grid sees nothing
    s = CheckSettings(sollya="off", sup_rtol_3d=1e-2, sup_boxes_3d=3000, lp_boxes_3d=3000, c1_boxes_3d=100_000)
    for layer, outcome in ((band, PASS), (spiked, FAIL)):
        report = check_scheme(Scheme([layer], domain, [grade_record(1)]), target, s)
        c1 = _claim(report, "C1")
        assert c1.trust == RIGOROUS and c1.outcome == outcome, (outcome, c1.summary)
    x = c1.worst_point
    assert abs(x[0] + 2 * x[1] + 3 * x[2] - 2.715 - 1e-6) < 2e-6  # inside the slab
    assert excess_ball([spiked], target, x, 1) > 0  # re-verified exactly


def test_3d_sup_and_lp_enclosures_contain_brute_force_values():
    """osc3d against a trained grade: sup |e_1| and ||e_1||_2 enclosures hold a fine grid's values."""
    from proofs_check.boundsnd import LpEnclosureND, sup_abs_nd

    target = get_target("osc3d")
    m = MultigradeRegressor(n_grades=1, width=8, patterns="sampled", n_patterns=40, random_state=0)
    m.fit_target(target, samples=216)
    domain = [(0.0, 1.0)] * 3
    sup = sup_abs_nd(m.layers_, target, domain, 1, rtol=1e-2, max_boxes=20_000)
    mid = (np.arange(60) + 0.5) / 60
    X = np.stack(np.meshgrid(mid, mid, mid, indexing="ij"), -1).reshape(-1, 3)
    e = np.abs(target(X) - staged_outputs(m.layers_, X)[1])
    assert sup.enclosure.bounded and e.max() <= sup.enclosure.upper
    enc = LpEnclosureND(m.layers_, target, domain, 1, (2,))
    enc.refine(8192)
    lo, hi = enc.enclosure(2).lower, enc.enclosure(2).upper
    assert 0 < lo <= np.mean(e**2) <= hi < math.inf  # second order: about N^(-2/3) wide for N boxes in 3-D


def test_beyond_3d_the_checks_are_grids_and_say_why():
    """A 4-D target with a ball form and gradient: C1 heuristic, and the method names the dimension limit."""
    target = Target(
        "sum4", ((0.0, 1.0),) * 4, lambda x, m: 2 + x[0] + x[1] + x[2] + x[3], lambda x, m: [1 + 0 * x[0]] * 4
    )
    layer = GradeLayer(hidden=np.array([[1.0], [1.0], [1.0], [1.0], [0.0]]), readout=np.array([0.5]))
    scheme = Scheme([layer], np.array([[0.0, 1.0]] * 4), [grade_record(1)])
    report = check_scheme(scheme, target, CheckSettings(grid_points=4096))
    c1 = _claim(report, "C1")
    assert c1.trust == HEURISTIC and c1.outcome == PASS
    assert "4-D: the rigorous checks cover 1-D to 3-D only" in report.details["method"]


def test_resumed_lp_search_nests_its_enclosures_and_does_not_redo_the_coarse_work():
    """Refining one search to 1e-1, 1e-2, 1e-3: every enclosure holds the known integrals, each lies
    inside the one before, and the resumed search evaluates about as many boxes as a fresh one."""
    from proofs_check.bounds1d import LpIntegrals

    target = get_target("sin100")
    res = [(p.a, p.b, Residual(target, p.S[0], p.T[0])) for p in exact_pieces([], 0.0, 1.0)]
    u = 100.0
    exact = {1: (2 * 31 + 1 - math.cos(u - 31 * math.pi)) / u, 2: 0.5 - math.sin(2 * u) / (4 * u)}
    resumed, previous = LpIntegrals(res, (1, 2), max_boxes=200_000), None
    for rtol in (1e-1, 1e-2, 1e-3):
        enclosures, converged = resumed.refine(rtol)
        assert converged
        for p, value in exact.items():
            e = enclosures[p]
            assert e.lower <= value <= e.upper and e.upper - e.lower <= rtol * e.lower
            if previous is not None:
                assert previous[p].lower <= e.lower and e.upper <= previous[p].upper
        previous = enclosures
    fresh = LpIntegrals(res, (1, 2), max_boxes=200_000)
    fresh.refine(1e-3)
    assert resumed.counter <= 1.2 * fresh.counter


def test_1d_lp_enclosures_are_refined_only_where_neighbouring_grades_overlap():
    """C3 needs separation only: far-apart norms stay coarse (1e-2), overlapping ones reach lp_rtol."""
    from flint import fmpq

    from proofs_check.bounds1d import Residual
    from proofs_check.drivers import LP_COARSE_RTOL, _lp_until_separated

    target = get_target("fangxu1")
    zero, one = fmpq(0), fmpq(1)
    residuals = [[(zero, one, Residual(target, zero, T))] for T in (zero, fmpq(3), fmpq(3001, 1000))]
    s = CheckSettings(sollya="off")
    lps = _lp_until_separated(residuals, s)

    def rel_width(e):
        return (e.upper - e.lower) / e.lower

    for k in (1, 2):  # ||f - 3|| and ||f - 3.001|| overlap at 1e-2: both refined
        assert rel_width(lps[k][2]) <= s.lp_rtol
    # grade 0 is separated from grade 1 at the coarse tolerance: left coarse
    assert 3 * max(rel_width(lps[1][2]), rel_width(lps[2][2])) < rel_width(lps[0][2]) <= LP_COARSE_RTOL
    x = (np.arange(200_000) + 0.5) / 200_000
    f = target(x[:, None])
    for k, shift in enumerate((0.0, 3.0, 3.001)):
        exact = np.sqrt(np.mean((f - shift) ** 2))
        assert lps[k][2].lower - 1e-6 <= exact <= lps[k][2].upper + 1e-6


@pytest.mark.parametrize("bad", [np.nan, np.inf, 1e308])
def test_3d_forms_with_a_non_finite_or_huge_weight_fail_closed(bad):
    """Attack on the error symbols: a NaN, infinite or overflowing weight in grade 2 must not vanish into
    a symbol column (NaN compares False everywhere): the sup of e_2 is unbounded; a huge finite weight gives a
    huge sup that still contains the brute-force maximum; C1 is never proved."""
    from proofs_check.boundsnd import prove_monotone_nd, sup_abs_nd

    rng = np.random.default_rng(5)
    g1 = GradeLayer(hidden=rng.standard_normal((4, 6)), readout=rng.standard_normal(6))
    H = rng.standard_normal((7, 6))
    H[2, 3] = bad
    g2 = GradeLayer(hidden=H, readout=rng.standard_normal(6))
    domain = [(0.0, 1.0)] * 3
    target = get_target("osc3d")
    sup = sup_abs_nd([g1, g2], target, domain, 2, rtol=1e-3, max_boxes=2000)
    if math.isfinite(bad):
        grid = np.array(list(np.ndindex(9, 9, 9))) / 8.0
        brute = np.max(np.abs(target(grid) - staged_outputs([g1, g2], grid)[2]))
        assert brute <= sup.enclosure.upper * (1 + 1e-9)  # the grid is below the sup, never above
    else:
        assert not sup.enclosure.bounded or sup.enclosure.upper == math.inf
    assert prove_monotone_nd([g1, g2], target, domain, 2, max_boxes=2000).status != "proved"


def test_3d_forms_contain_the_network_on_boxes_whose_faces_lie_on_kinks():
    """Kinks exactly on box faces and through box centres (grade 1 folds at x_1 = 1/2 and x_2 = 1/4;
    grade 2 reads the folds): the forms contain the forward pass at the faces, corners and centres."""
    from proofs_check.network import box_forms

    g1 = GradeLayer(hidden=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [-0.5, -0.25]]), readout=np.array([1.0, -1.0]))
    g2 = GradeLayer(hidden=np.array([[2.0, -1.0], [1.0, 3.0], [0.5, 0.5]]), readout=np.array([1.5, -2.0]))
    layers = [g1, g2]
    lo = np.array([[0.5, 0.25, 0.0], [0.25, 0.0, 0.0], [0.5, 0.125, 0.5], [0.0, 0.0, 0.0]])
    hi = np.array([[0.75, 0.5, 1.0], [0.75, 0.5, 1.0], [0.5, 0.375, 0.5], [1.0, 1.0, 1.0]])
    forms, c, _ = box_forms(layers, lo, hi, {1, 2})
    corners = [np.where(np.array(bits)[None, :], hi, lo) for bits in np.ndindex(2, 2, 2)]
    for x in [*corners, c, (lo + c) / 2]:
        staged = staged_outputs(layers, x)
        for k in (1, 2):
            for F, value in ((forms[k].approximant, staged[k]), (forms[k].increment, staged[k] - staged[k - 1])):
                affine = np.einsum("bd,bd->b", F.A[:, 0, :], x - c) + F.b[:, 0]
                assert np.all(np.abs(value - affine) <= F.r[:, 0] + 1e-12)
