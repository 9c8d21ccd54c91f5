"""Long runs lose nothing; solver faults follow the retry policy; guards refuse with advice."""

import json
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from mgdl_convex import ModelFileError, MultigradeRegressor, SolverError
from mgdl_convex.cli import main
from mgdl_convex.faults import attempts_for, check_memory
from mgdl_convex.solvers import SolverInaccurateWarning

FIT = ["fit", "--target", "fangxu1", "--grades", "4", "--width", "6", "--samples", "60", "--n-patterns", "40"]


def test_a_run_killed_after_grade_2_resumes_to_the_uninterrupted_result(tmp_path):
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from mgdl_convex.cli import main
        from mgdl_convex.model import MultigradeRegressor
        save = MultigradeRegressor.save
        def save_then_die(model, path):
            save(model, path)
            if len(model.layers_) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        MultigradeRegressor.save = save_then_die
        sys.exit(main({["-q", *FIT, "--out", str(killed)]!r}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9  # SIGKILL, after grade 2 was written
    assert len(MultigradeRegressor.load(killed / "model.npz").layers_) == 2
    assert main(["-q", *FIT, "--out", str(killed), "--resume"]) == 0
    assert main(["-q", *FIT, "--out", str(whole)]) == 0
    a, b = MultigradeRegressor.load(killed / "model.npz"), MultigradeRegressor.load(whole / "model.npz")
    assert len(a.layers_) == len(b.layers_) == 4
    assert len(a.target_fingerprints_) == 4 and a.target_fingerprints_ == b.target_fingerprints_  # what each grade fit
    for la, lb in zip(a.layers_, b.layers_):
        np.testing.assert_array_equal(la.hidden, lb.hidden)
        np.testing.assert_array_equal(la.readout, lb.readout)
    x = np.linspace(0, 1, 101)[:, None]
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_resume_refuses_changed_options_and_a_missing_model(tmp_path, capsys):
    assert main(["-q", *FIT[:4], "1", *FIT[5:], "--out", str(tmp_path / "r")]) == 0
    assert main(["-q", *FIT, "--width", "7", "--out", str(tmp_path / "r"), "--resume"]) == 2
    assert "options differ" in capsys.readouterr().err
    assert main(["-q", *FIT, "--out", str(tmp_path / "none"), "--resume"]) == 2
    assert "no model.npz" in capsys.readouterr().err


def _x_y():
    x = np.linspace(0, 1, 40)
    return x[:, None], np.sin(5 * x)


def test_solver_failure_is_retried_then_falls_back(monkeypatch):
    """Fault injection: Clarabel's native solve reports a numerical error; the policy moves on."""
    import mgdl_convex.working_set as ws

    calls = []

    def broken(program, pattern, sign, rows, options=None, atoms=None):
        calls.append(options)
        raise SolverError("CLARABEL returned status 'solver_error' (injected)")

    monkeypatch.setattr(ws, "solve_blocks_native", broken)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SolverInaccurateWarning)  # ECOS may miss the 1e-6 certificate
        m = MultigradeRegressor(n_grades=1, width=5, width_mode="greedy").fit(*_x_y())  # one solve, no path
    g = m.grades_[0]
    assert len(calls) == 2  # the configured attempt and the robust one
    assert calls[0]["tol_gap_rel"] == 1e-10 and "max_iter" not in calls[0]  # tight enough for 1e-6
    assert calls[1]["max_iter"] == 400
    assert "CLARABEL: " in g.attempts and "CLARABEL(robust)" in g.attempts and "ECOS(fallback): " in g.attempts
    # the fallback's answer is kept, and called optimal only if its certificate says so
    assert (g.status == "optimal") == (g.kept_relative_gap <= 1e-6) and g.kept_relative_gap > -1e-6
    assert g.loss_after < g.loss_before


def test_the_first_attempt_takes_tight_tolerances_unless_the_user_sets_them():
    first = attempts_for("CLARABEL", {"tol_gap_rel": 1e-9, "max_iter": 50})[0][1]
    assert first == {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-9, "tol_feas": 1e-10, "max_iter": 50}
    assert attempts_for("SCS", None)[0][1] is None and attempts_for("ECOS", {"abstol": 1e-9})[0][1] == {"abstol": 1e-9}


def test_an_inaccurate_solver_status_with_a_certified_point_is_optimal(monkeypatch):
    """'optimal' means certified: a point the solver calls inaccurate but whose certificate meets the
    tolerance is optimal to it (weak duality), and the attempts line still records the solver's word."""
    import mgdl_convex.clarabel_native as cn
    import mgdl_convex.working_set as ws

    real = cn.solve_blocks_native

    def inaccurate(*args, **kw):
        sol, st, nu, m = real(*args, **kw)
        return sol, st.__class__(**{**st.to_dict(), "status": "optimal_inaccurate"}), nu, m

    monkeypatch.setattr(ws, "solve_blocks_native", inaccurate)
    m = MultigradeRegressor(n_grades=1, width=5, width_mode="greedy").fit(*_x_y())
    g = m.grades_[0]
    assert g.status == "optimal" and g.kept_relative_gap <= 1e-6
    assert g.attempts.endswith(": optimal (solver: optimal_inaccurate)")


def test_every_attempt_failing_keeps_finished_grades(monkeypatch):
    import mgdl_convex.grade as grade_mod

    X, y = _x_y()
    real = grade_mod._solve_once

    def fail_on_grade_2(program, *args):
        if program.q > 2:  # grade 2 (input: features, not x)
            raise SolverError("injected failure")
        return real(program, *args)

    monkeypatch.setattr(grade_mod, "_solve_once", fail_on_grade_2)
    m = MultigradeRegressor(n_grades=3, width=5)
    with pytest.raises(SolverError, match="every attempt failed"):
        m.fit(X, y)
    assert len(m.layers_) == 1 and "grade 2 failed" in m.stop_reason_


def test_time_limit_and_memory_guard():
    X, y = _x_y()
    with pytest.raises(SolverError, match="time limit"):
        MultigradeRegressor(n_grades=1, width=5, grade_time_limit=1e-9).fit(X, y)
    with pytest.raises(MemoryError, match="formulation='working_set'"):
        check_memory(100_000, 65, 50_000, 64, "direct")
    check_memory(1024, 34, 230, 31, "working_set")  # the benchmark's size fits


def test_loader_fuzz_raises_only_the_documented_error(tmp_path):
    X, y = _x_y()
    m = MultigradeRegressor(n_grades=2, width=4).fit(X, y)
    path = tmp_path / "m.npz"
    m.save(path)
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for trial in range(60):
        mutated = bytearray(data)
        for i in rng.integers(0, len(data), size=rng.integers(1, 20)):
            mutated[i] = rng.integers(0, 256)
        if trial % 3 == 0:
            mutated = mutated[: rng.integers(0, len(data))]
        bad = tmp_path / f"bad{trial}.npz"
        bad.write_bytes(bytes(mutated))
        try:
            MultigradeRegressor.load(bad)
        except ModelFileError:
            pass  # the documented error; any other exception fails the test


def test_corrupt_report_or_summary_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "summary.json").write_text("{not json")
    assert main(["check", str(tmp_path)]) == 1
    assert "corrupt" in capsys.readouterr().err
    (tmp_path / "summary.json").write_text(json.dumps({"options": {"target": "fangxu1"}}))
    assert main(["check", str(tmp_path)]) == 1
    assert "no model file" in capsys.readouterr().err


