"""Red-team attacks on the resumable 1-D L^p search (commit 3d1eebd).

``proofs_check.bounds1d.LpIntegrals`` keeps its boxes between ``refine`` calls and intersects each
call's enclosure with the previous one; ``proofs_check.drivers._lp_until_separated`` starts every
grade at 3e-2, refines only grades whose enclosures overlap a neighbour's (steps of 10^-0.5 down to
``CheckSettings.lp_rtol``) and drops a grade's search once it is separated from both neighbours.

Every test compares with a brute-force quadrature (>= 10^6 Gauss-Legendre nodes, its error taken as
ten times the difference between 2^20 and 2^21 nodes): an enclosure must contain the quadrature
value, a C3 pass needs a strict decrease larger than the quadrature error, a C3 fail a
non-decrease.  Found, fixed, and kept as the last three tests:

* a ball form that contradicts itself between a coarse and a fine box (a wrong user target: the
  documented behaviour is "fails closed", an unbounded enclosure with the reason) now crashes
  ``check_scheme`` with ``AttributeError: 'NoneType' object has no attribute 'refine'``: the
  contradictory enclosure (-inf, inf) overlaps a neighbour whose search was already dropped;
* ``CheckSettings(lp_rtol=-1e-3)`` is accepted and ``lp_levels`` then never terminates (the
  levels reach 0.0 and ``0.0 > -1e-3`` forever): every rigorous 1-D check hangs;
* ``lp_rtol = 0`` (or 1e-300) gives ~600 levels, each re-summing every box of every overlapping
  grade: 28x slower than before the commit (7 s -> 208 s for two equal-norm grades).

The fixes: a final grade is never reopened (its neighbour's pair stays inconclusive),
``CheckSettings`` refuses a negative or non-finite ``lp_rtol``, and the levels take at most six
steps before going straight to ``lp_rtol``.
"""

import math
import subprocess
import sys

import numpy as np
import pytest
from flint import arb
from records import grade_record

from mgdl_convex import get_target
from mgdl_convex.targets import Target
from proofs_check import FAIL, INCONCLUSIVE, PASS, CheckSettings, Layer, Scheme, check_scheme
from proofs_check.bounds1d import LpIntegrals, Residual
from proofs_check.drivers import lp_levels
from proofs_check.network import staged_outputs
from proofs_check.pieces import merged, partitions

UNIT = [[0.0, 1.0]]
FAST = dict(sollya="off", refutation_starts=50, c1_boxes=500, sup_boxes=20_000)


def _check(layers, target, **settings):
    return check_scheme(Scheme(tuple(layers), UNIT), target, CheckSettings(**{**FAST, **settings}))


# --------------------------------------------------------------------------- brute force
def _gl(layers, target, ps, n, order=8):
    """``int_0^1 |f - G_k|^p`` for every grade k, composite Gauss-Legendre on n nodes (float64 forward pass)."""
    xg, wg = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, 1.0, n // order + 1)
    h = np.diff(edges)
    X = (edges[:-1, None] + (xg[None] + 1) / 2 * h[:, None]).ravel()
    W = (wg[None] / 2 * h[:, None]).ravel()
    f = target(X[:, None])
    return [{p: float(np.sum(W * np.abs(f - G) ** p)) for p in ps} for G in staged_outputs(layers, X[:, None])]


def _brute(layers, target, ps, scale=1.0):
    """``[{p: (integral, error)}]`` per grade, on 2^21 nodes, error 10 x |Q(2^20) - Q(2^21)| + 1e-13 Q."""
    q1, q2 = _gl(layers, target, ps, 2**20), _gl(layers, target, ps, 2**21)
    return [{p: (b[p], 10 * abs(b[p] - a[p]) + 1e-13 * abs(b[p]) + 1e-300) for p in ps} for a, b in zip(q1, q2)]


def _norms(brute):
    """The same as norms ``||e_k||_p`` with their errors (first order in the integral's error)."""
    out = []
    for row in brute:
        d = {}
        for p, (v, err) in row.items():
            n = v ** (1 / p)
            d[p] = (n, (n / (p * v)) * err if v > 0 else err ** (1 / p))
        out.append(d)
    return out


