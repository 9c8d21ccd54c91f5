"""Red-team attacks on the recently changed parts of proofs_check.

* 1-D grade-by-grade exact partitions (kinks at samples, at piece boundaries, dyadic and
  non-dyadic rationals, coincident kinks across grades, grades zero on an interval, 1e-9 spikes);
* 1-D L^p enclosures computed coarse and refined only where neighbours overlap (tiny norm rises,
  non-integer p, huge / tiny targets, NaN ball forms);
* 2-D / 3-D box checks (NaN balls, a 3-D ridge between grid points, non-finite weights,
  degenerate domains, continuous=False / None);
* saved records tampered before the check (weights, beta, status, fingerprints, target swap).

Each test asserts what must hold mathematically: never "pass" where the claim is false or cannot
be verified; a fail where it is false and decidable.  The C3 attacks in 2-D and 3-D found false
passes (C3 was redone on float grids when the enclosures overlapped); they are fixed and kept here.
"""

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from records import grade_record

from mgdl_convex import MultigradeRegressor, get_target
from mgdl_convex.network import GradeLayer
from mgdl_convex.targets import Target
from proofs_check import (
    FAIL,
    INCONCLUSIVE,
    NOT_RUN,
    PASS,
    CheckSettings,
    Layer,
    Scheme,
    check_scheme,
    scheme_from_model,
)
from proofs_check.provenance import target_fingerprint

UNIT = [[0.0, 1.0]]
SQUARE = [[0.0, 1.0], [0.0, 1.0]]
CUBE = [[0.0, 1.0]] * 3


def _box_budgets(boxes: int) -> dict:
    """Every 2-D and 3-D search's box budget set to ``boxes``."""
    return {f"{kind}_boxes_{d}d": boxes for kind in ("sup", "c1", "lp") for d in (2, 3)}


FAST = dict(sollya="off", refutation_starts=50, **_box_budgets(3000))


def _check(layers, domain, target, samples=None, records=None, **settings):
    scheme = Scheme(tuple(layers), domain, records=records, samples=samples)
    return check_scheme(scheme, target, CheckSettings(**{**FAST, **settings}))


def _exact_G(layers, x) -> list:
    """[G_0, ..., G_K] at the point x, in exact rationals (x may hold Fractions)."""
    z = [Fraction(v) for v in np.atleast_1d(np.asarray(x, dtype=object))]
    G = [Fraction(0)]
    for layer in layers:
        H = [[Fraction(float(v)) for v in row] for row in layer.hidden]
        z = [max(sum(z[i] * H[i][j] for i in range(len(z))) + H[-1][j], 0) for j in range(len(layer.readout))]
        G.append(G[-1] + sum(zj * Fraction(float(a)) for zj, a in zip(z, layer.readout)))
    return G


def _lin(c=0.5, d=1):
    """f = x_0 - c (exactly affine: its ball form is exact up to the rounding of c)."""
    dom = tuple((0.0, 1.0) for _ in range(d))
    return Target(f"lin{d}", dom, lambda x, m: x[0] - c, lambda x, m: [1 + 0 * x[0]] + [0 * x[i] for i in range(1, d)])


def _const(v=1.0, d=1, continuous=True):
    dom = tuple((0.0, 1.0) for _ in range(d))
    return Target(
        f"const{d}", dom, lambda x, m: v + 0 * x[0], lambda x, m: [0 * x[i] for i in range(d)], continuous=continuous
    )


def _tent(a: float, h: float, height: float, d: int = 1) -> Layer:
    """g(x) = height * hat on [a, a + 2h] in the coordinate x_0 (three neurons, peak at a + h)."""
    w = np.zeros((d, 3))
    w[0] = 1.0
    b = np.array([-a, -(a + h), -(a + 2 * h)])
    return Layer(np.vstack([w, b]), np.array([1.0, -2.0, 1.0]) * height / h)


def _c1_fail_reverifies(report, layers, f_exact):
    """A C1 fail must name a point where |e_k| > |e_(k-1)| holds exactly."""
    c1 = report.claim("C1")
    if c1.outcome != FAIL:
        return
    x = c1.worst_point
    G = _exact_G(layers, x)
    f = f_exact(x)
    assert any(abs(f - G[k]) > abs(f - G[k - 1]) for k in range(1, len(G))), (x, c1.summary)


# =========================================================================== 1. 1-D exact partitions
@pytest.mark.parametrize("a", [0.5, 0.25 + 2.0**-40, 1 / 3, 0.1, 0.7 + 1e-12])
def test_1d_tiny_spike_between_samples_is_found(a):
    """f = 1 (constant), g_1 = -1e-3 tent of width 2e-9 at ``a``: |e_1| = 1 + 1e-3 > 1 = |e_0| there."""
    layer = _tent(a, 2.0**-30, -1e-3)  # h a power of 2: knots and slopes exact, g = 0 exactly past the tent
    assert _exact_G([layer], [1.0])[1] == 0 and _exact_G([layer], [a + 2.0**-30])[1] < 0
    X = np.linspace(0.0, 1.0, 9)[:, None]
    report = _check([layer], UNIT, _const(1.0), samples=((X, np.ones(9)),), records=[grade_record(1, 9)])
    assert report.claim("C1").outcome == FAIL
    _c1_fail_reverifies(report, [layer], lambda x: Fraction(1))
    assert report.claim("C3").outcome != PASS  # ||1 + tent||_p > ||1||_p
    # on the 9 samples the tent is 0 (or it is at a = 0.5, a sample: then it is 0 there too)
    assert report.claim("C1_train").outcome == PASS


