"""Attempts to fool the checker into a false pass: NaN balls, tampered records, user targets, C4 gaps.

Each test reproduces a way an earlier version reported a pass (or a rigorous fail) that the
mathematics did not support.  They read claims by name prefix and build schemes positionally, so
they run unchanged against that version (where each of them fails).
"""

import dataclasses
import json
import math

import numpy as np
import pytest
from records import grade_record

from mgdl_convex import MultigradeRegressor, get_target
from mgdl_convex.network import GradeLayer
from mgdl_convex.targets import Target
from proofs_check import FAIL, INCONCLUSIVE, PASS, CheckSettings, Scheme, check_scheme, scheme_from_model

PREFIX = {"C1": "C1 pointwise", "C1_train": "C1 on training", "C2": "C2", "C3": "C3", "C4": "C4"}
FAST_2D = CheckSettings(sup_boxes_2d=3000, c1_boxes_2d=3000, lp_boxes_2d=4096, sollya="off")


def _claim(report, cid):
    return next(c for c in report.claims if c.name.startswith(PREFIX[cid]))


def _interpolant(target, knots):
    """One grade: the piecewise-linear interpolant of a 1-D target at the knots (a constant neuron first)."""
    f = target(knots[:, None])
    slopes = np.diff(f) / np.diff(knots)
    hidden = np.vstack([np.r_[0.0, np.ones(len(knots) - 1)], np.r_[1.0, -knots[:-1]]])
    readout = np.r_[f[0], np.diff(np.r_[0.0, slopes])]
    return GradeLayer(hidden=hidden, readout=readout)


def _forward(layers, X):
    Z, total = np.asarray(X, float), np.zeros(len(X))
    for layer in layers:
        Z = np.maximum(np.column_stack([Z, np.ones(len(Z))]) @ layer.hidden, 0.0)
        total = total + Z @ layer.readout
    return total


# --------------------------------------------------------------------------- NaN balls
def test_sqrt_kink_ball_form_is_finite_and_true_on_boxes_around_the_cusp():
    from flint import arb

    t = get_target("sqrt_kink")
    for lo, hi in [(0.29, 0.31), (0.3, 0.5), (0.1, 0.3), (0.0, 1.0)]:
        ball = t.arb(arb((lo + hi) / 2, (hi - lo) / 2))
        xs = np.linspace(lo, hi, 2001)[:, None]
        assert ball.is_finite()
        assert float(ball.lower()) <= t(xs).min() and t(xs).max() <= float(ball.upper())


def test_a_kink_between_knots_is_not_hidden_by_nan_balls():
    """Interpolant of sqrt|x - 0.3| with no knot in (0.29, 0.40): |e_1(0.3)| = 0.1197, far above eps."""
    t = get_target("sqrt_kink")
    layer = _interpolant(t, np.r_[np.linspace(0, 0.29, 60), np.linspace(0.40, 1.0, 120)])
    scheme = Scheme([layer], np.array([[0.0, 1.0]]), [grade_record(1)])
    report = check_scheme(scheme, t, CheckSettings(sollya="off"))
    at_cusp = abs(t(np.array([[0.3]]))[0] - _forward([layer], np.array([[0.3]]))[0])
    assert at_cusp > 0.11
    c2 = _claim(report, "C2")
    row = c2.per_grade[1]
    assert row["upper"] is None or row["upper"] >= at_cusp  # the certified sup contains the value at the cusp
    assert row["lower"] <= at_cusp * (1 + 1e-9) or row["upper"] is None
    assert c2.outcome != PASS
    for p in (1, 2, 4):  # every L^p enclosure finite (it was [0, NaN])
        lo, hi = _claim(report, "C3").per_grade[1][f"p{p}"]
        assert hi is not None and math.isfinite(hi) and 0 < lo <= hi


@pytest.mark.slow
def test_the_sqrt_kink_verify_run_encloses_the_cusp():
    """The fit of ``verify --target sqrt_kink --grades 3 --width 16 --samples 256 512 1024``."""
    t = get_target("sqrt_kink")
    m = MultigradeRegressor(n_grades=3, width=16, carry_input=True, random_state=0)
    m.fit_target(t, samples=[256, 512, 1024])
    report = check_scheme(scheme_from_model(m, t), t, CheckSettings(sollya="off"))
    x = np.array([[0.3]])
    for row, layers in zip(_claim(report, "C2").per_grade[1:], ([m.layers_[0]], m.layers_[:2], m.layers_)):
        at_cusp = abs(t(x)[0] - _forward(layers, x)[0])
        assert row["upper"] is None or row["upper"] >= at_cusp * (1 - 1e-12)