def _residuals(layers, target):
    """As rigorous_1d builds them: grade k's residual on its own exact partition."""
    parts = partitions(layers, 0.0, 1.0)
    own = [merged(part, (k,)) for k, part in enumerate(parts)]
    return [[(p.a, p.b, Residual(target, p.S[k], p.T[k])) for p in own[k]] for k in range(len(parts))]


def _contains(enc, value, err):
    return enc.lower <= value + err and value - err <= enc.upper


def _assert_c3_sound(report, layers, target, ps):
    """Every reported norm enclosure holds the brute-force norm; pass / fail only where brute force agrees."""
    norms = _norms(_brute(layers, target, ps))
    c3 = report.claim("C3")
    rows = c3.per_grade
    for k, row in enumerate(rows):
        for p in ps:
            lo, hi = row[f"p{p}"]
            n, err = norms[k][p]
            assert (lo is None or lo <= n + err) and (hi is None or n - err <= hi), (k, p, lo, n, hi, err)
            if k == 0:
                continue
            prev, perr = norms[k - 1][p]
            verdict = row[f"p{p}_verdict"]
            if verdict == PASS:
                assert n + err < prev - perr, (k, p, n, prev, "false pass")
            if verdict == FAIL:
                assert n + err >= prev - perr, (k, p, n, prev, "false fail")
    if c3.outcome == PASS and c3.trust == "rigorous":
        for k in range(1, len(rows)):
            if rows[k]["nontrivial"]:
                for p in ps:
                    assert norms[k][p][0] + norms[k][p][1] < norms[k - 1][p][0] - norms[k - 1][p][1]
    return c3


# --------------------------------------------------------------------------- hand-built grades
def _const_grades(offsets):
    """Grade k adds the constant offsets[k-1] (grade 1 reads x, later grades the constant z = 1)."""
    return [Layer(np.array([[0.0], [1.0]]), np.array([c])) for c in offsets]


def _smooth():
    """f = 2 + sin(3 x) >= 2 on [0, 1]: |f - C|^p is smooth for C < 2, brute force is near exact."""
    return Target("2sin3", ((0.0, 1.0),), lambda x, m: 2 + m.sin(3 * x[0]), lambda x, m: [3 * m.cos(3 * x[0])])


def _random_layers(rng, grades, width, scale):
    layers, q = [], 1
    for k in range(grades):
        H = rng.normal(size=(q + 1, width))
        if k == 0:
            H[1] = -H[0] * rng.uniform(0, 1, width)  # kinks inside [0, 1]
        layers.append(Layer(H, rng.normal(size=width) * scale / width))
        q = width
    return layers


# =========================================================================== 1. containment
@pytest.mark.parametrize(
    "name, seed, ps",
    [
        ("fangxu1", 1, (1, 2.5)),
        ("sin100", 2, (1.5, 4)),
        ("sqrt_kink", 3, (1, 3.7)),
        ("kink", 4, (2, 1.0000001)),
        ("fangxu2", 5, (3, 7.5)),
    ],
)
def test_resumed_enclosures_hold_the_brute_force_integrals(name, seed, ps):
    """Random 1-3 grade networks, refined 3e-2 -> 1e-3 -> 1e-5 on one resumed search: each enclosure
    holds the quadrature value and lies inside the one before."""
    rng = np.random.default_rng(seed)
    target = get_target(name)
    layers = _random_layers(rng, 1 + seed % 3, 5, scale=2.0)
    brute = _brute(layers, target, ps)
    for k, res in enumerate(_residuals(layers, target)):
        search, before = LpIntegrals(res, ps, max_boxes=6000), None
        for rtol in (3e-2, 1e-3, 1e-5):
            enc, _ = search.refine(rtol)
            for p in ps:
                assert _contains(enc[p], *brute[k][p]), (k, rtol, p, enc[p], brute[k][p])
                if before is not None:
                    assert before[p].lower <= enc[p].lower and enc[p].upper <= before[p].upper
            before = enc


def test_residual_crossing_zero_inside_boxes_for_non_integer_p():
    """e = f - G changes sign many times inside boxes (sin100 minus a tiny offset): the affine
    crossing formula and its union with the signed one, p in (1, 2)."""
    target = get_target("sin100")
    layers = _const_grades([1e-3])
    ps = (1.01, 1.5, 1.99)
    brute = _brute(layers, target, ps)
    for k, res in enumerate(_residuals(layers, target)):
        search = LpIntegrals(res, ps, max_boxes=20_000)
        for rtol in (3e-2, 1e-4, 1e-6):
            enc, _ = search.refine(rtol)
            for p in ps:
                assert _contains(enc[p], *brute[k][p]), (k, rtol, p, enc[p], brute[k][p])