def test_1d_spike_peaking_exactly_at_a_training_sample_fails_c1_train():
    """The tent's peak (a kink) is the sample 1/2: |e_1(1/2)| = 1 + 1e-3 > 1: C1 and C1_train fail."""
    h = 2.0**-30
    layer = _tent(0.5 - h, h, -1e-3)
    X = np.linspace(0.0, 1.0, 9)[:, None]
    report = _check([layer], UNIT, _const(1.0), samples=((X, np.ones(9)),), records=[grade_record(1, 9)])
    assert report.claim("C1_train").outcome == FAIL
    assert report.claim("C1").outcome == FAIL


def test_1d_spike_whose_kink_is_exactly_a_sample_point():
    """The tent starts exactly at the sample 0.5 and peaks 1e-9 later: zero at every sample, C1 false."""
    layer = _tent(0.5, 2.0**-30, 1e-3)
    target = _lin(0.5)
    report = _check([layer], UNIT, target)
    # at x = 0.5 + 1e-9: e_0 = 1e-9, e_1 = 1e-9 - 1e-3: |e_1| > |e_0|
    assert report.claim("C1").outcome == FAIL
    _c1_fail_reverifies(report, [layer], lambda x: Fraction(float(x[0])) - Fraction(1, 2))


def test_1d_kink_at_zero_of_target_and_dyadic_spike_exact():
    """Dyadic knots 1/2, 1/2 + 2^-30, 1/2 + 2^-29; height 3 * 2^-30: at the peak |e_1| = 2h > h = |e_0| (exact)."""
    h = 2.0**-30
    layer = _tent(0.5, h, 3 * h)
    report = _check([layer], UNIT, _lin(0.5))
    assert report.claim("C1").outcome == FAIL
    _c1_fail_reverifies(report, [layer], lambda x: Fraction(float(x[0])) - Fraction(1, 2))


@pytest.mark.parametrize("height", [1.0, 2.0])
def test_1d_tent_that_exactly_ties_is_not_a_fail(height):
    """f = x - 1/2, g_1 = tent of height c h (c = 1 or 2) on [1/2, 1/2 + 2h], h = 2^-20.

    With t = x - 1/2: on [0, h] e_1 = (1 - c) t; on [h, 2h] e_1 = t - c (2h - t).  |e_1| <= t = |e_0|
    everywhere, with equality at t = h, 2h (c = 2: on the whole of [0, h]): C1 holds, exactly tied."""
    h = 2.0**-20
    layer = _tent(0.5, h, height * h)
    report = _check([layer], UNIT, _lin(0.5))
    assert report.claim("C1").outcome == PASS


def test_1d_coincident_kinks_across_grades():
    """Grade 1 = relu(x - 1/3) and carries x; grade 2 adds -2 relu(relu(x) - 1/3): both kinks at the float 1/3.

    f = relu(x - 1/3) + 0.01 (x >= 0): e_1 = 0.01 everywhere, e_2 = 0.01 + 2 relu(x - 1/3) > e_1 past 1/3."""
    c = 1 / 3
    # max(t, 0) written as (t + |t|) / 2
    f = Target(
        "ramp",
        ((0.0, 1.0),),
        lambda x, m: (x[0] - c + m.abs(x[0] - c)) / 2 + 0.01,
        lambda x, m: [(1 + m.sign(x[0] - c)) / 2],
    )
    g1 = Layer(np.array([[1.0, 1.0], [-c, 0.0]]), np.array([1.0, 0.0]))
    g2 = Layer(np.array([[0.0], [1.0], [-c]]), np.array([2.0]))  # relu(z_2 - c), z_2 = relu(x) = x
    layers = [g1, Layer(g2.hidden, -g2.readout)]
    report = _check(layers, UNIT, f)
    assert report.claim("C1").outcome == FAIL
    assert report.claim("C1").per_grade[0]["status"] == "proved"
    assert report.claim("C3").outcome != PASS


def test_1d_grade_exactly_zero_on_an_interval_and_raising_elsewhere():
    """g_1 = 0 on [0, 0.6], -relu(x - 0.6) after; f = 1: C1 fails only on (0.6, 1]."""
    layer = Layer(np.array([[1.0], [-0.6]]), np.array([-1.0]))
    report = _check([layer], UNIT, _const(1.0))
    assert report.claim("C1").outcome == FAIL
    assert float(report.claim("C1").worst_point[0]) > 0.6
    assert report.claim("C3").outcome == FAIL or report.claim("C3").outcome == INCONCLUSIVE


def test_1d_grade_identically_zero_is_monotone_and_trivial():
    """g_1 = 0 (read-out 0 with live neurons): C1 holds exactly; C3 must not claim a strict decrease it cannot have."""
    layer = Layer(np.array([[1.0, -1.0], [0.0, 1.0]]), np.array([0.0, 0.0]))
    report = _check([layer], UNIT, get_target("fangxu1"))
    assert report.claim("C1").outcome == PASS
    c3 = report.claim("C3")
    assert c3.outcome != FAIL or not c3.per_grade[1]["nontrivial"]


def test_1d_grade_that_cancels_itself_is_zero_but_not_provably_dead():
    """g_1 = relu(x) - relu(x) (two identical neurons, read-outs +1 and -1): identically 0 (exactly).

    C3 exempts trivial grades; it may do so only because the exact pieces prove g_1 = 0."""
    layer = Layer(np.array([[1.0, 1.0], [0.0, 0.0]]), np.array([1.0, -1.0]))
    report = _check([layer], UNIT, get_target("fangxu1"))
    assert report.claim("C1").outcome == PASS
    c3 = report.claim("C3")
    assert c3.outcome != FAIL and c3.per_grade[1]["nontrivial"] is False


