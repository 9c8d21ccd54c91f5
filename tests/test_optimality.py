"""Grade optimality independently of the solver: the exact 2-D kappa, the 2-D certificate, refutation.

Each check compares with something computed another way: the enumerated patterns with their cone
projections, a direct solve over every pattern, an explicitly improved network.
"""

import numpy as np
import pytest

from mgdl_convex import MultigradeRegressor, get_target
from mgdl_convex.cones import cone_rows, pattern_kappa
from mgdl_convex.network import GradeLayer
from mgdl_convex.patterns import enumerate_patterns
from mgdl_convex.program import GradeProgram, solve_direct
from mgdl_convex.targets import Target
from proofs_check import FAIL, PASS, RIGOROUS, Scheme, check_scheme, scheme_from_model
from proofs_check.kappa2d import kappa_upper_2d
from proofs_check.network import grade_input
from proofs_check.optimality import first_grade_certificate, refute_optimality

TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


def _points(kind, rng):
    if kind == "grid":  # every row, column and diagonal collinear
        return np.array([[a, b] for a in np.linspace(0, 1, 5) for b in np.linspace(0, 1, 5)])
    if kind == "collinear":  # a dozen points on one line plus a few off it
        t = rng.random(12)
        return np.vstack([np.column_stack([t, 0.3 + 0.5 * t]), rng.random((6, 2))])
    if kind == "duplicates":
        P = rng.random((10, 2))
        return np.vstack([P, P[:4]])
    return rng.random((20, 2))


@pytest.mark.parametrize("kind", ["grid", "collinear", "duplicates", "random"])
def test_kappa2d_equals_the_enumerated_patterns_cone_projections(kind, rng):
    P = _points(kind, rng)
    lam = rng.standard_normal(len(P))
    Zb = np.column_stack([P, np.ones(len(P))])
    D = enumerate_patterns(Zb).D
    brute = float(np.nanmax(pattern_kappa(Zb, D, lam, cone_rows(Zb, D, None))))
    res = kappa_upper_2d(P, lam)
    assert brute <= res["kappa_upper"] <= brute * (1 + 1e-9)
    U = rng.standard_normal((3, 50_000))
    U /= np.linalg.norm(U, axis=0)
    sampled = np.max(np.abs(lam @ np.maximum(Zb @ U, 0.0))) / len(P)
    assert sampled <= res["kappa_upper"]


def test_kappa2d_on_many_small_degenerate_configurations(rng):
    """Integer grids with duplicates, 1e-13 jitter off them, one line, a far-off domain: never below the truth."""
    for trial in range(60):
        n = int(rng.integers(3, 14))
        base = rng.integers(0, 4, size=(n, 2)).astype(float) / 3
        P = [base, base + 1e-13 * rng.standard_normal((n, 2)), None, 100 + rng.random((n, 2))][trial % 4]
        if P is None:
            t = rng.random(n)
            P = np.column_stack([t, 2 * t - 0.5])
        lam = rng.standard_normal(n)
        Zb = np.column_stack([P, np.ones(n)])
        D = enumerate_patterns(Zb).D
        brute = float(np.nanmax(pattern_kappa(Zb, D, lam, cone_rows(Zb, D, None))))
        U = rng.standard_normal((3, 5000))
        U /= np.linalg.norm(U, axis=0)
        sampled = np.max(np.abs(lam @ np.maximum(Zb @ U, 0.0))) / n
        upper = kappa_upper_2d(P, lam)["kappa_upper"]
        assert max(brute, sampled) <= upper <= brute * (1 + 1e-8), trial