def test_residual_that_vanishes_exactly_on_a_piece():
    """f = |x - 1/2| reproduced exactly by grade 1 on [1/2, 1] only: e_1 = 0 there (enclosures of 0)."""
    target = Target("absmid", ((0.0, 1.0),), lambda x, m: m.abs(x[0] - 0.5), lambda x, m: [m.sign(x[0] - 0.5)])
    layers = [Layer(np.array([[1.0], [-0.5]]), np.array([1.0]))]  # g_1 = relu(x - 1/2)
    ps = (1, 2.5, 4)
    brute = _brute(layers, target, ps)
    for k, res in enumerate(_residuals(layers, target)):
        search = LpIntegrals(res, ps)
        for rtol in (3e-2, 1e-3, 1e-6):
            enc, _ = search.refine(rtol)
            for p in ps:
                assert _contains(enc[p], *brute[k][p]), (k, rtol, p, enc[p], brute[k][p])
    _assert_c3_sound(_check(layers, target, ps=ps), layers, target, ps)


@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e150])
def test_extreme_scales_enclosures_contain_the_scaled_integrals(scale):
    """f = scale (2 + sin 3x): |e|^p under- or overflows float64 per box; the enclosures (of
    sums of outward-rounded floats) must still hold the true integral scale^p * I."""
    base = _smooth()
    target = Target(
        "scaled", ((0.0, 1.0),), lambda x, m: scale * (2 + m.sin(3 * x[0])), lambda x, m: [scale * 3 * m.cos(3 * x[0])]
    )
    ps = (1, 2, 2.5)
    brute = _brute([], base, ps)[0]
    (res,) = _residuals([], target)
    search = LpIntegrals(res, ps, max_boxes=4000)
    for rtol in (3e-2, 1e-3):
        enc, _ = search.refine(rtol)
        for p in ps:
            v, err = brute[p]
            true = float(arb(v) * arb(scale) ** p) if math.isfinite(float(arb(v) * arb(scale) ** p)) else math.inf
            assert enc[p].lower <= true * (1 + 1e-9) + 1e-300, (p, enc[p], true)
            assert true * (1 - 1e-9) <= enc[p].upper, (p, enc[p], true)


# =========================================================================== 2. C3 end to end
@pytest.mark.parametrize("ps", [(1, 2, 4), (1.5, 3.7)])
def test_many_grades_with_tiny_rises_and_falls(ps):
    """f = 2 + sin 3x minus constant grades: relative norm changes of -1e-4, +1e-4, -1e-6 (below lp_rtol),
    0 (a zero grade), -0.05, +1e-5, -3e-3, -3e-3: separation gained and lost between refinement steps
    (lp_rtol = 1e-6).  C3 must be FAIL (grades 2 and 6 raise the norm); every enclosure holds the brute-force norm."""
    offsets = [2.5e-4, -2.5e-4, 2.5e-6, 0.0, 0.12, -2.5e-5, 7.5e-3, 7.5e-3]
    layers, target = _const_grades(offsets), _smooth()
    report = _check(layers, target, ps=ps, lp_rtol=1e-6)
    c3 = _assert_c3_sound(report, layers, target, ps)
    assert c3.outcome == FAIL
    assert c3.per_grade[4]["nontrivial"] is False
    for k in (2, 6):
        assert all(c3.per_grade[k][f"p{p}_verdict"] == FAIL for p in ps), c3.per_grade[k]
    for k in (1, 5, 7, 8):
        assert all(c3.per_grade[k][f"p{p}_verdict"] == PASS for p in ps), c3.per_grade[k]


def test_decrease_between_steps_is_separated_at_a_fine_lp_rtol():
    """Consecutive decreases of 3e-5, 1e-5, 3e-6 relative: each needs a different refinement level;
    with lp_rtol = 1e-7 all must separate (pass), and the enclosures hold the brute-force norms."""
    offsets = [7.5e-5, 2.5e-5, 7.5e-6, 2.5e-1]
    layers, target = _const_grades(offsets), _smooth()
    ps = (1, 2)
    c3 = _assert_c3_sound(_check(layers, target, ps=ps, lp_rtol=1e-7), layers, target, ps)
    assert c3.outcome == PASS, c3.summary