@pytest.mark.parametrize("tiny", [1e-300, 5e-324])
def test_1d_grade_of_underflowing_size_is_not_called_zero(tiny):
    """g_1 = tiny * relu(x - 1/2) (0 in float64 products, not exactly): not trivial, and its norm change
    (about 1e-300 relative) cannot be separated: C3 must not pass."""
    layer = Layer(np.array([[1.0], [-0.5]]), np.array([tiny]))
    report = _check([layer], UNIT, get_target("fangxu1"))
    c3 = report.claim("C3")
    assert c3.per_grade[1]["nontrivial"] is True
    assert c3.outcome != PASS


# =========================================================================== 2. 1-D L^p
@pytest.mark.parametrize("ps", [(1.5,), (3.7,), (1, 2.5)])
def test_1d_tiny_lp_rise_never_passes_for_noninteger_p(ps):
    """f = 1 + x, g_1 = -1e-5 constant: every ||e_1||_p > ||e_0||_p (by about 6.7e-6 relative)."""
    target = Target("1px", ((0.0, 1.0),), lambda x, m: 1 + x[0], lambda x, m: [1 + 0 * x[0]])
    layer = Layer(np.array([[0.0], [1.0]]), np.array([-1e-5]))
    report = _check([layer], UNIT, target, ps=ps)
    c3 = report.claim("C3")
    assert c3.outcome == FAIL
    for p in ps:  # the enclosures contain the exact norms
        exact0 = ((2 ** (p + 1) - 1) / (p + 1)) ** (1 / p)
        s = 1 + 1e-5
        exact1 = (((s + 1) ** (p + 1) - s ** (p + 1)) / (p + 1)) ** (1 / p)
        lo0, hi0 = c3.per_grade[0][f"p{p}"]
        lo1, hi1 = c3.per_grade[1][f"p{p}"]
        assert lo0 <= exact0 * (1 + 1e-12) and exact0 <= hi0 * (1 + 1e-12)
        assert lo1 <= exact1 * (1 + 1e-12) and exact1 <= hi1 * (1 + 1e-12)