def test_kappa2d_rejects_bad_input():
    with pytest.raises(ValueError, match="n x 2"):
        kappa_upper_2d(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        kappa_upper_2d(np.array([[0.0, np.nan], [1.0, 1.0]]), np.ones(2))


def _bump2d():
    return Target(
        "bump2d", ((0.0, 1.0), (0.0, 1.0)), lambda x, m: m.sin(3 * x[0]) * m.cos(2 * x[1]) + x[1], numpy_only=True
    )


def test_2d_first_grade_certificate_on_a_degenerate_grid_agrees_with_a_full_solve():
    """6 x 6 grid (collinear everywhere), all patterns: certified optimal, and never more than holds."""
    target = _bump2d()
    m = MultigradeRegressor(n_grades=1, width=64, beta_ratio=0.05, patterns="all", solver_options=TIGHT)
    m.fit_target(target, samples=36)
    g = m.grades_[0]
    assert not g.capped and g.patterns_complete
    scheme = scheme_from_model(m, target)
    X, y = scheme.samples[0]
    assert len(np.unique(X[:, 0])) == 6  # a real grid
    cert = first_grade_certificate(m.layers_[0].hidden, m.layers_[0].readout, X, y, g.beta)
    Zb = np.column_stack([X, np.ones(len(X))])
    prog = GradeProgram(Zb=Zb, e=y, D=enumerate_patterns(Zb).D, beta=g.beta)
    optimum = solve_direct(prog, "CLARABEL", TIGHT)[0].objective(prog)
    assert cert["dual"] <= optimum * (1 + 1e-9)  # a lower bound of the true optimum
    assert cert["primal"] == pytest.approx(optimum, rel=1e-6)
    assert 0 <= cert["relative_gap_upper"] < 1e-6
    c4 = check_scheme(scheme, target).claim("C4")
    assert c4.outcome == PASS and c4.trust == RIGOROUS
    assert c4.per_grade[0]["independent"] == "exact certificate"
    # the same grade with its read-out scaled is reported as not optimal
    bad = GradeLayer(hidden=m.layers_[0].hidden, readout=m.layers_[0].readout * 1.1)
    c4_bad = next(
        c
        for c in check_scheme(Scheme([bad], scheme.domain, scheme.records, scheme.samples), target).claims
        if c.name.startswith("C4")
    )
    assert c4_bad.outcome == FAIL and c4_bad.per_grade[0]["relative_gap"] > 1e-4


def _objective(Zb, y, hidden, readout, beta):
    trained = readout != 0
    pred = np.maximum(Zb @ hidden[:, trained], 0) @ readout[trained]
    penalty = 0.5 * (np.sum(hidden[:, trained] ** 2) + np.sum(readout[trained] ** 2))
    return np.sum((y - pred) ** 2) / (2 * len(y)) + beta * penalty


def test_refutation_of_a_grade_fit_on_too_few_patterns_is_an_explicit_improvement(rng):
    """Grade 2 sampled on 4 gates: the refutation's certified decrease is realised by adding one neuron."""
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=2, width=64, beta_ratio=0.05, patterns="sampled", n_patterns=4, random_state=1)
    m.fit_target(target, samples=128)
    assert not m.grades_[1].capped
    scheme = scheme_from_model(m, target)
    X, y = scheme.samples[1]
    Zb, e = grade_input(scheme.layers, X, y, 1)
    layer, beta = m.layers_[1], m.grades_[1].beta
    ref = refute_optimality(Zb, e, layer.hidden, layer.readout, beta, 1e-6, rng)
    assert ref["refuted"] and ref["kappa_over_beta"] > 1
    # build the improvement: neuron u with output weight along sign(lam . h), scale t
    u = np.array(ref["improving_gate"])
    h = np.maximum(Zb @ u, 0)
    lam = e - np.maximum(Zb @ layer.hidden, 0) @ layer.readout
    s = lam @ h
    t = (abs(s) / len(y) - beta * np.linalg.norm(u)) * len(y) / (h @ h)
    scale = np.sqrt(t * np.linalg.norm(u)) / np.linalg.norm(u)  # balanced: ||u'||^2 = a'^2 = t ||u||
    hidden2 = np.column_stack([layer.hidden, scale * u])
    readout2 = np.append(layer.readout, np.sign(s) * np.sqrt(t * np.linalg.norm(u)))
    before = _objective(Zb, e, layer.hidden, layer.readout, beta)
    after = _objective(Zb, e, hidden2, readout2, beta)
    assert before - after >= ref["decrease_lower"] * (1 - 1e-6) > 0
    c4 = check_scheme(scheme, target).claim("C4")
    assert c4.outcome == FAIL and c4.trust == RIGOROUS and c4.per_grade[1]["independent"] == "search: refuted"


def test_a_certified_optimal_grade_is_not_refuted(rng):
    """The same search on a grade the exact certificate proves optimal finds no improving gate."""
    target = get_target("fangxu1")
    m = MultigradeRegressor(n_grades=1, width=64, beta_ratio=0.05, random_state=0).fit_target(target, samples=80)
    scheme = scheme_from_model(m, target)
    X, y = scheme.samples[0]
    layer, beta = m.layers_[0], m.grades_[0].beta
    cert = first_grade_certificate(layer.hidden, layer.readout, X, y, beta)
    assert cert["relative_gap_upper"] < 1e-6
    ref = refute_optimality(np.column_stack([X, np.ones(len(X))]), y, layer.hidden, layer.readout, beta, 1e-6, rng)
    assert not ref["refuted"]
    assert ref["kappa_lower"] <= cert["kappa_upper"]


def test_random_samples_are_regenerated_exactly_for_the_certificate(tmp_path):
    """sampling='random' with a seed: the checker certifies grade 1 on the very samples it was fit on.

    If the regenerated samples differed, the certificate's primal (the network's objective on
    them) would not equal the objective the fit recorded.
    """
    from mgdl_convex import MultigradeRegressor as Model

    target = get_target("sin100")
    m = Model(n_grades=2, width=64, beta_ratio=0.05, random_state=3).fit_target(target, samples=150, sampling="random")
    path = tmp_path / "model.npz"
    m.save(path)
    for model in (m, Model.load(path)):
        scheme = scheme_from_model(model, target)
        assert scheme.samples is not None
        c4 = check_scheme(scheme, target).claim("C4")
        cert = c4.details["independent"][0]
        assert cert["kind"] == "certificate"
        assert cert["primal"] == pytest.approx(m.grades_[0].objective, rel=1e-6)
    X = m.training_samples(target)
    assert not np.allclose(np.sort(X[0][:, 0]), np.linspace(0, 1, 150))  # really random, not a grid
    data_fit = Model(n_grades=1, width=8).fit(X[0], target(X[0]))
    assert data_fit.training_samples(target) is None  # a data set: nothing to regenerate


@pytest.mark.parametrize("d", [1, 2])
def test_recomputed_kappa_brackets_the_value_over_every_pattern(d, rng):
    from proofs_check.optimality import kappa_bounds

    X = np.linspace(0, 1, 30)[:, None] if d == 1 else rng.random((25, 2))
    e = rng.standard_normal(len(X))
    Zb = np.column_stack([X, np.ones(len(X))])
    D = enumerate_patterns(Zb).D
    brute = float(np.nanmax(pattern_kappa(Zb, D, e, cone_rows(Zb, D, None))))
    bounds = kappa_bounds(Zb, e, rng, 200, X)
    assert 0 < bounds["lower"] <= brute * (1 + 1e-9) and brute <= bounds["upper"] <= brute * (1 + 1e-6)
