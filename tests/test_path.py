"""The regularisation path that picks an exact grade's beta (mgdl_convex.path), on fake solves.

A fake ``solve_at`` returns the neuron count ``k(beta)`` of a chosen function, so each test
knows the true smallest good beta and can check what the walk found and what it tried.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from mgdl_convex.path import PRECISION, solve_path

KAPPA, FLOOR, WIDTH = 1.0, 1e-4, 31


def fake(count, accurate=lambda beta: True):
    """``solve_at`` whose optimum at beta has ``count(beta)`` neurons; ``calls`` records the betas."""
    calls = []

    def solve_at(beta, start, cap):
        calls.append(beta)
        k = count(beta)
        outcome = SimpleNamespace(accurate=accurate(beta), overflow=k > cap, neurons=k, working_set=beta)
        return outcome, f"fake at {beta:.3g}"

    return solve_at, calls


def smooth(beta):  # k grows like 1 / beta: 31 neurons down to beta = 0.05
    return math.ceil(1.55 / beta) if beta > 0 else 10**9


def test_monotone_count_ends_within_the_precision_of_the_true_threshold():
    solve_at, calls = fake(smooth)
    found = solve_path(solve_at, KAPPA, FLOOR, WIDTH)
    true_smallest_good = 1.55 / WIDTH  # k(beta) <= 31 iff beta >= 0.05
    assert found.outcome.neurons <= WIDTH
    assert true_smallest_good <= found.beta <= true_smallest_good * PRECISION * (1 + 1e-9)
    assert found.steps == len(calls)
    bad_below = [b for b in calls if b < found.beta and smooth(b) > WIDTH]
    assert bad_below and max(bad_below) * PRECISION * (1 + 1e-9) >= found.beta


def test_the_step_halves_near_the_width_and_quarters_far_from_it():
    solve_at, calls = fake(smooth)
    solve_path(solve_at, KAPPA, FLOOR, WIDTH)
    # 0.25 (7 neurons: far) -> 0.0625 (25 neurons, more than half of 31: near) -> 0.03125 (bad)
    assert calls[:3] == pytest.approx([0.25, 0.0625, 0.0625 * math.sqrt(0.25)])
    # then two midpoints close the factor-2 bracket to 2^(1/4) = 4^(1/8)
    assert len(calls) == 5


def test_a_wide_bad_beta_is_never_tried_once_the_count_is_near_the_width():
    def count(beta):  # 25 neurons at a quarter of kappa, 57 at a sixteenth
        return 25 if beta >= 0.25 else (33 if beta >= 0.125 else 57)

    solve_at, calls = fake(count)
    found = solve_path(solve_at, KAPPA, FLOOR, WIDTH)
    assert min(calls) >= 0.125 * (1 - 1e-12)  # the 57-neuron solve is skipped
    assert found.beta == pytest.approx(0.25)  # 0.177 and 0.21 are bad here (33 neurons)


def test_an_uncertified_or_overflowing_solve_is_never_kept():
    uncertified = {0.0625}
    solve_at, calls = fake(smooth, accurate=lambda beta: not any(math.isclose(beta, u) for u in uncertified))
    found = solve_path(solve_at, KAPPA, FLOOR, WIDTH)
    assert found.beta > 0.0625  # 25 neurons there, but not certified: bad
    assert found.beta <= 0.0625 * PRECISION * (1 + 1e-9)  # the bisection stops just above it
    assert found.outcome.accurate

    solve_at, _ = fake(lambda beta: 10 * WIDTH)  # every solve overflows: the zero grade
    found = solve_path(solve_at, KAPPA, FLOOR, WIDTH)
    assert found.outcome is None


def test_from_a_bad_start_the_walk_goes_up_then_bisects():
    solve_at, calls = fake(smooth)
    found = solve_path(solve_at, KAPPA, FLOOR, WIDTH, start=0.01)
    assert calls[:3] == pytest.approx([0.01, 0.04, 0.16])  # up by 1 / ratio until good
    assert 0.05 <= found.beta <= 0.05 * PRECISION * (1 + 1e-9)


def test_the_floor_is_taken_when_it_is_good():
    solve_at, calls = fake(lambda beta: 3)
    found = solve_path(solve_at, KAPPA, 0.01, WIDTH)
    assert found.beta == pytest.approx(0.01)
    assert calls[-1] == pytest.approx(0.01)


@pytest.mark.parametrize("bad", [{"precision": 1.0}, {"precision": 0.5}, {"ratio": 1.0}, {"ratio": 0.0}])
def test_a_path_that_could_not_end_is_refused(bad):
    solve_at, calls = fake(smooth)
    with pytest.raises(ValueError, match="the path needs"):
        solve_path(solve_at, KAPPA, FLOOR, WIDTH, **bad)
    assert calls == []


def test_an_unconverged_path_step_is_logged_as_a_step_a_plain_solve_as_a_warning(monkeypatch, caplog):
    """A path step that stops short of convergence is kept only if certified: no warning for the
    user to act on.  The same stop in a solve at the floor (greedy mode) is the grade: a warning."""
    import logging
    from dataclasses import replace

    import numpy as np

    from mgdl_convex import MultigradeRegressor, grade
    from mgdl_convex.solvers import SolverInaccurateWarning

    options = grade._ws_options
    monkeypatch.setattr(grade, "_ws_options", lambda *a, **k: replace(options(*a, **k), max_rounds=1))
    x = np.linspace(0.0, 1.0, 40)[:, None]
    y = np.sin(2 * np.pi * x[:, 0]) + 0.3 * np.sin(12 * np.pi * x[:, 0])

    def stops():
        return [(r.levelno, r.getMessage()) for r in caplog.records if "without converging" in r.getMessage()]

    with caplog.at_level(logging.INFO, logger="mgdl_convex.grade"):
        MultigradeRegressor(n_grades=1, width=6, width_mode="exact").fit(x, y)
    assert stops() and all(level == logging.INFO and text.startswith("path step at beta") for level, text in stops())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="mgdl_convex.grade"), pytest.warns(SolverInaccurateWarning):
        MultigradeRegressor(n_grades=1, width=40, width_mode="greedy").fit(x, y)
    assert stops() and all(level == logging.WARNING for level, _ in stops())