def test_equal_norms_mirror_residuals_never_pass():
    """f = x - 1/2, g_1 = 2x - 1: e_1 = -e_0 exactly, ||e_1||_p = ||e_0||_p: C3 is false; FAIL or
    INCONCLUSIVE, never PASS."""
    target = Target("lin", ((0.0, 1.0),), lambda x, m: x[0] - 0.5, lambda x, m: [1 + 0 * x[0]])
    layers = [Layer(np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0]))]  # g_1 = 2x - 1
    ps = (1, 1.5, 2, 4)
    c3 = _assert_c3_sound(_check(layers, target, ps=ps, lp_rtol=1e-6), layers, target, ps)
    assert c3.outcome != PASS


def test_equal_norms_on_a_cusp_target_never_pass():
    """f = sqrt|x - 0.3| (natural extension near the cusp), g_1 = -1e-7 relu(x - 0.99): e_1 >= e_0 >= 0,
    a norm rise far below lp_rtol: never PASS."""
    target = get_target("sqrt_kink")
    layers = [Layer(np.array([[1.0], [-0.99]]), np.array([-1e-7]))]  # g_1 = -1e-7 relu(x - 0.99): e_1 >= e_0 > 0
    ps = (1, 2.5)
    c3 = _assert_c3_sound(_check(layers, target, ps=ps), layers, target, ps)
    assert c3.outcome != PASS


@pytest.mark.parametrize("lp_rtol", [0.5, 10.0, 3e-2, 2.9e-2])
def test_lp_rtol_at_or_above_the_coarse_level(lp_rtol):
    """lp_rtol >= 3e-2: a single level; clear decreases pass, a 1e-4 rise never passes."""
    layers, target = _const_grades([0.5, -2.5e-4]), _smooth()
    ps = (1, 2)
    c3 = _assert_c3_sound(_check(layers, target, ps=ps, lp_rtol=lp_rtol), layers, target, ps)
    assert c3.outcome != PASS
    if lp_rtol < 1:  # at lp_rtol = 10 the enclosures may be too wide to separate even a 20 % decrease
        assert all(c3.per_grade[1][f"p{p}_verdict"] == PASS for p in ps)


@pytest.mark.slow
def test_tiny_residuals_near_underflow_never_pass_a_rise():
    """f = 1e-300 (2 + sin 3x), grade 1 subtracts 1e-300, grade 2 adds 1e-303 back: per-box |e|^p underflows;
    C3 cannot pass (grade 2 raises the norm)."""
    s = 1e-300
    target = Target(
        "tiny", ((0.0, 1.0),), lambda x, m: s * (2 + m.sin(3 * x[0])), lambda x, m: [s * 3 * m.cos(3 * x[0])]
    )
    layers = _const_grades([s, -1e-303])
    report = _check(layers, target, ps=(1, 2))
    assert report.claim("C3").outcome != PASS


@pytest.mark.parametrize("where", ["narrow", pytest.param("wide", marks=pytest.mark.slow)])
def test_nan_ball_form_only_at_some_box_widths(where):
    """f = 2 + sin 3x whose ball form is NaN on boxes narrower (wider) than 2^-12 around x = 0.6:
    the enclosures of different refinement steps come from different boxes; the intersection
    must still hold the truth and the verdicts must agree with brute force."""
    base = _smooth()
    hole = arb(0.6, 0.01)

    def bad(t):
        narrow = float(t.rad()) < 2.0**-13
        return t.overlaps(hole) and (narrow if where == "narrow" else not narrow)

    def f(x, m):
        t = x[0]
        if isinstance(t, np.ndarray):
            return 2 + np.sin(3 * t)
        return arb("nan") if bad(t) else 2 + (3 * t).sin()

    def g(x, m):
        t = x[0]
        return [arb("nan") if bad(t) else 3 * (3 * t).cos()]

    target = Target("nanwidth", ((0.0, 1.0),), f, g)
    layers = _const_grades([2.5e-4, -2.5e-4, 0.3])
    ps = (1, 2)
    c3 = _assert_c3_sound(_check(layers, target, ps=ps, lp_rtol=1e-5, sup_boxes=5000, c1_boxes=200), layers, base, ps)
    assert c3.outcome != PASS


