"""MultigradeRegressor: the guarantees of a fitted scheme, persistence, and bad input."""

import numpy as np
import pytest

from mgdl_convex import ModelFileError, MultigradeRegressor, NotFittedError, SolverError, get_target
from mgdl_convex.network import forward


def _data(n=60, seed=0):
    x = np.linspace(0, 1, n)
    return x[:, None], np.sin(2 * np.pi * x) + 0.3 * np.sin(12 * np.pi * x)


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return MultigradeRegressor(n_grades=3, width=6, carry_input=True, beta_ratio=0.3, random_state=1).fit(X, y)


def test_beta_ratio_makes_every_grade_strictly_decrease_the_training_loss(fitted):
    assert len(fitted.grades_) == 3
    for g in fitted.grades_:
        assert not g.trivial and g.kappa_before > g.beta
        assert g.loss_after < g.loss_before
    losses = [fitted.grades_[0].loss_before] + [g.loss_after for g in fitted.grades_]
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_width_cap_and_carried_input(fitted):
    X, _ = _data()
    for g, layer in zip(fitted.grades_, fitted.layers_):
        assert g.width <= 6 - 1  # one channel carries x
        assert layer.width == g.width + 1
    # the carry channel of every grade is x - lo on the domain
    for _, Z, _ in forward(X, fitted.layers_):
        np.testing.assert_allclose(Z[:, -1], X[:, 0] - X[:, 0].min(), atol=1e-14)


def test_staged_predict_matches_recorded_losses(fitted):
    X, y = _data()
    staged = list(fitted.staged_predict(X))
    assert len(staged) == 3
    np.testing.assert_array_equal(staged[-1], fitted.predict(X))
    for g, pred in zip(fitted.grades_, staged):
        assert g.loss_after == pytest.approx(np.mean((y - pred) ** 2) / 2, rel=1e-9)
        assert g.recovery_gap < 1e-6
        assert g.relative_gap > -1e-6  # weak duality


def test_monotone_grades_never_increase_the_residual_on_training_points():
    X, y = _data()
    m = MultigradeRegressor(n_grades=3, width=8, monotone=True, beta_ratio=0.2, random_state=0).fit(X, y)
    e_prev = y
    for pred in m.staged_predict(X):
        e = y - pred
        assert np.all(np.abs(e) <= np.abs(e_prev) + 1e-7)
        e_prev = e
    assert all(g.monotone_violation <= 1e-7 for g in m.grades_)


def test_save_load_round_trip_is_exact(fitted, tmp_path):
    X, _ = _data()
    fitted.save(tmp_path / "m.npz")
    back = MultigradeRegressor.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(back.predict(X), fitted.predict(X))
    assert back.grades_ == fitted.grades_
    assert back.get_params() == {k: v for k, v in fitted.get_params().items()}


def test_same_seed_same_model():
    t = get_target("fangxu1")
    a = MultigradeRegressor(n_grades=2, width=6, n_patterns=40, random_state=3).fit_target(t, samples=[50, 80])
    b = MultigradeRegressor(n_grades=2, width=6, n_patterns=40, random_state=3).fit_target(t, samples=[50, 80])
    for la, lb in zip(a.layers_, b.layers_):
        np.testing.assert_array_equal(la.hidden, lb.hidden)
    assert [g.n_samples for g in a.grades_] == [50, 80]


def test_zero_residual_stops_at_grade_zero():
    X, _ = _data()
    m = MultigradeRegressor(n_grades=3, width=4).fit(X, np.zeros(len(X)))
    assert m.grades_ == [] and "zero residual" in m.stop_reason_
    np.testing.assert_array_equal(m.predict(X), 0.0)


def test_load_rejects_a_corrupt_file(tmp_path, fitted):
    path = tmp_path / "m.npz"
    fitted.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a readable"):
        MultigradeRegressor.load(path)
    with pytest.raises(ModelFileError, match="no model file"):
        MultigradeRegressor.load(tmp_path / "missing.npz")


X0, Y0 = _data(10)


@pytest.mark.parametrize(
    "X, y, params, match",
    [
        (np.where(np.arange(10)[:, None] == 3, np.nan, X0), Y0, {}, "X contains NaN or inf"),
        (X0, np.where(np.arange(10) == 2, np.inf, Y0), {}, "y contains NaN or inf"),
        (X0[:, 0], Y0, {}, "X must be 2-D"),
        (X0, Y0[:5], {}, "different numbers of samples"),
        (X0, Y0[:, None], {}, "y must be 1-D"),
        (np.zeros((0, 1)), np.zeros(0), {}, r"X is empty: 0 sample\(s\)"),
        (X0[:1], Y0[:1], {}, "at least 2 samples"),
        (np.vstack([X0, X0[:1]]), np.append(Y0, 0.0), {}, "duplicate sample points"),
        (X0, Y0, {"solver": "GUROBI_X"}, "unknown solver"),
        (X0, Y0, {"beta": -1.0}, "beta must be a positive"),
        (X0, Y0, {"width": 0}, "width must be an integer >= 1"),
        (X0, Y0, {"width": 1, "carry_input": True}, "leaves no trainable neuron"),
        (X0, Y0, {"beta_ratio": 1.5}, r"beta_ratio must be a number in \(0, 1\) or None, got 1.5"),
        (X0, Y0, {"beta": 0.1, "beta_ratio": 0.5}, "not both"),
        (X0, Y0, {"contraction": 0.0}, r"contraction must be a number in \(0, 1\]"),
        (X0, Y0, {"patterns": "most"}, "patterns must be"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(X, y, params, match):
    with pytest.raises(ValueError, match=match):
        MultigradeRegressor(**params).fit(X, y)


def test_mosek_unavailable_is_reported_with_the_extra():
    pytest.importorskip("cvxpy")
    from mgdl_convex.solvers import probe_mosek

    if probe_mosek() is None:
        pytest.skip("MOSEK is installed and licensed here: nothing to refuse")
    with pytest.raises(SolverError, match="MOSEK.*not available.*mosek"):
        MultigradeRegressor(solver="MOSEK").fit(X0, Y0)


def test_predict_before_fit_and_wrong_width():
    with pytest.raises(NotFittedError, match="not fitted"):
        MultigradeRegressor().predict(X0)
    m = MultigradeRegressor(n_grades=1, width=4).fit(X0, Y0)
    with pytest.raises(ValueError, match="X has 2 features, but MultigradeRegressor is expecting 1 features"):
        m.predict(np.zeros((3, 2)))


def test_mosek_solves_the_same_grade_as_clarabel():
    from mgdl_convex.solvers import probe_mosek

    reason = probe_mosek()
    if reason is not None:
        pytest.skip(f"MOSEK unavailable: {reason}")
    X, y = _data()
    a = MultigradeRegressor(n_grades=1, width=8, beta_ratio=0.3).fit(X, y)
    b = MultigradeRegressor(n_grades=1, width=8, beta_ratio=0.3, solver="MOSEK").fit(X, y)
    assert b.grades_[0].objective == pytest.approx(a.grades_[0].objective, rel=1e-5)