def test_1d_lp_rise_below_the_fine_tolerance_is_not_a_pass():
    """A rise of ~1e-9 relative, far below lp_rtol = 1e-3: C3 cannot separate: inconclusive (or fail), never pass."""
    target = Target("1px", ((0.0, 1.0),), lambda x, m: 1 + x[0], lambda x, m: [1 + 0 * x[0]])
    layer = Layer(np.array([[0.0], [1.0]]), np.array([-1e-9]))
    assert _check([layer], UNIT, target).claim("C3").outcome != PASS


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e-160])
def test_1d_huge_and_tiny_targets_never_pass_a_rise(scale):
    """f = scale (1 + x), g_1 = -scale * 1e-2: the residual rises everywhere: C1 and C3 false."""
    target = Target("scaled", ((0.0, 1.0),), lambda x, m: scale * (1 + x[0]), lambda x, m: [scale + 0 * x[0]])
    layer = Layer(np.array([[0.0], [1.0]]), np.array([-scale * 1e-2]))
    report = _check([layer], UNIT, target)
    assert report.claim("C1").outcome != PASS
    assert report.claim("C3").outcome != PASS
    c2 = report.claim("C2").per_grade[1]
    assert c2["upper"] is None or c2["upper"] >= 2.01 * scale * (1 - 1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_1d_huge_and_tiny_targets_decrease_is_not_falsely_failed(scale):
    """f = scale (1 + x), g_1 = scale * 0.5: |e_1| < |e_0| everywhere: C1 must not fail."""
    target = Target("scaled", ((0.0, 1.0),), lambda x, m: scale * (1 + x[0]), lambda x, m: [scale + 0 * x[0]])
    layer = Layer(np.array([[0.0], [1.0]]), np.array([scale * 0.5]))
    report = _check([layer], UNIT, target)
    assert report.claim("C1").outcome != FAIL
    assert report.claim("C3").outcome != FAIL


@pytest.mark.slow
def test_1d_nan_ball_form_is_inconclusive_not_pass():
    """A ball form that is NaN everywhere (sqrt of a negative ball): nothing can be certified."""
    target = Target(
        "nanball",
        ((0.0, 1.0),),
        lambda x, m: (x[0] - 2).sqrt() if not hasattr(x[0], "shape") else 0 * x[0],
        lambda x, m: [(x[0] - 2).sqrt() if not hasattr(x[0], "shape") else 0 * x[0]],
    )
    layer = Layer(np.array([[1.0], [0.0]]), np.array([0.5]))
    report = _check([layer], UNIT, target)
    for cid in ("C1", "C2", "C3"):
        assert report.claim(cid).outcome != PASS, cid


def _dip(x):
    """1 - 0.9 hat on [0.45, 0.55] (numpy or Fraction)."""
    return (
        1 - 0.9 * max(0, 1 - abs(x - 0.5) / 0.05)
        if not hasattr(x, "shape")
        else 1 - 0.9 * np.maximum(0, 1 - np.abs(x - 0.5) / 0.05)
    )


def test_1d_nan_ball_on_a_small_interval_hides_a_violation():
    """f = 1 - 0.9 hat(0.45, 0.55); its ball form and gradient are NaN on every ball meeting (0.4, 0.6).

    g_1 = 1/2: at x = 0.5, e_0 = 0.1, e_1 = -0.4: C1 false there.  No claim may pass: the only
    evidence for (0.4, 0.6) is NaN."""
    from flint import arb

    hole = arb(0.5, 0.1)

    def f(x, m):
        t = x[0]
        if isinstance(t, np.ndarray):
            return _dip(t)
        return arb("nan") if t.overlaps(hole) else 1 + 0 * t

    def grad(x, m):
        t = x[0]
        return [arb("nan") if t.overlaps(hole) else 0 * t]

    target = Target("nanhole", ((0.0, 1.0),), f, grad)
    layer = Layer(np.array([[0.0], [1.0]]), np.array([0.5]))
    report = _check([layer], UNIT, target, c1_boxes=300, sup_boxes=3000)
    for cid in ("C1", "C2", "C3"):
        assert report.claim(cid).outcome != PASS, (cid, report.claim(cid).summary)


def test_1d_negative_underflowing_grade_is_not_proved_monotone():
    """f = x - 1/2, g_1 = -5e-324 relu(x - 1/2): e_1 = (x - 1/2) + 5e-324 (x - 1/2) > e_0 > 0 on (1/2, 1].

    The excess (below 5e-324) is no float, but it is > 0 exactly: C1 must not pass."""
    layer = Layer(np.array([[1.0], [-0.5]]), np.array([-5e-324]))
    G = _exact_G([layer], [0.75])
    assert -G[1] > 0  # |e_1(3/4)| = 1/4 - G_1 > 1/4
    report = _check([layer], UNIT, _lin(0.5))
    assert report.claim("C1").outcome != PASS
    _c1_fail_reverifies(report, [layer], lambda x: Fraction(float(x[0])) - Fraction(1, 2))


# =========================================================================== 3. 2-D / 3-D boxes
def _nan2d(d=2):
    """A ball form NaN on every box (sqrt of a ball below 0); numpy: 1."""

    def f(x, m):
        return 0 * x[0] + 1.0 if isinstance(x[0], np.ndarray) else (x[0] - 2).sqrt()

    def g(x, m):
        return [(x[i] - 2).sqrt() for i in range(d)]

    return Target(f"nan{d}", tuple((0.0, 1.0) for _ in range(d)), f, g)


@pytest.mark.parametrize("d", [2, 3])
def test_nd_nan_ball_form_everywhere_passes_nothing(d):
    layer = _constant_grade(0.5, d)
    report = _check([layer], [[0.0, 1.0]] * d, _nan2d(d), **_box_budgets(500))
    for cid in ("C1", "C2", "C3"):
        assert report.claim(cid).outcome != PASS, (cid, report.claim(cid).summary)


def _constant_grade(value: float, d: int) -> Layer:
    return Layer(np.vstack([np.zeros((d, 1)), [[1.0]]]), np.array([value]))


@pytest.mark.parametrize(
    "d,a",
    [
        # found as a false C3 pass: float64 grids saw ||e_1||_p = 1 - 7e-12 < 1 where e_1 >= 1 everywhere
        (2, 1 / 3),
        (3, 1 / 3),
        (3, 0.5),
    ],
)
def test_nd_ridge_between_grid_points_fails_c1(d, a):
    """f = 1, g_1 = -1e-3 tent of width 2^-29 across x_0 = a (a hyperplane ridge): C1 false on the ridge."""
    layer = _tent(a, 2.0**-30, -1e-3, d)
    report = _check([layer], [[0.0, 1.0]] * d, _const(1.0, d))
    c1 = report.claim("C1")
    assert c1.outcome != PASS
    if c1.outcome == FAIL:
        x = [Fraction(float(v)) for v in c1.worst_point]
        G = _exact_G([layer], x)
        assert abs(1 - G[1]) > 1
    assert report.claim("C3").outcome != PASS


def _ridge_over_a_small_decrease(height: float, d: int = 2) -> Layer:
    """2-D: g_1 = 1e-4 - height * hat(x_0) on [a, a + 2h], h = 2^-20, a = 100.5/446: between the nodes
    of both C3 fallback grids (447 and 224 per axis); knots and slopes exact, so g_1 = 1e-4 off the ridge."""
    h, a = 2.0**-20, 100.5 / 446
    w = np.zeros((d, 4))
    w[0, :3] = 1.0
    b = [-a, -(a + h), -(a + 2 * h), 1.0]
    return Layer(np.vstack([w, b]), np.r_[np.array([1.0, -2.0, 1.0]) * (-height / h), 1e-4])


def _ridge_l1(height: float) -> Fraction:
    """||1 - g_1||_1 exactly: (1 - 1e-4) + height * h (the hat's area is h); ||1||_1 = 1."""
    return 1 - Fraction(1e-4) + Fraction(height) * Fraction(2.0**-20)


def test_nd_c3_grid_fallback_misses_a_ridge_between_grid_nodes():
    """Found as a false C3 pass: with overlapping enclosures C3 was redone on grids, which miss the
    ridge; now the enclosures' verdict stands and the grid estimate is only reported beside it."""
    layer = _ridge_over_a_small_decrease(120.0)
    assert _ridge_l1(120.0) > 1  # ||e_1||_1 > ||e_0||_1 = 1 (and so for p = 2, 4: e_1 >= 1 - 1e-4 with a tall ridge)
    report = _check([layer], SQUARE, _const(1.0, 2))
    assert report.claim("C1").outcome == FAIL  # the same report proves the ridge exists
    c3 = report.claim("C3")
    assert c3.outcome != PASS
    if c3.outcome == INCONCLUSIVE:  # unresolved: the grid estimate is there, and said not to be a verdict
        assert "grid_norms" in c3.details and "not a verdict" in c3.summary


def test_3d_c3_grid_fallback_misses_a_ridge_between_grid_nodes():
    layer = _ridge_over_a_small_decrease(120.0, d=3)
    report = _check([layer], CUBE, _const(1.0, 3))
    assert report.claim("C1").outcome != PASS
    assert report.claim("C3").outcome != PASS


@pytest.mark.slow
def test_nd_c3_grid_fallback_misses_a_ridge_with_the_default_lp_budget():
    layer = _ridge_over_a_small_decrease(120.0)
    report = _check([layer], SQUARE, _const(1.0, 2), lp_boxes_2d=CheckSettings().lp_boxes_2d)
    assert report.claim("C3").outcome != PASS


@pytest.mark.parametrize("continuous", [False, None])
def test_nd_ridge_with_undeclared_continuity_fails_c1(continuous):
    """The same ridge in 2-D along x_1 (a = 0.3 + 1e-9) for a target declared discontinuous / unknown."""
    h = 2.0**-30
    w = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    a = 0.3 + 1e-9
    layer = Layer(np.vstack([w, [-a, -(a + h), -(a + 2 * h)]]), np.array([1.0, -2.0, 1.0]) * -1e-3 / h)
    report = _check([layer], SQUARE, _const(1.0, 2, continuous))
    assert report.claim("C1").outcome != PASS
    c2 = report.claim("C2")
    assert c2.outcome == (FAIL if continuous is False else INCONCLUSIVE)


def test_nd_exact_fit_of_target_with_unknown_continuity_is_not_a_c2_pass():
    """f = 0.25 (continuity None), g_1 = 0.25: sup |e_1| = 0 exactly, yet C2 must stay inconclusive."""
    report = _check([_constant_grade(0.25, 2)], SQUARE, _const(0.25, 2, None))
    assert report.claim("C2").outcome == INCONCLUSIVE
    assert report.claim("C1").outcome == PASS


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_nd_non_finite_weights_are_refused(bad):
    H = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    H[1, 1] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        Layer(H, np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="NaN or inf"):
        Layer(np.array([[1.0], [0.0], [0.0]]), np.array([bad]))


@pytest.mark.parametrize("domain", [[[0.0, 1.0], [0.5, 0.5]], [[0.0, 1.0], [1.0, 0.0]], [[0.0, math.nan], [0.0, 1.0]]])
def test_nd_degenerate_domain_boxes_are_refused(domain):
    with pytest.raises(ValueError):
        Scheme((_constant_grade(0.5, 2),), domain)
    with pytest.raises(ValueError):
        Target("degenerate", tuple(map(tuple, domain)), lambda x, m: x[0], lambda x, m: [1 + 0 * x[0], 0 * x[1]])


def test_nd_unbounded_domain_is_refused_by_the_target_and_the_scheme():
    """[0, inf] passes lo < hi; both the Target and the Scheme contract refuse it."""
    with pytest.raises(ValueError, match="finite"):
        Target("inf", ((0.0, math.inf), (0.0, 1.0)), lambda x, m: x[0], lambda x, m: [1 + 0 * x[0], 0 * x[1]])
    for domain in ([[0.0, math.inf], [0.0, 1.0]], [[-math.inf, 1.0], [0.0, 1.0]]):
        with pytest.raises(ValueError, match="bounded box"):
            Scheme((_constant_grade(0.5, 2),), domain)


def test_nd_model_with_non_finite_weights_is_refused():
    """A fitted model whose saved weights were edited to inf: scheme_from_model must refuse, not check."""
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=1, width=4, random_state=0).fit_target(target, samples=16)
    H = m.layers_[0].hidden.copy()
    H[0, 0] = math.inf
    m.layers_[0] = GradeLayer(hidden=H, readout=m.layers_[0].readout)
    with pytest.raises(ValueError, match="NaN or inf"):
        check_scheme(scheme_from_model(m, target), target, CheckSettings(**FAST))