@pytest.mark.parametrize("seed", [1, 11])
def test_random_deep_networks_c3_agrees_with_brute_force(seed):
    """Random 2-4 grade ReLU networks on sin100 at lp_rtol = 1e-5: every enclosure holds the brute-force
    norm and every pass / fail agrees with it (a fuzz run of 16 seeds over five targets found nothing)."""
    rng = np.random.default_rng(seed)
    target = get_target("sin100")
    G, W = int(rng.integers(2, 7)), int(rng.integers(2, 6))
    layers = _random_layers(rng, G, W, scale=float(rng.choice([0.05, 0.5, 2])))
    ps = (1, 2.5)
    _assert_c3_sound(_check(layers, target, ps=ps, lp_rtol=1e-5), layers, target, ps)


# =========================================================================== 3. defects found
def _liar():
    """f = x, but its ball form adds 5 on boxes of radius <= 1e-3: coarse and fine enclosures of
    the same integral are disjoint (a wrong ball form, which the docs say fails closed)."""

    def f(x, m):
        t = x[0]
        if isinstance(t, np.ndarray):
            return t
        return t + (0 if t.rad() > 1e-3 else 5)

    return Target("liar", ((0.0, 1.0),), f, lambda x, m: [1 + 0 * x[0]], continuous=False)


def test_contradictory_ball_form_fails_closed_instead_of_crashing():
    """Grades 0 and 1 differ by 1e-9 (they overlap and keep refining); grade 2 (e_2 = x / 2) is separated
    at 3e-2 and its search dropped.  At rtol 1e-3 the liar's fine boxes contradict the coarse ones:
    grade 1's enclosure becomes (-inf, inf), overlaps grade 2 again, and grade 2's search is None."""
    layers = [
        Layer(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 1e-9])),  # z_1 = [x, 1], g_1 = 1e-9
        Layer(np.array([[1.0], [0.0], [0.0]]), np.array([0.5])),  # g_2 = x / 2
    ]
    report = _check(layers, _liar())
    assert report.claim("C3").outcome in (INCONCLUSIVE, FAIL)


def test_negative_lp_rtol_is_refused_or_terminates():
    code = (
        "from proofs_check import CheckSettings\n"
        "from proofs_check.drivers import lp_levels\n"
        "try:\n    CheckSettings(lp_rtol=-1e-3)\nexcept ValueError:\n    raise SystemExit(0)\n"
        "lp_levels(-1e-3)\n"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], timeout=5, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail("lp_levels(-1e-3) did not return within 5 s")
    assert done.returncode == 0, done.stderr


def test_zero_or_tiny_lp_rtol_has_a_bounded_number_of_levels():
    assert len(lp_levels(0.0)) <= 60 and len(lp_levels(1e-300)) <= 60


def test_lp_levels_are_decreasing_and_end_at_lp_rtol():
    for rtol in (1e-3, 1e-7, 3e-2, 0.5, 2.9e-2, 1e-2):
        levels = lp_levels(rtol)
        assert levels[-1] == rtol and all(a > b for a, b in zip(levels, levels[1:]))
        assert levels[0] == max(rtol, 3e-2)


# =========================================================================== 5. spikes, kinks, records
# (written by the maintainers after the red team, against the same change)
_W = 2.0**-20  # the hat's half-width: about 1e-6, far below any grid or sample spacing
_A = 5147 / 16384  # its left kink, a dyadic point: the L^p boxes split exactly there


def _spike_scheme(height: float, a: float = _A):
    """Grade 1 lowers f = 2 + sin 3x by 0.5; grade 2 subtracts a hat of the given height on
    [a, a + 2 W]: e_2 = e_1 + hat, so ||e_2||_p > ||e_1||_p for every p (e_1 > 0), by about
    height W in L^1, a relative rise of about 2e-6."""
    grade1 = Layer(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 0.5]))  # z_1 = [x, 1], g_1 = 0.5
    cuts = np.array([a, a + _W, a + 2 * _W])
    hidden = np.vstack([np.ones(3), -cuts, np.zeros(3)])  # relu(x - cut), the constant feature as bias
    s = height / _W
    grade2 = Layer(hidden, np.array([-s, 2 * s, -s]))  # g_2 = -hat
    return [grade1, grade2]


