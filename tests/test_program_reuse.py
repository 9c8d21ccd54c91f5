"""What a grade program computes once along the samples' order and every solve reuses: patterns as
runs (the same correlations, prices and certificates as the product with D) and loss atoms (the
same loss for every restricted program)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mgdl_convex.certificate import PatternRows, certify, program_rows
from mgdl_convex.compression import block_features, compress_loss, loss_atoms
from mgdl_convex.cones import cone_rows, pattern_kappa, sample_orders
from mgdl_convex.pattern_runs import pattern_runs
from mgdl_convex.problems import feature_grade_program
from mgdl_convex.working_set import WorkingSetOptions, solve_working_set


def _curve_patterns(n, P, rng, shuffle):
    """Gates on the features of a ReLU layer along x, with repeated x, plus edge columns."""
    x = np.sort(rng.integers(0, n // 3, n) / (n // 3))  # duplicates
    Z = np.maximum(x[:, None] * rng.normal(size=6) + rng.normal(size=6) * 0.5, 0.0)
    Zb = np.column_stack([Z, np.ones(n)])
    D = Zb @ rng.normal(size=(7, P)) >= 0
    D[:, 0] = False  # empty
    D[:, 1] = True  # all ones
    D[:, 2] = np.arange(n) % 2 == 0  # a run per sample
    D[:, 3] = False
    D[-1, 3] = True  # a run at the very end
    perm = rng.permutation(n) if shuffle else np.arange(n)
    order = np.argsort(perm)  # the samples' order in the shuffled rows
    return Zb[perm], D[perm], order


@pytest.mark.parametrize("shuffle", [False, True])
def test_runs_give_the_correlations_of_the_product(shuffle, rng):
    Zb, D, order = _curve_patterns(400, 30, rng, shuffle)
    runs = pattern_runs(D, order)
    assert runs is not None and runs.shape == D.shape
    assert (runs.perm is None) == (not shuffle)
    Zr = Zb * rng.normal(size=400)[:, None]
    expected = D.T.astype(float) @ Zr
    assert np.allclose(runs.correlations(Zr), expected, rtol=0, atol=1e-12 * np.abs(Zr).sum())
    # the runs are the columns: a column's runs cover exactly its ones, in the samples' order
    for i in range(D.shape[1]):
        covered = np.zeros(400, dtype=bool)
        for s, t in zip(runs.starts[runs.column == i], runs.ends[runs.column == i]):
            assert s < t and not covered[s:t].any()
            covered[s:t] = True
        assert np.array_equal(covered, D[order, i])


def test_scattered_samples_get_no_runs(rng):
    Zb = np.column_stack([rng.normal(size=(500, 4)), np.ones(500)])
    D = Zb @ rng.normal(size=(5, 40)) >= 0
    assert pattern_runs(D) is None  # about n/2 runs per column: the product is cheaper


def test_pattern_runs_refuse_what_they_cannot_describe(rng):
    D = rng.random((10, 3)) > 0.5
    with pytest.raises(ValueError, match="boolean"):
        pattern_runs(D.astype(float))
    with pytest.raises(ValueError, match="permutation"):
        pattern_runs(D, np.zeros(10, dtype=int))
    runs = pattern_runs(np.arange(10)[:, None] < 5)
    with pytest.raises(ValueError, match="10 rows"):
        runs.correlations(np.ones((9, 2)))


@pytest.mark.parametrize("shuffle", [False, True])
def test_prices_with_runs_equal_the_prices_with_the_product(shuffle, rng):
    Zb, D, order = _curve_patterns(300, 25, rng, shuffle)
    rows = cone_rows(Zb, D, order)
    r = rng.normal(size=300)
    plain = pattern_kappa(Zb, D, r, rows)
    fast = pattern_kappa(Zb, D, r, rows, runs=pattern_runs(D, order))
    assert np.allclose(fast, plain, rtol=1e-10, atol=1e-14)
    some = np.array([4, 9, 2])
    sub = pattern_kappa(Zb, D, r, rows, candidates=some, runs=pattern_runs(D, order))
    assert np.allclose(sub[some], plain[some], rtol=1e-10, atol=1e-14)
    assert np.isnan(np.delete(sub, some, axis=0)).all()


def test_grade_certificate_is_the_same_with_and_without_runs():
    """The working set prices with the runs (program_rows gives them); its certificate, recomputed
    with the product, is the same number."""
    prog, x = feature_grade_program(n=2000, width=8, n_patterns=60, beta=2e-3)
    order = np.argsort(x)
    rows = program_rows(prog, order)
    assert isinstance(rows, PatternRows) and rows.runs is not None
    assert rows.runs.n_runs < 0.01 * prog.D.size  # a few runs per pattern along the curve
    res = solve_working_set(prog, WorkingSetOptions(), order, rows=rows)
    assert res.info.converged
    with_runs = certify(prog, res.solution, res.nu, complete=False, order=order, rows=rows)
    without = certify(prog, res.solution, res.nu, complete=False, order=order, rows=list(rows))
    assert with_runs.kappa == pytest.approx(without.kappa, rel=1e-10)
    assert with_runs.dual == pytest.approx(without.dual, rel=1e-10)
    assert with_runs.relative_gap < 1e-6


# ----------------------------------------------------------------- loss atoms (the same loss, reduced once)
def _shuffled_curve_program(rng, n=900, shuffle=True):
    prog, x = feature_grade_program(n=n, width=6, n_patterns=40, random_state=3)
    perm = rng.permutation(n) if shuffle else np.arange(n)
    return prog.Zb[perm], prog.D[perm], prog.e[perm], np.argsort(x[perm], kind="stable")


@pytest.mark.parametrize("shuffle", [False, True])
def test_atoms_give_the_loss_for_every_x_and_every_block_subset(shuffle, rng):
    Zb, D, e, order = _shuffled_curve_program(rng, shuffle=shuffle)
    atoms = loss_atoms(Zb, e, pattern_runs(D, order))
    assert atoms is not None and atoms.Z.shape[0] < 0.25 * Zb.shape[0]
    # every atom is a run of samples on which all patterns agree: its rows carry that mask
    assert atoms.const >= 0
    for B in (1, 6, 30):
        pattern = rng.choice(D.shape[1], B, replace=False)
        sign = rng.choice([-1.0, 1.0], B)
        F = block_features(Zb, D[:, pattern], sign)
        F_loss, e_loss, const = compress_loss(Zb, D, e, pattern, sign, atoms=atoms)
        for _ in range(3):
            X = rng.standard_normal(F.shape[1])
            full = np.sum((F @ X - e) ** 2)
            assert np.sum((F_loss @ X - e_loss) ** 2) + const == pytest.approx(full, rel=1e-11)


def test_atoms_of_other_data_are_not_used(rng):
    """Atoms describe the arrays they came from: with another residual the samples are compressed."""
    Zb, D, e, order = _shuffled_curve_program(rng)
    atoms = loss_atoms(Zb, e, pattern_runs(D, order))
    other = e + 1.0
    pattern, sign = np.arange(5), np.ones(5)
    F = block_features(Zb, D[:, pattern], sign)
    F_loss, e_loss, const = compress_loss(Zb, D, other, pattern, sign, atoms=atoms)
    X = rng.standard_normal(F.shape[1])
    assert np.sum((F_loss @ X - e_loss) ** 2) + const == pytest.approx(np.sum((F @ X - other) ** 2), rel=1e-11)
    assert not atoms.describe(Zb, D, other) and not atoms.describe(Zb.copy(), D, e) and atoms.describe(Zb, D, e)


def test_scattered_samples_get_no_atoms(rng):
    Zb = np.column_stack([rng.normal(size=(500, 4)), np.ones(500)])
    D = Zb @ rng.normal(size=(5, 40)) >= 0
    assert loss_atoms(Zb, rng.normal(size=500), pattern_runs(D)) is None


def test_bounded_programs_get_no_atoms():
    """Theorem mode's bounded programs keep one row per sample (their bounds are per sample)."""
    prog, x = feature_grade_program(n=600, width=6, n_patterns=30)
    bounded = replace(prog, lower=np.minimum(0, 2 * prog.e), upper=np.maximum(0, 2 * prog.e))
    assert program_rows(prog, np.argsort(x)).atoms is not None
    assert program_rows(bounded, np.argsort(x)).atoms is None