# =========================================================================== 4. tampered saved records
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A 2-grade fit of fangxu1 (grid samples), saved with MultigradeRegressor.save; and its honest report."""
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=2, width=8, carry_input=True, random_state=0).fit_target(target, samples=32)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    m.save(path)
    honest = check_scheme(scheme_from_model(MultigradeRegressor.load(path), target), target, CheckSettings(**FAST))
    return path, target, honest


def _tampered(path, tmp_path, edit):
    model = MultigradeRegressor.load(path)
    edit(model)
    out = tmp_path / "tampered.npz"
    model.save(out)
    return MultigradeRegressor.load(out)


def _report(model, target):
    return check_scheme(scheme_from_model(model, target), target, CheckSettings(**FAST))


def test_records_honest_baseline(saved):
    """Untampered: C4 passes (grade 1 by its exact certificate), so every tampering below is a real change."""
    _, _, honest = saved
    c4 = honest.claim("C4")
    assert c4.outcome == PASS and c4.per_grade[0]["trust"] == "rigorous"


def _scale_readout(k, factor):
    def edit(model):
        layer = model.layers_[k]
        model.layers_[k] = GradeLayer(hidden=layer.hidden, readout=layer.readout * factor)

    return edit


def _shift_bias(k, delta):
    def edit(model):
        layer = model.layers_[k]
        H = layer.hidden.copy()
        H[-1] += delta
        model.layers_[k] = GradeLayer(hidden=H, readout=layer.readout)

    return edit


@pytest.mark.parametrize(
    "edit", [_scale_readout(0, 1.05), _scale_readout(1, 1.5), _shift_bias(1, 0.05), _shift_bias(0, 0.02)]
)
def test_records_with_edited_weights_are_not_certified_optimal(saved, tmp_path, edit):
    path, target, honest = saved
    report = _report(_tampered(path, tmp_path, edit), target)
    assert report.claim("C4").outcome != PASS, report.claim("C4").summary


@pytest.mark.parametrize("factor", [10.0, 0.1])
def test_records_with_edited_beta_are_not_certified_optimal(saved, tmp_path, factor):
    """beta of grade 1 times 10 (or / 10): the grade is the optimum of another problem."""
    path, target, _ = saved

    def edit(model):
        model.grades_[0] = dataclasses.replace(model.grades_[0], beta=model.grades_[0].beta * factor)

    c4 = _report(_tampered(path, tmp_path, edit), target).claim("C4")
    assert c4.per_grade[0]["verdict"] != PASS, c4.summary


def test_records_with_edited_status_are_at_most_solver_trusted(saved, tmp_path):
    """status/gap are solver-trusted: a forged 'optimal' on a grade without an exact certificate can only
    give a solver-trusted pass, never a rigorous one; a forged failure status is a fail."""
    path, target, _ = saved

    def forge(model):
        model.grades_[1] = dataclasses.replace(model.grades_[1], status="optimal", relative_gap=0.0, gap=0.0)

    c4 = _report(_tampered(path, tmp_path, forge), target).claim("C4")
    if c4.per_grade[1]["verdict"] == PASS:
        assert c4.per_grade[1]["trust"] != "rigorous" or c4.per_grade[1]["independent"].startswith("exact")

    def fail(model):
        model.grades_[1] = dataclasses.replace(model.grades_[1], status="infeasible")

    assert _report(_tampered(path, tmp_path, fail), target).claim("C4").outcome == FAIL


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: setattr(
            m, "target_fingerprints_", [[f[0], f[1] * (1 + 1e-6), f[2], f[3]] for f in m.target_fingerprints_]
        ),
        lambda m: setattr(m, "target_fingerprints_", None),
        lambda m: setattr(m, "target_fingerprints_", m.target_fingerprints_[:1]),
        lambda m: setattr(m, "target_fingerprints_", [[f[0], math.nan, f[2], f[3]] for f in m.target_fingerprints_]),
        lambda m: setattr(m, "target_name_", "sin100"),
    ],
    ids=["fingerprint", "no-fingerprints", "one-fingerprint", "nan-fingerprint", "name"],
)
def test_records_with_edited_provenance_are_not_read(saved, tmp_path, edit):
    path, target, _ = saved
    report = _report(_tampered(path, tmp_path, edit), target)
    for cid in ("C1_train", "C4"):
        assert report.claim(cid).outcome == NOT_RUN, (cid, report.claim(cid).summary)


def _impostor(scale=1.001):
    """A target with fangxu1's name and domain but another formula (values times ``scale``)."""
    real = get_target("fangxu1")
    return dataclasses.replace(
        real,
        formula=lambda x, m: scale * real.formula(x, m),
        gradient=lambda x, m: [scale * g for g in real.gradient(x, m)],
    )


