"""The benchmark runner: every part runs (or is skipped with its reason) and writes its outputs."""

import csv

import pytest

from benchmarks.cells import bench_program
from benchmarks.runner import expand, load_config, run_config
from mgdl_convex.cli import main
from mgdl_convex.patterns import enumerate_patterns
from mgdl_convex.program import GradeProgram, solve_direct

TINY = {
    "solver": {
        "n": [64],
        "m": [1],
        "patterns": [8],
        "solvers": ["CLARABEL", "SCS", "MOSEK"],
        "formulations": ["working_set", "direct"],
        "time_budget": 60,
    },
    "gradient": {
        "n": [32],
        "m": [1],
        "patterns": [8],
        "methods": ["adam"],
        "restarts": 1,
        "steps": 300,
        "time_budget": 30,
    },
    "scheme": {
        "targets": ["fangxu1"],
        "methods": ["convex", "gd_mgdl"],
        "grades": 1,
        "width": 6,
        "samples": 64,
        "gd_steps": 100,
        "time_budget": 60,
    },
    "scnn": {"n": [64], "m": [1], "patterns": [8], "solvers": ["AL"], "time_budget": 30},
}


def test_tiny_benchmark_runs_every_part(tmp_path):
    rows = run_config(TINY, tmp_path, progress=lambda line: None)
    parts = {r["part"] for r in rows}
    assert parts == {"solver", "gradient", "scheme", "scnn"}
    solved = [r for r in rows if r["part"] == "solver" and r["status"] == "optimal"]
    assert {(r["solver"], r["formulation"]) for r in solved} >= {("CLARABEL", "working_set"), ("CLARABEL", "direct")}
    # every solver that ran agrees with the most accurate solution of the same program
    assert all(r["agreement"] < 1e-4 for r in solved)
    skipped = [r for r in rows if r.get("status") == "skipped"]
    assert all(r["skip_reason"] for r in skipped)
    # no network, of any width, beats the program over ALL patterns (1-D input: the non-convex grade's
    # global optimum), solved here independently (direct CVXPY form); zero weights bound the optimum above
    grad = [r for r in rows if r["part"] == "gradient"]
    prog, _ = bench_program(32, 1, 8)
    every = GradeProgram(Zb=prog.Zb, e=prog.e, D=enumerate_patterns(prog.Zb).D, beta=prog.beta)
    best = solve_direct(every, "CLARABEL")[0].objective(every)
    assert grad and all(r["best_objective"] >= best * (1 - 1e-6) for r in grad)
    assert all(best * (1 - 1e-6) <= r["convex_optimum"] <= prog.e @ prog.e / (2 * prog.n) for r in grad)
    with open(tmp_path / "results.csv") as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    assert (tmp_path / "summary.md").read_text().count("###") == 4
    assert (tmp_path / "time_vs_size.png").exists() and (tmp_path / "loss_vs_grade.png").exists()


def test_config_errors_are_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[solver]\nn = [1]\nsizes = 3\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_config(str(bad))
    bad.write_text("[solvers]\n")
    with pytest.raises(ValueError, match="unknown section"):
        load_config(str(bad))
    assert len(expand(load_config("small"))) > 10


@pytest.mark.slow
def test_small_config_through_the_cli(tmp_path):
    assert main(["bench", "small", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "results.csv").exists()


def test_bench_cells_run_as_a_dask_sweep(tmp_path):
    from mgdl_convex.sweep import make_client

    config = {"solver": {**TINY["solver"], "solvers": ["CLARABEL"], "formulations": ["working_set", "direct"]}}
    client = make_client(workers=2)
    try:
        rows = run_config(config, tmp_path, progress=lambda line: None, client=client)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    solved = [r for r in rows if r.get("status") == "optimal"]
    assert len(solved) == 2 and all(r["agreement"] < 1e-6 for r in solved)
    assert (tmp_path / "sweep" / "summary.csv").exists()


def test_reuse_benchmark_compares_the_same_numbers():
    """benchmarks.reuse times two ways of computing one thing: they must agree."""
    from benchmarks.reuse import run

    parts = run(samples=3000, patterns=64, blocks=8, repeat=1)
    assert [p["part"].split(" ")[0] for p in parts] == ["pricing", "loss"]
    for p in parts:
        assert p["max_rel_diff"] < 1e-10 and p["before_s"] > 0 and p["now_s"] > 0


def test_theorem_bench_times_a_run_that_stops_at_eps(monkeypatch):
    """A run that reaches eps is timed at its last grade too (the model used to stop at eps
    before calling the monitor, and the benchmark raised IndexError and lost the cell)."""
    import benchmarks.theorem as theorem

    monkeypatch.setattr(theorem, "LEVELS", (0.5, 0.3))  # eps = 0.3 sup |f|: reached at grade 1
    row = theorem.run("kink", "plain", grades=3, fit_budget=600.0)
    assert row["grades"] == 1 and row["stop"].startswith("certified sup")
    assert row["grades_to_0.3"] == 1 and 0 < row["time_to_0.3"] == row["fit_s"]
    assert row["final_sup_rel"] <= 0.3


def test_fangxu_same_input_gd_trains_each_grades_own_problem():
    import numpy as np

    from benchmarks.fangxu import grade_problems, same_input_gd
    from mgdl_convex import MultigradeRegressor, get_target

    target = get_target("fangxu1")
    model = MultigradeRegressor(n_grades=2, width=6, n_patterns=32).fit_target(target, samples=[48, 64])
    problems = list(grade_problems(model, target))
    assert len(problems) == len(model.grades_) == 2
    for (Zb, e), grade in zip(problems, model.grades_):  # each grade on its own samples
        assert Zb.shape == (grade.n_samples, grade.input_dim + 1) and np.all(Zb[:, -1] == 1.0)
        assert e @ e / (2 * len(e)) == pytest.approx(grade.loss_before, rel=1e-9)  # the residual the grade saw
    losses = same_input_gd(model, target, steps=300, lr=1e-2)
    assert len(losses) == 2 and all(np.isfinite(v) and v > 0 for v in losses)
    assert losses[0] < model.grades_[0].loss_before  # 300 Adam steps on a 1-D fit beat the zero network
