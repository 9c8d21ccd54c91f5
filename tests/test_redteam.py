"""Adversarial checks of proofs_check through its public API: each test asserts a mathematical fact.

The ``xfail(strict=True)`` tests are findings: the checker currently reports something false (a
rigorous pass that does not hold, an enclosure that misses the true value, a rigorous fail of a
grade that is optimal).  Each passes once the checker is right, and the strict mark then turns it
red so that the mark is removed.  The other tests are attacks the checker withstood, kept because
they cover inputs the fuzzer does not (sub-ulp spikes, domains far from 0, degenerate eps).
"""

import dataclasses
import math
from fractions import Fraction

import flint
import numpy as np
import pytest

from mgdl_convex import MultigradeRegressor, get_target
from mgdl_convex.targets import Target
from proofs_check import FAIL, PASS, CheckSettings, Layer, Scheme, check_scheme, scheme_from_model

FAST = dict(sollya="off", sup_boxes_2d=4000, c1_boxes_2d=4000, lp_boxes_2d=4000)
UNIT = [[0.0, 1.0]]
SQUARE = [[0.0, 1.0], [0.0, 1.0]]


def _check(layers, domain, target, samples=None, **settings):
    scheme = Scheme(tuple(layers), domain, samples=samples)
    return check_scheme(scheme, target, CheckSettings(**{**FAST, **settings}))


def _exact_G(layers, x) -> list:
    """[G_0, ..., G_K] at the float point x, in exact rationals."""
    z = [Fraction(v) for v in np.atleast_1d(x)]
    G = [Fraction(0)]
    for layer in layers:
        H = [[Fraction(v) for v in row] for row in layer.hidden]
        z = [max(sum(z[i] * H[i][j] for i in range(len(z))) + H[-1][j], 0) for j in range(len(layer.readout))]
        G.append(G[-1] + sum(zj * Fraction(a) for zj, a in zip(z, layer.readout)))
    return G


def _constant_grade(value: float, d: int) -> Layer:
    """g(x) = value on the whole domain: one neuron relu(1) read out with ``value``."""
    return Layer(np.vstack([np.zeros((d, 1)), [[1.0]]]), np.array([value]))


# --------------------------------------------------------------------------- findings (xfail)
def _jump(d: int, continuous):
    """1[x_0 >= 1/2] with a true ball form and its derivative where it exists (0): the mean-value form is invalid."""
    return Target(
        f"jump{d}",
        tuple((0.0, 1.0) for _ in range(d)),
        lambda x, m: m.step(x[0] - 0.5),
        lambda x, m: [0 * x[i] for i in range(d)],
        continuous=continuous,
    )


def test_constant_grade_on_a_declared_jump_is_not_a_rigorous_pass_1d():
    """f = 1[x >= 1/2], g_1 = 3/2: |e_1(1/4)| = 3/2 > 0 = |e_0(1/4)| and ||e_1||_1 = 1 > 1/2 = ||e_0||_1.

    The docs say C1 and C3 do not depend on continuity and that the gradient ball must hold the
    gradient's values (here 0 wherever it exists).  The checker encloses e on [0, 1] by
    e(1/2) + e'(I)(I - 1/2) = -1/2 exactly: C1 and C3 "pass (rigorous)", sup |e_1| "in [0.5, 0.5]".
    """
    report = _check([_constant_grade(1.5, 1)], UNIT, _jump(1, False))
    g = _exact_G([_constant_grade(1.5, 1)], 0.25)
    assert abs(0 - g[1]) > abs(0 - g[0])  # the violation, exactly
    assert report.claim("C1").outcome != PASS
    assert report.claim("C3").outcome != PASS
    sup1 = report.claim("C2").per_grade[1]
    assert sup1["upper"] is None or sup1["upper"] >= 1.5


def test_constant_grade_on_a_jump_is_not_a_rigorous_pass_2d():
    """The same in 2-D, continuity unknown (None): C1 and C3 "pass (rigorous)" although both are false."""
    report = _check([_constant_grade(1.5, 2)], SQUARE, _jump(2, None))
    assert report.claim("C1").outcome != PASS
    assert report.claim("C3").outcome != PASS