def test_records_checked_against_a_swapped_target_are_not_read(saved):
    path, _, _ = saved
    impostor = _impostor()
    report = _report(MultigradeRegressor.load(path), impostor)
    for cid in ("C1_train", "C4"):
        assert report.claim(cid).outcome == NOT_RUN


def test_records_with_swapped_target_and_forged_fingerprints_are_not_certified(saved, tmp_path):
    """The attacker also rewrites the fingerprints for the impostor: the grades are then checked against
    the impostor's problem, where they are not optimal: C4 must not pass."""
    path, _, _ = saved
    impostor = _impostor(1.05)

    def edit(model):
        model.target_fingerprints_ = [target_fingerprint(impostor(X)) for X in model.training_samples(impostor)]

    report = _report(_tampered(path, tmp_path, edit), impostor)
    assert report.claim("C4").outcome != PASS, report.claim("C4").summary


def test_records_with_edited_sample_count_and_forged_fingerprints_are_not_certified(saved, tmp_path):
    """n_samples of grade 1 changed 32 -> 33 (and the fingerprint forged to match): grade 1 is judged on
    samples it was not fit to; its certificate must not pass there."""
    path, target, _ = saved

    def edit(model):
        model.grades_[0] = dataclasses.replace(model.grades_[0], n_samples=33)
        model.target_fingerprints_ = [target_fingerprint(target(X)) for X in model.training_samples(target)]

    c4 = _report(_tampered(path, tmp_path, edit), target).claim("C4")
    assert c4.per_grade[0]["verdict"] != PASS, c4.summary


def test_records_with_edited_weights_recompute_training_excess(saved, tmp_path):
    """Grade 2's read-out times -3 raises |e_2| at the training points: C1_train recomputed must fail."""
    path, target, _ = saved
    report = _report(_tampered(path, tmp_path, _scale_readout(1, -3.0)), target)
    assert report.claim("C1_train").outcome == FAIL
    assert report.claim("C4").outcome != PASS


# =========================================================================== 5. C3 by contraction
# C3 may pass where the L^p enclosures overlap if C1 is proved on all of Omega (|e_k| <= |e_(k-1)|
# everywhere) and |e_k| < |e_(k-1)| is proved on a box: then every ||e_k||_p is strictly smaller.
# Each attack below removes one of those premises, or makes the "strict" box a tie.


def _affine_grade(slope: float, const: float, d: int = 1) -> Layer:
    """g(x) = slope * x_0 + const on [0, 1]^d: relu(x_0) and relu(1) (a constant neuron)."""
    w = np.zeros((d, 2))
    w[0, 0] = 1.0
    return Layer(np.vstack([w, [0.0, 1.0]]), np.array([slope, const]))


