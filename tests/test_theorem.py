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


@pytest.fixture(scope="module")
def pointwise():
    """sqrt_kink on 16 samples: the residual bends sharply between them, so bounds at the samples
    alone leave violations that only the oracle finds."""
    target = get_target("sqrt_kink")
    m = MultigradeRegressor(n_grades=2, width=8, carry_input=True, guarantee="pointwise", random_state=0)
    return m.fit_target(target, samples=16), target


def test_a_pointwise_grade_is_proved_after_a_counterexample_became_a_constraint(pointwise):
    m, target = pointwise
    assert len(m.grades_) == 2
    g = m.grades_[1]
    assert g.guarantee == "pointwise" and g.c1_status == "proved" and g.width > 0
    assert g.c1_rounds >= 2 and g.constraint_points >= 1  # a counterexample of round 1 became a constraint
    assert all(r.loss_after <= r.loss_before for r in m.grades_)
    report = check_scheme(scheme_from_model(m, target), target, CheckSettings(sollya="off"))
    c1 = next(c for c in report.claims if c.name.startswith("C1 pointwise"))
    assert c1.outcome == "pass" and c1.trust == "rigorous"


def test_a_grade_that_cannot_be_proved_in_its_budget_falls_back_and_says_so():
    target = get_target("sqrt_kink")
    m = MultigradeRegressor(n_grades=2, width=8, carry_input=True, guarantee="pointwise", c1_rounds=1, random_state=0)
    m.fit_target(target, samples=16)
    assert len(m.grades_) == 1  # grade 2 needed more rounds: the zero grade instead, and the run stops
    assert "grade 2 is the zero grade: fallback to the zero grade: C1 not proved in 1 rounds" in m.stop_reason_
    report = check_scheme(scheme_from_model(m, target), target, CheckSettings(sollya="off"))
    c1 = next(c for c in report.claims if c.name.startswith("C1 pointwise"))
    assert c1.outcome == "pass"  # what is kept is proved


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