def _peak(centre, use_pow):
    """1 - |x - centre| in 2-D; with use_pow=False the formula squares with **, which is NaN on balls around 0."""

    def sq(v, m):
        return m.pow(v, 2) if use_pow else v**2

    def f(x, m):
        return 1 - m.sqrt(sq(x[0] - centre[0], m) + sq(x[1] - centre[1], m))

    def g(x, m):
        r = m.sqrt(sq(x[0] - centre[0], m) + sq(x[1] - centre[1], m))
        return [-(x[0] - centre[0]) / r, -(x[1] - centre[1]) / r]

    return Target("peak", ((0.0, 1.0), (0.0, 1.0)), f, g)


@pytest.mark.parametrize("use_pow", [False, True])
def test_2d_nan_balls_at_the_maximum_never_give_a_contradictory_sup(use_pow):
    """The maximum 1 sits at (0.3, 0.7), which no box edge hits: with ** its balls are NaN there."""
    target = _peak((0.3, 0.7), use_pow)
    report = check_scheme(Scheme([], np.array([[0.0, 1.0], [0.0, 1.0]]), []), target, FAST_2D)
    row = _claim(report, "C2").per_grade[0]
    assert row["lower"] <= 1.0
    if use_pow:  # the fail-closed power: a true, tight enclosure
        assert row["upper"] is not None and 1.0 <= row["upper"] < 1.0 + 1e-3
    else:  # NaN balls: unbounded, with the reason (it was lower 1 > upper 0.97)
        assert row["upper"] is None or row["upper"] >= 1.0


def test_report_json_is_strict_even_with_unbounded_enclosures(tmp_path):
    target = _peak((0.3, 0.7), use_pow=False)
    report = check_scheme(Scheme([], np.array([[0.0, 1.0], [0.0, 1.0]]), []), target, FAST_2D)
    report.write(tmp_path)

    def reject(name):
        raise ValueError(f"non-standard JSON constant {name}")

    data = json.loads((tmp_path / "report.json").read_text(), parse_constant=reject)
    assert data["claims"]


# --------------------------------------------------------------------------- tampered records
@pytest.fixture(scope="module")
def fitted():
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=2, width=12, carry_input=True, random_state=0).fit_target(target, samples=128)
    return m, target


def _copy(model):
    out = MultigradeRegressor(**model.get_params())
    for k, v in vars(model).items():
        if k.endswith("_"):
            setattr(out, k, list(v) if isinstance(v, list) else v)
    return out


def test_a_model_whose_domain_is_not_the_targets_is_an_error(fitted):
    m, target = fitted
    shrunk = _copy(m)
    shrunk.domain_ = np.array([[0.25275, 0.25475]])
    with pytest.raises(ValueError, match=r"domain.*fangxu1"):
        check_scheme(scheme_from_model(shrunk, target), target)
    with pytest.raises(ValueError, match=r"\[\[0.25275, 0.25475\]\].*fangxu1"):
        check_scheme(Scheme(list(m.layers_), np.array([[0.25275, 0.25475]]), m.summary()), target)


def test_check_of_a_run_whose_model_domain_was_edited_is_an_error(tmp_path, capsys):
    from mgdl_convex.cli import main

    out = tmp_path / "run"
    args = ["-q", "fit", "--target", "fangxu1", "--grades", "1", "--width", "6", "--samples", "40", "--out", str(out)]
    assert main(args) == 0
    model = MultigradeRegressor.load(out / "model.npz")
    model.domain_ = np.array([[0.25275, 0.25475]])
    model.save(out / "model.npz")
    capsys.readouterr()
    assert main(["check", str(out)]) == 1
    err = capsys.readouterr().err
    assert "0.25275" in err and "fangxu1" in err