def _overlap(row_prev: dict, row: dict, p) -> bool:
    (a, b), (c, d) = row_prev[f"p{p}"], row[f"p{p}"]
    return not (b < c or d < a)


def _wave(d: int = 1) -> Target:
    """f = 2 + sin(3 x_0) on [0, 1]^d: its L^p norms are enclosed to lp_rtol, not exactly."""
    return Target(
        f"wave{d}", tuple((0.0, 1.0) for _ in range(d)), lambda x, m: 2 + m.sin(3 * x[0]),
        lambda x, m: [3 * m.cos(3 * x[0])] + [0 * x[i] for i in range(1, d)],
    )


def test_c3_by_contraction_passes_a_decrease_too_small_to_separate():
    """f = 2 + sin 3x, g_1 = 1e-9: |e_1| = |e_0| - 1e-9 everywhere, so every ||e_1||_p is smaller by
    about 5e-10 relative, far below lp_rtol: the enclosures overlap, the contraction decides (rigorous)."""
    report = _check([_affine_grade(0.0, 1e-9)], UNIT, _wave())
    assert report.claim("C1").outcome == PASS
    c3 = report.claim("C3")
    assert c3.outcome == PASS and c3.trust == "rigorous" and "contraction" in c3.summary, c3.summary
    lo, hi = c3.per_grade[1]["strict_box"][0]
    assert -1e-300 <= lo < hi <= 1.0 + 1e-15  # rounded outward
    assert all(_overlap(c3.per_grade[0], c3.per_grade[1], p) for p in CheckSettings().ps)  # not by separation


@pytest.mark.parametrize("d", [1, 2])
def test_c3_equal_magnitudes_never_pass_by_contraction(d):
    """f = x_0 - 1/2, g_1 = 2 x_0 - 1: e_1 = -e_0, so |e_1| = |e_0| everywhere: C1 holds (with equality)
    and every ||e_1||_p equals ||e_0||_p: no box may be called strict, C3 must not pass."""
    report = _check([_affine_grade(2.0, -1.0, d)], [[0.0, 1.0]] * d, _lin(0.5, d))
    assert report.claim("C1").outcome == PASS or (d > 1 and report.claim("C1").outcome == INCONCLUSIVE)
    assert report.claim("C1").per_grade[0]["strict_box"] is None
    assert report.claim("C3").outcome != PASS


def test_c3_contraction_needs_c1_everywhere():
    """f = 1 + x, g_1 = 1e-9 minus a tent of height 1e-6 on [0.3, 0.32]: |e_1| < |e_0| off the tent (strict
    boxes exist) but the tent raises ||e_1||_1 by 1e-8 - 1e-9 > 0: C1 fails there, C3 must not pass."""
    target = Target("1px", ((0.0, 1.0),), lambda x, m: 1 + x[0], lambda x, m: [1 + 0 * x[0]])
    tent = _tent(0.3, 0.01, -1e-6)
    layer = Layer(np.hstack([tent.hidden, [[0.0], [1.0]]]), np.r_[tent.readout, 1e-9])
    report = _check([layer], UNIT, target)
    assert report.claim("C1").outcome == FAIL
    _c1_fail_reverifies(report, [layer], lambda x: 1 + Fraction(float(x[0])))
    assert report.claim("C3").outcome != PASS


def test_c3_contraction_needs_c1_proved_not_unresolved():
    """f = 1 with a ball form that is NaN near 0.5, g_1 = 1e-9: C3 is true (|e_1| = 1 - 1e-9) but C1
    cannot be proved on the hole, and the enclosures cannot separate 1e-9: C3 must stay unproved."""
    from flint import arb

    hole = arb(0.5, 0.1)

    def f(x, m):
        t = x[0]
        if isinstance(t, np.ndarray):
            return 1 + 0 * t
        return arb("nan") if t.overlaps(hole) else 1 + 0 * t

    def grad(x, m):
        t = x[0]
        return [arb("nan") if t.overlaps(hole) else 0 * t]

    report = _check([_affine_grade(0.0, 1e-9)], UNIT, Target("nanhole1", ((0.0, 1.0),), f, grad), c1_boxes=300)
    assert report.claim("C1").outcome != PASS
    assert report.claim("C3").outcome != PASS


def test_c3_contraction_is_not_used_on_grids():
    """The same 1e-9 decrease with a target that has no ball form: the checks are grids (heuristic),
    C1 there is evidence, not a proof: C3 must not pass."""
    target = Target("1px_np", ((0.0, 1.0),), lambda x, m: 1 + x[0], numpy_only=True)
    report = _check([_affine_grade(0.0, 1e-9)], UNIT, target)
    assert report.claim("C3").outcome != PASS
    assert "contraction" not in report.claim("C3").summary


@pytest.mark.parametrize("d", [2, 3])
def test_nd_c3_by_contraction_passes_a_tiny_uniform_decrease(d):
    """f = 2 + sin 3 x_0 on [0, 1]^d, g_1 = 1e-9: as in 1-D, decided by contraction on boxes."""
    report = _check([_affine_grade(0.0, 1e-9, d)], [[0.0, 1.0]] * d, _wave(d), **_box_budgets(500))
    assert report.claim("C1").outcome == PASS
    c3 = report.claim("C3")
    assert c3.outcome == PASS and "contraction" in c3.summary, c3.summary
    assert len(c3.per_grade[1]["strict_box"]) == d


