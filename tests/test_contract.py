"""The checker's typed input and its public search: what it accepts, refuses, and returns."""

import json

import numpy as np
import pytest
from exact_eval import excess_ball
from records import grade_record

from mgdl_convex import get_target
from mgdl_convex.network import GradeLayer
from mgdl_convex.targets import Target
from proofs_check import (
    FAIL,
    INCONCLUSIVE,
    NOT_RUN,
    PASS,
    RIGOROUS,
    SOLVER,
    CheckSettings,
    GradeRecord,
    Layer,
    Scheme,
    check_scheme,
    monotone_violations,
)

UNIT = np.array([[0.0, 1.0]])
QUICK = CheckSettings(sollya="off")


def _record(k, **changes):
    return grade_record(k, **{"n_samples": 50, **changes})


def _ramp(scale=1.0, at=0.5):
    """g(x) = scale * relu(x - at)."""
    return GradeLayer(hidden=np.array([[1.0], [-at]]), readout=np.array([scale]))


def test_bad_layers_and_schemes_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="bias row last"):
        Layer(np.zeros((1, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        Layer(np.array([[1.0], [np.nan]]), np.zeros(1))
    with pytest.raises(ValueError, match="takes 3 inputs"):
        Scheme([_ramp(), Layer(np.zeros((4, 1)), np.zeros(1))], UNIT)
    with pytest.raises(ValueError, match="lacks the field 'status'"):
        Scheme([_ramp()], UNIT, [{k: v for k, v in _record(1).items() if k != "status"}])
    with pytest.raises(ValueError, match="2 grade records for 1 grades"):
        Scheme([_ramp()], UNIT, [_record(1), _record(2)])
    with pytest.raises(ValueError, match="lo < hi"):
        Scheme([_ramp()], np.array([[1.0, 0.0]]))
    with pytest.raises(TypeError, match="proofs_check.Scheme"):
        check_scheme([_ramp()], get_target("fangxu1"))
    with pytest.raises(TypeError, match="lacks what the checks read"):
        check_scheme(Scheme([_ramp()], UNIT), lambda X: X[:, 0])
    scheme = Scheme([_ramp()], UNIT, [_record(1, extra="ignored")])
    assert isinstance(scheme.layers[0], Layer) and isinstance(scheme.records[0], GradeRecord)
    assert not scheme.layers[0].hidden.flags.writeable  # frozen means frozen


def test_without_records_or_samples_the_claims_that_need_them_are_not_run():
    report = check_scheme(Scheme([_ramp()], UNIT), get_target("sqrt_kink"), QUICK)
    assert [c.id for c in report.claims] == ["C1", "C1_train", "C2", "C3", "C4"]
    assert report.claim("C1_train").outcome == NOT_RUN and report.claim("C4").outcome == NOT_RUN
    assert "not run" in report.claim("C4").summary
    assert report.claim("C1").outcome == PASS  # needs neither: g = relu(x - 0.5) <= 0.5 < 2 sqrt|x - 0.3|
    assert not report.failed


def test_c4_semantics_from_records_without_samples():
    target = get_target("fangxu1")
    cases = [
        (dict(status="infeasible"), FAIL, SOLVER),  # a solver failure
        (dict(capped=True, relative_gap=0.5), INCONCLUSIVE, SOLVER),
        (dict(relative_gap=1e-3), INCONCLUSIVE, SOLVER),  # a gap alone proves no fail
        (dict(status="optimal_inaccurate"), INCONCLUSIVE, SOLVER),
        ({}, PASS, SOLVER),  # optimal, within tolerance, nothing independent: solver-trusted
    ]
    for changes, outcome, trust in cases:
        c4 = check_scheme(Scheme([_ramp(0.0)], UNIT, [_record(1, **changes)]), target, QUICK).claim("C4")
        assert (c4.outcome, c4.trust) == (outcome, trust), changes


def test_a_user_target_with_a_ball_form_is_checked_rigorously(tmp_path, monkeypatch):
    """f(x) = x / 2, declared continuous, with its ball form: the grade x / 2 leaves e = 0, a certified pass."""
    (tmp_path / "half.py").write_text(
        "from mgdl_convex.targets import Target\n"
        "half = Target('half', ((0.0, 1.0),), lambda x, m: x[0] / 2, lambda x, m: [0.5 + 0 * x[0]])\n"
        "unsure = Target('unsure', ((0.0, 1.0),), lambda x, m: x[0] / 2, lambda x, m: [0.5 + 0 * x[0]],\n"
        "                continuous=None)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    scheme = Scheme([_ramp(0.5, at=0.0)], UNIT, [_record(1)])
    report = check_scheme(scheme, get_target("half:half"), QUICK)
    c2 = report.claim("C2")
    assert c2.outcome == PASS and c2.trust == RIGOROUS and c2.per_grade[1]["upper"] <= 1e-15
    assert report.claim("C1").outcome == PASS and report.claim("C1").trust == RIGOROUS
    unsure = check_scheme(scheme, get_target("half:unsure"), QUICK).claim("C2")
    assert unsure.outcome == INCONCLUSIVE and "continuity is unknown" in unsure.summary


def test_report_json_is_strict_and_records_the_domain(tmp_path):
    report = check_scheme(Scheme([_ramp(2.0)], UNIT, [_record(1)]), get_target("sqrt_kink"), QUICK)
    report.write(tmp_path)

    def reject(name):
        raise ValueError(name)

    data = json.loads((tmp_path / "report.json").read_text(), parse_constant=reject)
    assert data["domain"] == [[0.0, 1.0]]
    assert [c["id"] for c in data["claims"]] == ["C1", "C1_train", "C2", "C3", "C4"]


# --------------------------------------------------------------------------- the separation oracle
def test_the_oracle_proves_a_band_grade_and_certifies_every_spike():
    """f = sqrt|x - 0.3| >= 0.44 on [0.5, 1]: relu(x - 0.5) is inside the band; a tall spike at 0.7 is not."""
    target = get_target("sqrt_kink")
    band = monotone_violations([], _ramp(1.0), target, UNIT)
    assert band.status == "proved" and not band.counterexamples and not band.unresolved
    a, d = 0.7, 1e-6  # a spike of height 5 and half-width 1e-6, plus a second one at 0.9
    spikes = GradeLayer(
        hidden=np.array([[1.0] * 6, [-a, -a - d, -a - 2 * d, -0.9, -0.9 - d, -0.9 - 2 * d]]),
        readout=np.array([5 / d, -10 / d, 5 / d] * 2),
    )
    found = monotone_violations([], spikes, target, UNIT)
    assert found.status == "counterexample"
    near = {round(c.point[0], 3) for c in found.counterexamples}
    assert near == {0.7, 0.9}  # both spikes, on both sides of the domain's pieces
    for c in found.counterexamples:
        assert c.excess > 0 and excess_ball([spikes], target, c.point, 1) > c.excess * (1 - 1e-9)
    first = monotone_violations([], spikes, target, UNIT, stop_at_first=True)
    assert len(first.counterexamples) == 1


def test_the_oracle_in_2d_and_its_refusals():
    target = Target(
        "plus_two",
        ((0.0, 1.0), (0.0, 1.0)),
        lambda x, m: 2 + m.sin(x[0]) * m.cos(x[1]),
        lambda x, m: [m.cos(x[0]) * m.cos(x[1]), -m.sin(x[0]) * m.sin(x[1])],
    )
    square = np.array([[0.0, 1.0], [0.0, 1.0]])
    first = GradeLayer(hidden=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), readout=np.array([1.0, 0.0]))  # x
    tall = GradeLayer(hidden=np.array([[1.0], [1.0], [-1.5]]), readout=np.array([20.0]))  # 20 relu(x + y - 1.5)
    result = monotone_violations([first], tall, target, square, max_boxes=20_000)
    assert result.status == "counterexample"
    for c in result.counterexamples:
        assert excess_ball([first, tall], target, c.point, 2) > 0
    unresolved = monotone_violations([first], tall, target, square, max_boxes=1, stop_at_first=False)
    assert unresolved.boxes >= 1
    with pytest.raises(ValueError, match="takes 1 inputs"):
        monotone_violations([first], Layer(np.zeros((2, 1)), np.zeros(1)), target, square)
    with pytest.raises(ValueError, match="1-D, 2-D or 3-D"):
        monotone_violations([], Layer(np.zeros((5, 1)), np.zeros(1)), target, np.zeros((4, 2)) + [0, 1])
    with pytest.raises(ValueError, match="no ball-arithmetic form"):
        monotone_violations([], _ramp(), Target("np", ((0.0, 1.0),), lambda x, m: x[0], numpy_only=True), UNIT)


def test_bad_records_samples_and_exponents_are_refused_with_the_reason():
    for beta in (-1.0, 0.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="beta must be a finite number > 0"):
            Scheme([_ramp()], UNIT, [_record(1, beta=beta)])
    X = np.linspace(0, 1, 5)[:, None]
    bad_samples = [
        ((np.column_stack([X, X]), np.zeros(5)), r"X \(n x 1"),  # 2 coordinates on a 1-D domain
        ((X, np.zeros(4)), r"y \(n,\)"),
        ((np.zeros((0, 1)), np.zeros(0)), "n >= 1"),
        ((X, np.array([0, 0, np.nan, 0, 0])), "NaN or inf"),
        ((np.vstack([X[:4], [[np.inf]]]), np.zeros(5)), "NaN or inf"),
    ]
    for sample, message in bad_samples:
        with pytest.raises(ValueError, match=message):
            Scheme([_ramp()], UNIT, samples=(sample,))
    for ps in ((0.5,), (0,), (-1,), (float("inf"),), (float("nan"),), ()):
        with pytest.raises(ValueError, match="CheckSettings.ps"):
            CheckSettings(ps=ps)
    assert CheckSettings(ps=[1, 2.5]).ps == (1, 2.5)


def test_c1_train_tolerance_is_relative_and_exact_at_a_zero_residual():
    """y = 0 at every sample: a zero grade keeps |e| = 0 (pass); a grade of 1e-300 raises it (fail)."""
    zero = Target("zero", ((0.0, 1.0),), lambda x, m: 0 * x[0], lambda x, m: [0 * x[0]])
    X = np.linspace(0, 1, 9)[:, None]
    for value, outcome in ((0.0, PASS), (1e-300, FAIL)):
        layer = Layer(np.array([[0.0], [1.0]]), np.array([value]))
        scheme = Scheme([layer], UNIT, samples=((X, np.zeros(9)),))
        c1_train = check_scheme(scheme, zero, QUICK).claim("C1_train")
        assert c1_train.outcome == outcome and c1_train.per_grade[0]["tolerance"] == 0.0, value


@pytest.fixture(scope="module")
def small_fit():
    from mgdl_convex import MultigradeRegressor

    target = get_target("fangxu1")
    return MultigradeRegressor(n_grades=1, width=8, random_state=0).fit_target(target, samples=24), target


def _with(model, **attributes):
    from mgdl_convex import MultigradeRegressor

    out = MultigradeRegressor(**model.get_params())
    for k, v in vars(model).items():
        if k.endswith("_"):
            setattr(out, k, list(v) if isinstance(v, list) else v)
    for k, v in attributes.items():
        setattr(out, k, v)
    return out


def test_records_are_used_only_for_the_target_they_were_fit_to(small_fit, tmp_path):
    from mgdl_convex import MultigradeRegressor
    from proofs_check import scheme_from_model

    model, fangxu1 = small_fit
    settings = CheckSettings(sollya="off", sup_boxes=4000)

    def claims(m, target):
        report = check_scheme(scheme_from_model(m, target), target, settings)
        return report.claim("C1_train"), report.claim("C4")

    assert all(c.outcome != NOT_RUN for c in claims(model, fangxu1))  # its own target: both are checked
    model.save(tmp_path / "model.npz")
    loaded = MultigradeRegressor.load(tmp_path / "model.npz")
    assert loaded.target_name_ == "fangxu1" and loaded.target_fingerprints_ == model.target_fingerprints_
    assert all(c.outcome != NOT_RUN for c in claims(loaded, fangxu1))
    impostor = Target("fangxu1", fangxu1.domain, lambda x, m: m.sin(6 * x[0]), lambda x, m: [6 * m.cos(6 * x[0])])
    cases = [
        (model, get_target("sin100"), "fit to target 'fangxu1', not 'sin100'"),
        (model, impostor, "does not give the values grade 1 was fit to"),
        (_with(model, target_fingerprints_=None), fangxu1, "did not record the values it was fit to"),
    ]
    for m, target, reason in cases:
        for claim in claims(m, target):
            assert claim.outcome == NOT_RUN and reason in claim.summary, (target.name, claim.id, claim.summary)


def test_a_model_with_an_unusable_record_leaves_c4_not_run(small_fit):
    import dataclasses

    from proofs_check import scheme_from_model

    model, target = small_fit
    tampered = _with(model, grades_=[dataclasses.replace(model.grades_[0], beta=-1.0)])
    scheme = scheme_from_model(tampered, target)
    assert scheme.records is None
    c4 = check_scheme(scheme, target, CheckSettings(sollya="off", sup_boxes=4000)).claim("C4")
    assert c4.outcome == NOT_RUN and "beta must be a finite number > 0" in c4.summary


def test_a_hand_built_scheme_with_a_provenance_is_checked_against_it():
    from proofs_check import Provenance

    with pytest.raises(TypeError, match="Provenance"):
        Scheme([_ramp()], UNIT, provenance={"target": "fangxu1"})
    target = get_target("fangxu1")
    for provenance, outcome in ((Provenance("fangxu1"), PASS), (Provenance("sin100"), NOT_RUN)):
        c4 = check_scheme(Scheme([_ramp(0.0)], UNIT, [_record(1)], provenance=provenance), target, QUICK).claim("C4")
        assert c4.outcome == outcome, provenance


def test_the_solver_trusted_c4_pass_needs_a_recovery_gap_small_relative_to_the_residual():
    """A recovery gap of 1e-8 is rounding next to a residual of size 1, but 1e-5 of a residual of 1e-3."""
    from proofs_check.checker import CheckSettings
    from proofs_check.contract import GradeRecord
    from proofs_check.grade_optimality import _grade_verdict

    rec = GradeRecord(
        grade=2, n_samples=64, width=8, beta=1e-4, status="optimal", relative_gap=1e-9, gap=1e-12,
        recovery_gap=1e-8, capped=False, patterns_complete=False, certificate_scope="sampled patterns only",
        loss_after=0.1, time_total=1.0,
    )
    settings = CheckSettings(sollya="off")
    assert _grade_verdict(rec, None, 1.0, settings)[0] == "pass"
    assert _grade_verdict(rec, None, 1e-3, settings)[:3:2] == ("inconclusive", "recovery")  # said as such
    from proofs_check.grade_optimality import _summary

    line = _summary("inconclusive", {"recovery": [2]}, [{"grade": 2, "recovery_gap": 1e-8}], 1e-6, "solver-trusted")
    assert "differ from the certified solution's by 1e-08" in line and "relative gap" not in line


@pytest.mark.parametrize(
    "field, value",
    [("relative_gap", float("nan")), ("relative_gap", float("inf")), ("relative_gap", -0.5),
     ("recovery_gap", float("nan")), ("recovery_gap", -1.0), ("recovery_gap", float("inf"))],
)
def test_a_tampered_gap_in_a_record_is_never_a_solver_trusted_pass(field, value):
    """A NaN compares False everywhere: a check written as ``gap > tol -> not shown`` would let it pass.
    A gap far below 0 (primal under dual) or a negative recovery gap no solve produces: inconclusive too."""
    from proofs_check.checker import CheckSettings
    from proofs_check.contract import GradeRecord
    from proofs_check.grade_optimality import _grade_verdict

    good = dict(
        grade=2, n_samples=64, width=8, beta=1e-4, status="optimal", relative_gap=1e-9, gap=1e-12,
        recovery_gap=1e-12, capped=False, patterns_complete=False, certificate_scope="sampled patterns only",
        loss_after=0.1, time_total=1.0,
    )
    settings = CheckSettings(sollya="off")
    assert _grade_verdict(GradeRecord(**good), None, 1.0, settings)[0] == "pass"  # the untampered record passes
    assert _grade_verdict(GradeRecord(**{**good, field: value}), None, 1.0, settings)[0] == "inconclusive"
    assert _grade_verdict(GradeRecord(**good), None, float("nan"), settings)[0] == "inconclusive"