def test_a_spike_between_all_grid_points_never_passes_and_fails_when_resolved():
    """The rise is 2e-6 relative, narrower than any sample or grid spacing: at the default lp_rtol
    C3 must not pass (the enclosures overlap); refined far enough, grade 2 fails rigorously."""
    layers, target = _spike_scheme(4.0), _smooth()
    coarse = _check(layers, target, ps=(1, 2)).claim("C3")
    assert coarse.outcome != PASS and coarse.per_grade[2]["p1_verdict"] != PASS
    fine = _check(layers, target, ps=(1, 2), lp_rtol=1e-8).claim("C3")
    assert fine.outcome == FAIL
    assert fine.per_grade[1]["p1_verdict"] == PASS  # the 0.5 offset is a real decrease
    assert all(fine.per_grade[2][f"p{p}_verdict"] == FAIL for p in (1, 2)), fine.per_grade[2]


def test_a_spike_with_non_dyadic_kinks_is_caught_too():
    """The same hat with its kinks at floats that no bisection of [0, 1] reaches (0.3 + ...)."""
    layers, target = _spike_scheme(4.0, a=0.3 + 1e-9), _smooth()
    fine = _check(layers, target, ps=(1,), lp_rtol=1e-8).claim("C3")
    assert fine.outcome == FAIL and fine.per_grade[2]["p1_verdict"] == FAIL, fine.per_grade[2]


def test_records_that_call_the_spike_grade_trivial_are_not_believed():
    """Tampered records: grade 2 recorded as trivial, width 0, zero loss.  C3 reads triviality
    from the weights, so the grade stays non-trivial and still fails once resolved."""
    layers, target = _spike_scheme(4.0), _smooth()
    records = [grade_record(1), grade_record(2, width=0, status="trivial", loss_after=0.0, relative_gap=0.0)]
    scheme = Scheme(tuple(layers), UNIT, records=records)
    c3 = check_scheme(scheme, target, CheckSettings(**{**FAST, "ps": (1,), "lp_rtol": 1e-8})).claim("C3")
    assert c3.per_grade[2]["nontrivial"] is True
    assert c3.outcome == FAIL and c3.per_grade[2]["p1_verdict"] == FAIL


@pytest.mark.parametrize("name", ["sup_rtol", "lp_rtol", "sup_rtol_2d", "sup_rtol_3d", "optimality_rtol"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -1e-3, True, "1e-3"])
def test_settings_refuse_a_nan_infinite_negative_or_non_number_tolerance(name, value):
    with pytest.raises(ValueError, match=name):
        CheckSettings(**{name: value})


def test_a_hat_with_its_kinks_at_training_samples_is_invisible_there_and_caught_between():
    """Grade 2 subtracts a hat of height 0.01 on [x_20, x_21] of a 65-point grid: its outer kinks
    are samples, its peak half way between them.  At every sample e_2 = e_1, so the training-point
    check passes; C1 must fail with a counterexample between the two samples, and C3 must not
    pass at the default lp_rtol (a rise of about 4e-5), and fail once resolved."""
    x = np.linspace(0.0, 1.0, 65)
    f = 2 + np.sin(3 * x)
    a, h = 20 / 64, 1 / 128  # kinks at a = x_20, a + h (half way to x_21) and a + 2 h = x_21
    grade1 = Layer(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 0.5]))
    cuts = np.array([a, a + h, a + 2 * h])
    s = 0.01 / h
    grade2 = Layer(np.vstack([np.ones(3), -cuts, np.zeros(3)]), np.array([-s, 2 * s, -s]))
    scheme = Scheme((grade1, grade2), UNIT, samples=((x[:, None], f), (x[:, None], f - 0.5)))
    for lp_rtol, c3 in ((1e-3, INCONCLUSIVE), (1e-7, FAIL)):
        report = check_scheme(scheme, _smooth(), CheckSettings(**{**FAST, "ps": (1, 2), "lp_rtol": lp_rtol}))
        assert report.claim("C1_train").outcome == PASS
        c1 = report.claim("C1")
        assert c1.outcome == FAIL and c1.trust == "rigorous"
        assert x[20] < c1.per_grade[1]["worst_point"][0] < x[21]
        assert report.claim("C3").outcome == c3 and report.claim("C3").per_grade[2]["p1_verdict"] == c3