def test_an_underflowing_grade_is_not_proved_monotone_2d():
    """f = x - 1/2, g_1 = 1e-200 * relu(1e-200) > 0 exactly (about 1e-400, 0 in float64).

    On the line x = 1/2, |e_1| = g_1 > 0 = |e_0|: C1 is false.  The float64 forms and the neuron
    intervals both evaluate g_1 to exactly 0 with a zero rounding radius (the gamma_m bound is
    relative; underflow is an absolute error), so every box is "g identically zero" and C1 passes.
    """
    target = Target("lin2", tuple(map(tuple, SQUARE)), lambda x, m: x[0] - 0.5, lambda x, m: [1 + 0 * x[0], 0 * x[1]])
    layer = Layer(np.array([[0.0], [0.0], [1e-200]]), np.array([1e-200]))
    G = _exact_G([layer], [0.5, 0.25])
    assert G[1] > 0  # e_1(1/2, y) = -G_1 != 0 = e_0(1/2, y)
    report = _check([layer], SQUARE, target)
    assert report.claim("C1").outcome != PASS


def test_training_point_excess_of_a_small_target_is_not_hidden_by_the_tolerance():
    """f = 1e-9 sin(6x), g_1 = -1e-9: |e_1| = |e_0| + 1e-9 wherever f >= 0, e.g. at the sample x = 1/2.

    The README says "within 1e-7 of max |e_(k-1)|" (relative); the code uses 1e-7 * max(1, .), so a
    grade that doubles the residual at every sample gets "C1 on training points: pass (rigorous),
    holds at every training point", in the same report where C1 names x = 0.5 with excess >= 1e-9.
    """
    target = Target("tiny", ((0.0, 1.0),), lambda x, m: 1e-9 * m.sin(6 * x[0]), lambda x, m: [6e-9 * m.cos(6 * x[0])])
    X = np.linspace(0.0, 1.0, 17)[:, None]
    y = target(X)
    layer = _constant_grade(-1e-9, 1)
    excess = np.abs(y + 1e-9) - np.abs(y)
    assert excess.max() >= 0.99e-9 >= 0.5 * np.abs(y).max()  # half the residual's size, at least
    report = _check([layer], UNIT, target, samples=((X, y),))
    assert report.claim("C1_train").outcome != PASS


@pytest.fixture(scope="module")
def fangxu1_grade():
    """One grade of width 64 on 32 grid samples of fangxu1: certified optimal (C4 pass, rigorous)."""
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=1, width=64, random_state=0, beta_ratio=1e-2)
    m.fit_target(target, samples=32)
    report = check_scheme(scheme_from_model(m, target), target, CheckSettings(sollya="off"))
    assert report.claim("C4").outcome == PASS and report.claim("C4").trust == "rigorous"
    return m


def test_a_grade_problem_with_negative_beta_is_never_certified_optimal(fangxu1_grade):
    """With beta < 0 the grade problem has no optimum: two neurons (t u, t) and (t u, -t) leave the
    prediction unchanged and change the objective by beta t^2 (||u||^2 + 1) -> -inf.

    A record with beta = -1 (a tampered model file, or a GradeRecord built by hand) gets C4 "pass
    (rigorous): certified relative gap <= 1e-06": primal -24.8, dual -2.3e5, and the gap 2.3e5 divided
    by the negative primal is -9248 <= 1e-6.  A true answer refuses the record or does not pass.
    """
    target = get_target("fangxu1")
    scheme = scheme_from_model(fangxu1_grade, target)
    bad = dataclasses.replace(scheme.records[0], beta=-1.0)
    try:
        tampered = Scheme(scheme.layers, scheme.domain, (bad,), scheme.samples)
        report = check_scheme(tampered, target, CheckSettings(**FAST))
    except ValueError:
        return
    assert report.claim("C4").outcome != PASS