def test_c3_strict_margin_holds_on_the_whole_reported_box():
    """Found by a red-team pass: the strict box was rounded outward, one float below the exact box, where
    e_0^2 - e_1^2 fell short of the margin (by 1.5e-30).  The box is now rounded inward; checked exactly."""
    target = Target("1px", ((0.0, 1.0),), lambda x, m: 1 + x[0], lambda x, m: [1 + 0 * x[0]])
    S = 1e-14
    layer = Layer(np.array([[1.0, 1.0], [-(0.5 - 1e-9), -0.5]]), np.array([S, -0.5 * S]))
    row = _check([layer], UNIT, target).claim("C3").per_grade[1]
    ((lo, hi),), margin = row["strict_box"], Fraction(row["strict_margin"])
    assert 0.0 <= lo < hi <= 1.0 and margin > 0
    for x in (lo, np.nextafter(lo, 1.0), (lo + hi) / 2, np.nextafter(hi, 0.0), hi):
        X = Fraction(float(x))
        e0 = 1 + X
        e1 = e0 - _exact_G([layer], [X])[1]
        assert e0 * e0 - e1 * e1 >= margin, x


# ========================================================================== 6. C1_train, exact where floats cannot
def _cancelling(c: float, shift: float) -> Layer:
    """g = c relu(x - 1/4) - c relu(x - 1/4) + shift: exactly the constant ``shift``, but its float forms
    carry a rounding radius of about c 1e-16 (far above C1_train's 1e-7 for c = 1e12)."""
    return Layer(np.array([[1.0, 1.0, 0.0], [-0.25, -0.25, 1.0]]), np.array([c, -c, shift]))


@pytest.mark.parametrize(
    "shift,verdict",
    [
        (0.0, PASS),  # |e_1| = |e_0| exactly: the excess 0 is within the tolerance; floats alone: inconclusive
        (-1e-6, FAIL),  # |e_1| = 1 + 1e-6: an excess ten times the tolerance 1e-7, hidden in a radius of 1e-4
        (-1e-8, PASS),  # an excess of 1e-8, below the tolerance by design (what monotone=True's solver leaves)
    ],
)
def test_c1_train_is_decided_exactly_where_the_float_radius_is_too_wide(shift, verdict):
    X = np.linspace(0.0, 1.0, 33)[:, None]
    layer = _cancelling(1e12, shift)
    report = _check([layer], UNIT, _const(1.0), samples=((X, np.ones(33)),), records=[grade_record(1, 33)])
    c1t = report.claim("C1_train")
    assert c1t.outcome == verdict, c1t.summary
    lo, hi = c1t.per_grade[0]["excess"]["lower"], c1t.per_grade[0]["excess"]["upper"]
    assert lo <= -shift <= hi and hi - lo < 1e-12  # near the exact excess, not within the float radius 1e-4


def test_c3_contraction_is_not_used_where_the_previous_norm_is_unbounded():
    """f = 1/sqrt(x) on [0, 1] (||f||_2 and ||f||_4 infinite), g_1 = 1e-9 relu(x - 1/2): |e_1| < |e_0| on
    (1/2, 1], C1 holds, but ||e_1||_p < ||e_0||_p is meaningless where both are infinite: no pass for p = 2, 4."""
    target = Target(
        "rsqrt", ((0.0, 1.0),), lambda x, m: 1 / m.sqrt(x[0]) if not hasattr(x[0], "shape") else 1 / np.sqrt(
            np.maximum(x[0], 1e-300)), lambda x, m: [-0.5 / (x[0] * m.sqrt(x[0]))], continuous=False,
    )
    layer = Layer(np.array([[1.0], [-0.5]]), np.array([1e-9]))
    report = _check([layer], UNIT, target, ps=(2, 4))
    c3 = report.claim("C3")
    assert c3.outcome != PASS and "strict_box" not in c3.per_grade[1], c3.summary


def test_c3_contraction_is_not_used_when_a_spike_between_grid_points_breaks_c1():
    """f = 2 + sin 3x, g_1 = 1e-9 (a strict decrease everywhere) plus a spike of height -1e-3 and width 2^-29
    across x = 1/3, between any grid's nodes: C1 is false on the spike, so the contraction must not decide C3."""
    spike = _tent(1 / 3, 2.0**-30, -1e-3)
    layer = Layer(np.hstack([spike.hidden, [[0.0], [1.0]]]), np.r_[spike.readout, 1e-9])
    report = _check([layer], UNIT, _wave())
    assert report.claim("C1").outcome == FAIL
    c3 = report.claim("C3")
    assert "contraction" not in c3.summary and "strict_box" not in c3.per_grade[1]
    assert c3.outcome != PASS  # a 1e-9 decrease and a 1e-12 rise: the enclosures cannot separate either way


def test_c1_train_exact_path_finds_a_spike_peaking_at_a_sample_inside_the_float_radius():
    """The cancelling pair (float radius 1e-4) plus a tent of height -1e-6 whose peak, a kink, is exactly the
    sample 1/2: |e_1(1/2)| = 1 + 1e-6, 10x the tolerance, seen only by the exact evaluation at that sample."""
    h = 2.0**-30
    tent = _tent(0.5 - h, h, -1e-6)
    pair = _cancelling(1e12, 0.0)
    layer = Layer(np.hstack([pair.hidden, tent.hidden]), np.r_[pair.readout, tent.readout])
    X = np.linspace(0.0, 1.0, 33)[:, None]
    report = _check([layer], UNIT, _const(1.0), samples=((X, np.ones(33)),), records=[grade_record(1, 33)])
    c1t = report.claim("C1_train")
    assert c1t.outcome == FAIL and c1t.per_grade[0]["worst_point"] == [0.5], c1t.summary
    assert report.claim("C1").outcome == FAIL