def _perturbed(real):
    """A solve that reports 'optimal' but returns a point far from the optimum (half the weights)."""

    def solve(*args, **kw):
        sol, st, nu, m = real(*args, **kw)
        return sol.__class__(sol.pattern, sol.sign, 0.5 * sol.U), st, nu, m

    return solve


def _greedy_monotone():
    return MultigradeRegressor(
        n_grades=1, width=5, carry_input=False, monotone=True, beta_ratio=0.1, width_mode="greedy"
    )


def test_a_large_certified_gap_is_retried(monkeypatch):
    """Bounded grade; the first attempt's solves say 'optimal' but are certifiably far off: the policy
    retries, and the robust attempt (Clarabel options with max_iter) is kept."""
    import mgdl_convex.working_set as ws

    real, bad = ws.solve_blocks_native, _perturbed(ws.solve_blocks_native)

    def first_attempt_bad(program, pattern, sign, rows, options=None, atoms=None):
        solve = real if "max_iter" in (options or {}) else bad
        return solve(program, pattern, sign, rows, options, atoms=atoms)

    monkeypatch.setattr(ws, "solve_blocks_native", first_attempt_bad)
    m = _greedy_monotone().fit(*_x_y())
    g = m.grades_[0]
    assert g.attempts.startswith("CLARABEL: certified gap") and g.attempts.endswith("CLARABEL(robust): optimal")
    assert g.status == "optimal" and g.kept_relative_gap <= 1e-6


def test_a_large_certified_gap_everywhere_is_never_reported_optimal(monkeypatch):
    import mgdl_convex.working_set as ws

    monkeypatch.setattr(ws, "solve_blocks", _perturbed(ws.solve_blocks))
    with pytest.warns(SolverInaccurateWarning, match="certified gap"):
        m = _greedy_monotone().fit(*_x_y())
    g = m.grades_[0]
    assert g.status == "optimal_inaccurate"
    assert g.attempts.count("certified gap") == 2 and "fallback" not in g.attempts  # the solver works
    assert g.kept_relative_gap > 1e-3