def test_a_certified_optimal_grade_is_not_refuted_against_another_target(fangxu1_grade):
    """The grade is the certified optimum of its problem (fangxu1 on its 32 samples).

    Checked against sin100 (same domain), the samples are regenerated with sin100's values, so
    C4 certifies against a problem the grade never had: "fail (rigorous): not the optimum of their
    grade problem".  A true verdict is an error (the model records its target) or no C4 verdict.
    """
    other = get_target("sin100")
    try:
        report = check_scheme(scheme_from_model(fangxu1_grade, other), other, CheckSettings(sollya="off"))
    except ValueError:
        return
    assert report.claim("C4").outcome != FAIL


def test_check_of_a_run_whose_summary_names_another_target_does_not_refute_the_grade(tmp_path, capsys):
    import json

    from mgdl_convex.cli import main

    out = tmp_path / "run"
    args = ["-q", "fit", "--target", "fangxu1", "--grades", "1", "--width", "64", "--samples", "32",
            "--beta-ratio", "1e-2", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    fitted, fangxu1 = MultigradeRegressor.load(out / "model.npz"), get_target("fangxu1")
    c4 = check_scheme(scheme_from_model(fitted, fangxu1), fangxu1, CheckSettings(sollya="off")).claim("C4")
    assert c4.outcome == PASS and c4.trust == "rigorous"  # certified optimal for the target it was fit on
    summary = json.loads((out / "summary.json").read_text())
    summary["options"]["target"] = "sin100"
    (out / "summary.json").write_text(json.dumps(summary))
    capsys.readouterr()
    status = main(["-q", "check", str(out)])
    if status == 1:  # refused, naming the mismatch: a true answer
        return
    c4 = json.loads((out / "report.json").read_text())["claims"][4]
    assert c4["outcome"] != FAIL


def test_lp_enclosures_for_p_below_one_contain_the_true_value():
    """f = 1/2 with a true but loose ball form ([1/2, 3/2] at every point): ||f||_{1/2} = 1/2 on [0, 1].

    The remainder ``p (M + rho)^(p-1) rho`` bounds ``| |L + R|^p - |L|^p |`` only for p >= 1; with
    p = 1/2 the enclosure is [0.633, 1.45].  Either p < 1 is refused (C3 is about p in [1, inf)) or
    the enclosure holds; p <= 0 must be refused (it is reported as "a ball form is wrong").
    """

    def loose(x, m):
        return flint.arb(1, 0.5) if isinstance(x[0], flint.arb) else 0.5 + 0 * x[0]

    half = Target("half", ((0.0, 1.0),), loose, lambda x, m: [0 * x[0]])
    zero = Layer(np.array([[0.0], [0.0]]), np.array([0.0]))
    try:
        report = _check([zero], UNIT, half, ps=(0.5,), sup_boxes=2000)
        lo, hi = report.claim("C3").per_grade[0]["p0.5"]
        assert lo <= 0.5 <= hi
    except ValueError:
        pass
    for p in (0, -1):
        with pytest.raises(ValueError):
            _check([zero], UNIT, half, ps=(p,), sup_boxes=2000)


def test_c2_text_for_a_target_of_unknown_continuity_names_what_it_is():
    target = Target("smooth", ((0.0, 1.0),), lambda x, m: m.sin(x[0]), lambda x, m: [m.cos(x[0])], continuous=None)
    c2 = _check([_constant_grade(0.4, 1)], UNIT, target).claim("C2")
    assert c2.outcome != PASS
    assert "plain function" not in c2.summary


def test_a_scheme_without_grades_says_so_in_every_claim_that_needs_grades():
    """A run that stops before grade 1 (a zero residual) is checked with records () and samples ().

    C1_train says "some training-point excesses are within rounding of the tolerance" (there are no
    training points) and C4 is "inconclusive, solver-trusted" with an empty summary.
    """
    report = check_scheme(Scheme((), UNIT, records=(), samples=()), get_target("fangxu1"), CheckSettings(**FAST))
    for claim_id in ("C1", "C1_train", "C3", "C4"):
        claim = report.claim(claim_id)
        assert claim.outcome == "not run" and "no grades" in claim.summary, (claim_id, claim.outcome, claim.summary)


# --------------------------------------------------------------------------- attacks withstood
def test_a_violation_strictly_between_two_floats_is_never_a_pass_nor_a_false_point():
    """A spike of height 85 supported strictly inside (1/2, 1/2 + ulp): its knots are rationals 3/7..4/5 ulp in.

    f = x - 1/2 vanishes at 1/2, so C1 fails only inside that gap.  No float lies there: the
    checker may fail C1 (then its point must re-verify exactly) or stay inconclusive, never pass.
    """
    A = 2.0**60
    hidden = np.array([[3.0, 5.0, 7.0], [-(1.5 + 2**-52), -(2.5 + 2**-51), -(3.5 + 2**-51)]])
    layer = Layer(hidden, np.array([-4 * A, A, A]))
    target = Target("lin", ((0.0, 1.0),), lambda x, m: x[0] - 0.5, lambda x, m: [1 + 0 * x[0]])
    inside = Fraction(1, 2) + Fraction(2, 3) * Fraction(2.0**-53)
    z = [max(Fraction(s) * inside + Fraction(b), 0) for s, b in zip(layer.hidden[0], layer.hidden[1])]
    assert sum(zj * Fraction(a) for zj, a in zip(z, layer.readout)) > 80  # the spike, exactly
    for x in (0.5, math.nextafter(0.5, 1.0)):
        assert _exact_G([layer], x)[1] == 0  # zero at both neighbouring floats
    c1 = _check([layer], UNIT, target).claim("C1")
    assert c1.outcome != PASS
    if c1.outcome == FAIL:
        x = c1.worst_point[0]
        e0 = Fraction(x) - Fraction(1, 2)
        assert abs(e0 - _exact_G([layer], x)[1]) > abs(e0)


FAR = 1e8


def _far(x, m):
    return m.sin(3 * (x[0] - FAR)) * m.cos(2 * (x[1] - FAR))


def _far_grad(x, m):
    u, v = 3 * (x[0] - FAR), 2 * (x[1] - FAR)
    return [3 * m.cos(u) * m.cos(v), -2 * m.sin(u) * m.sin(v)]


def _far_exact(x) -> float:
    """f at a float point (the shift is exact in rationals; sin and cos to about 1e-16)."""
    return math.sin(3 * float(Fraction(x[0]) - FAR)) * math.cos(2 * float(Fraction(x[1]) - FAR))


def test_a_domain_far_from_zero_keeps_every_enclosure_true_2d():
    """[1e8, 1e8 + 1]^2, steep neurons with knots inside: sups hold exact values, counterexamples re-verify."""
    rng = np.random.default_rng(3)
    domain = [[FAR, FAR + 1], [FAR, FAR + 1]]
    target = Target("far", tuple(map(tuple, domain)), _far, _far_grad)
    W = 4
    w = rng.standard_normal((2, W)) * 10 ** rng.uniform(0, 3, W)
    b = -np.einsum("ij,ji->i", FAR + rng.random((W, 2)), w)
    layers = [
        Layer(np.vstack([w, b]), rng.standard_normal(W) * 1e-2),
        Layer(rng.standard_normal((W + 1, 3)), rng.standard_normal(3) * 1e-2),
    ]
    report = _check(layers, domain, target, sup_boxes_2d=600, c1_boxes_2d=600, lp_boxes_2d=600)
    rows = report.claim("C2").per_grade
    for x in FAR + rng.random((40, 2)):
        G, f = _exact_G(layers, x), _far_exact(x)
        for k in (1, 2):
            assert abs(f - float(G[k])) <= rows[k]["upper"] * (1 + 1e-12)
    c1 = report.claim("C1")
    if c1.outcome == FAIL:
        x = c1.worst_point
        G, f = _exact_G(layers, x), _far_exact(x)
        k = max(c1.per_grade, key=lambda r: r["worst_excess"] or -1)["grade"]
        assert abs(f - float(G[k])) - abs(f - float(G[k - 1])) > 0


@pytest.mark.parametrize("eps", [0.0, -1.0, float("nan")])
def test_c2_never_passes_with_a_degenerate_eps(eps):
    target = get_target("fangxu1")
    exact = Layer(np.array([[0.0], [0.0]]), np.array([0.0]))
    assert _check([exact], UNIT, target, eps=eps).claim("C2").outcome != PASS