def test_runs_are_used_for_their_own_matrix_only(rng):
    """Runs of another D of the same shape are ignored: the prices are the product's."""
    Zb, D, order = _curve_patterns(300, 25, rng, False)
    other = D.copy()
    other[:, 5] = ~other[:, 5]
    rows = cone_rows(Zb, D, order)
    r = rng.normal(size=300)
    assert np.array_equal(
        pattern_kappa(Zb, D, r, rows, runs=pattern_runs(other, order)), pattern_kappa(Zb, D, r, rows)
    )


def test_grid_samples_use_their_first_line_order(rng):
    """On a 2-D grid (several orders, :func:`sample_orders`) runs and atoms follow the first: the
    grid's lines.  Shuffled rows, the same correlations and the same loss."""
    g = np.linspace(0, 1, 60)
    X = np.array([(a, b) for a in g for b in g])[rng.permutation(3600)]
    Z = np.maximum(X @ rng.normal(size=(2, 5)) + rng.normal(size=5) * 0.3, 0.0)
    Zb = np.column_stack([Z, np.ones(3600)])
    D = Zb @ rng.normal(size=(6, 8)) >= 0  # a few switches per line of 60 samples
    e = np.sin(3 * X[:, 0]) * X[:, 1]
    orders = sample_orders(X)
    assert orders.ndim == 2
    runs = pattern_runs(D, orders)
    assert runs is not None and np.array_equal(runs.perm, orders[0])
    Zr = Zb * e[:, None]
    assert np.allclose(runs.correlations(Zr), D.T.astype(float) @ Zr, rtol=0, atol=1e-12 * np.abs(Zr).sum())
    atoms = loss_atoms(Zb, e, pattern_runs(D, orders))
    assert atoms is not None and atoms.Z.shape[0] < Zb.shape[0] / 2
    pattern, sign = np.arange(0, 8, 2), rng.choice([-1.0, 1.0], 4)
    F = block_features(Zb, D[:, pattern], sign)
    F_loss, e_loss, const = compress_loss(Zb, D, e, pattern, sign, atoms=atoms)
    X_ = rng.standard_normal(F.shape[1])
    assert np.sum((F_loss @ X_ - e_loss) ** 2) + const == pytest.approx(np.sum((F @ X_ - e) ** 2), rel=1e-11)