def test_check_of_a_run_whose_summary_or_record_was_edited_says_what_is_wrong(tmp_path, capsys):
    """Another target in summary.json: an error naming both; a negative beta in model.npz: C4 not run."""
    from mgdl_convex.cli import main

    out = tmp_path / "run"
    args = ["-q", "fit", "--target", "fangxu1", "--grades", "1", "--width", "6", "--samples", "40", "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    summary["options"]["target"] = "sin100"
    (out / "summary.json").write_text(json.dumps(summary))
    capsys.readouterr()
    assert main(["check", str(out)]) == 1
    err = capsys.readouterr().err
    assert "sin100" in err and "fangxu1" in err
    summary["options"]["target"] = "fangxu1"
    (out / "summary.json").write_text(json.dumps(summary))
    model = MultigradeRegressor.load(out / "model.npz")
    model.grades_ = [dataclasses.replace(model.grades_[0], beta=-1.0)]
    model.save(out / "model.npz")
    main(["-q", "check", str(out)])
    c4 = json.loads((out / "report.json").read_text())["claims"][4]
    assert c4["outcome"] == "not run" and "beta must be" in c4["summary"]


def test_a_grade_recorded_as_trivial_is_checked_for_strict_decay(fitted):
    """kappa_before = 0 in the record, read-out times 10: ||e_2||_1 rises, so C3 must fail."""
    m, target = fitted
    bad = _copy(m)
    bad.grades_[1] = dataclasses.replace(bad.grades_[1], kappa_before=0.0, trivial=True)
    bad.layers_[1] = GradeLayer(hidden=m.layers_[1].hidden, readout=m.layers_[1].readout * 10)
    x = (np.arange(200_000) + 0.5)[:, None] / 200_000
    f = target(x)
    l1 = [np.mean(np.abs(f - _forward(bad.layers_[:k], x))) for k in (1, 2)]
    assert l1[1] > 1.2 * l1[0]  # the tampered grade really makes the L^1 error worse
    c3 = _claim(check_scheme(scheme_from_model(bad, target), target, CheckSettings(sollya="off")), "C3")
    assert c3.outcome == FAIL and c3.per_grade[2]["nontrivial"]


def test_training_point_excess_is_recomputed_not_read(fitted):
    """monotone_violation = 0 in the records; the regenerated samples say otherwise."""
    m, target = fitted
    bad = _copy(m)
    bad.grades_ = [dataclasses.replace(g, monotone_violation=0.0) for g in m.grades_]
    X = m.training_samples(target)[0]
    y = target(X)
    excess = np.abs(y - _forward(m.layers_[:1], X)) - np.abs(y)
    assert excess.max() > 1e-3  # grade 1 raises |e| at some training point
    c1_train = _claim(check_scheme(scheme_from_model(bad, target), target, CheckSettings(sollya="off")), "C1_train")
    assert c1_train.outcome == FAIL


# --------------------------------------------------------------------------- user targets
def test_a_plain_user_function_never_passes_c2(tmp_path, monkeypatch):
    """A jump at 0.5 as a plain function; the approximant's ramp falls between every grid point."""
    (tmp_path / "jumps.py").write_text("import numpy as np\ndef jump(X):\n    return (X[:, 0] >= 0.5) * 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    target = get_target("jumps:jump", [[0.0, 1.0]])
    a, b = 0.4999995, 0.5000005  # inside one gap of both check grids (linspace 50000 and 200000)
    layer = GradeLayer(hidden=np.array([[1.0, 1.0], [-a, -b]]), readout=np.array([1 / (b - a), -1 / (b - a)]))
    report = check_scheme(Scheme([layer], np.array([[0.0, 1.0]]), [grade_record(1)]), target)
    c2 = _claim(report, "C2")
    assert c2.outcome != PASS
    assert "sup |e_K| <=" not in c2.summary


def test_a_declared_discontinuous_user_target_fails_c2(tmp_path, monkeypatch):
    (tmp_path / "stepdecl.py").write_text(
        "from mgdl_convex.targets import Target\n"
        "jump = Target('jump', ((0.0, 1.0),), lambda x, m: m.step(x[0] - 0.5), continuous=False)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    target = get_target("stepdecl:jump")
    assert target.continuous is False and target.domain == ((0.0, 1.0),)
    zero = GradeLayer(hidden=np.array([[1.0], [0.0]]), readout=np.array([0.0]))
    c2 = _claim(check_scheme(Scheme([zero], np.array([[0.0, 1.0]]), [grade_record(1)]), target), "C2")
    assert c2.outcome == FAIL and "discontinuous" in c2.summary


# --------------------------------------------------------------------------- C4 semantics
def test_a_gap_above_the_tolerance_without_refutation_is_not_a_fail():
    """A grade a little off its optimum (read-out scaled by 1 + 1e-4): its certificate leaves a gap
    above the tolerance, and no improving neuron is certified: inconclusive, not fail."""
    target = get_target("sqrt_kink")
    m = MultigradeRegressor(n_grades=1, width=64, carry_input=True, beta_ratio=0.01, random_state=0)
    m.fit_target(target, samples=60)
    m.layers_[0] = GradeLayer(hidden=m.layers_[0].hidden, readout=m.layers_[0].readout * (1 + 1e-4))
    c4 = _claim(check_scheme(scheme_from_model(m, target), target, CheckSettings(sollya="off")), "C4")
    evidence = c4.details["independent"][0]
    assert evidence["relative_gap_upper"] > 1e-6, "precondition: this seeded fit leaves a gap above the tolerance"
    refuted = evidence.get("refutation", {}).get("refuted", False)
    assert not refuted
    assert c4.outcome == INCONCLUSIVE


# --------------------------------------------------------------------------- changed claims, attacked
def test_coarse_lp_enclosures_never_pass_a_grade_that_raises_the_norm_a_little():
    """g_1 = -1e-3: ||f + 1e-3||_2 exceeds ||f||_2 by about 1e-4 relative (int f > 0 for fangxu1), far
    inside the coarse 1e-2 enclosures; C3 must refine or stay inconclusive, never pass."""
    target = get_target("fangxu1")
    shift = GradeLayer(hidden=np.array([[0.0], [1.0]]), readout=np.array([-1e-3]))  # relu(1) * -1e-3
    scheme = Scheme([shift], np.array([[0.0, 1.0]]), [grade_record(1)])
    report = check_scheme(scheme, target, CheckSettings(sollya="off"))
    x = (np.arange(400_000) + 0.5)[:, None] / 400_000
    f = target(x)
    assert np.sqrt(np.mean((f + 1e-3) ** 2)) > np.sqrt(np.mean(f**2))  # the norm really rises
    c3 = _claim(report, "C3")
    assert c3.outcome != PASS
    for row, e in zip(c3.per_grade, (f, f + 1e-3)):  # every enclosure still contains the brute-force norm
        for p in (1, 2, 4):
            lo, hi = row[f"p{p}"]
            assert lo - 1e-6 <= np.mean(np.abs(e) ** p) ** (1 / p) <= hi + 1e-6


@pytest.mark.parametrize("eps_rel", [0.0, -0.01, math.nan, math.inf, "1%"])
def test_a_relative_eps_that_is_not_a_positive_number_is_refused(eps_rel):
    with pytest.raises(ValueError, match="eps_rel"):
        CheckSettings(eps_rel=eps_rel)


def test_the_certified_sup_of_a_3d_residual_fails_closed_on_nan_balls():
    """A 3-D peak whose ball form squares with ** (NaN on balls around 0) at a point no box edge hits:
    the trainer's run-to-eps sup must be unbounded there, never a finite bound below the true maximum 1."""
    from proofs_check import residual_sup

    centre = (0.3, 0.7, 0.45)

    def f(x, m):
        return 1 - m.sqrt(sum((x[i] - centre[i]) ** 2 for i in range(3)))

    def g(x, m):
        r = m.sqrt(sum((x[i] - centre[i]) ** 2 for i in range(3)))
        return [-(x[i] - centre[i]) / r for i in range(3)]

    target = Target("peak3d", ((0.0, 1.0),) * 3, f, g, continuous=True)
    search, rigorous = residual_sup([], target, target.domain, max_boxes=3000)
    assert rigorous and search.enclosure.lower <= 1.0
    assert search.enclosure.upper >= 1.0 and not search.converged
    assert search.enclosure.upper < math.inf or search.enclosure.reason
