"""Benchmark cells: plain functions from a parameter dict to result rows (long format).

A cell either runs or is skipped with a stated reason (:func:`skip_reason`), the benchopt
way without the dependency.  Parts:

* ``solver``: one grade program of size (n, m, P), one solver, one formulation.
* ``gradient``: the same grade trained as a non-convex network (Adam or GD, restarts):
  time to reach the convex optimum's objective within 1e-3 relative, or the best reached.
* ``scheme``: a whole scheme (convex MGDL, gradient-trained MGDL, SGDL) on a target.
* ``scnn``: the pyscnn peer on one grade, when installed.
"""

from __future__ import annotations

import time

import numpy as np

from mgdl_convex.options import OPTIONAL, REQUIRED, Interval, OneOf, Option, Schema

__all__ = ["bench_program", "skip_reason", "run_cell", "sweep_cell", "SCHEMA", "PUBLISHED"]


def _key(allowed, default=OPTIONAL, help=""):
    return Option(None, allowed, default, help)


_COUNT, _POSITIVE = (Interval(int, 1),), (Interval(float, 0, None, "neither"),)

#: the keys of a benchmark cell (a sweep of kind "bench"): each part reads its own
SCHEMA = Schema(
    {
        "part": _key((OneOf("solver", "gradient", "scheme", "scnn"),), REQUIRED, "which benchmark"),
        "n": _key(_COUNT, help="samples of the grade program"),
        "m": _key(_COUNT, help="grade input width (1: x itself)"),
        "P": _key(_COUNT, help="activation patterns"),
        "solver": _key((str,)),
        "formulation": _key((OneOf("working_set", "direct"),)),
        "method": _key((str,)),
        "restarts": _key(_COUNT),
        "steps": _key(_COUNT),
        "lr": _key(_POSITIVE, help="learning rate"),
        "target": _key((str,)),
        "grades": _key(_COUNT),
        "width": _key(_COUNT),
        "samples": _key(_COUNT),
        "gd_steps": _key(_COUNT),
        "time_budget": _key(_POSITIVE, help="seconds"),
        "max_entries": _key(_POSITIVE, help="largest direct program, in constraint entries"),
    }
)

PUBLISHED = {
    "fangxu1": [0.4403, 0.1138, 3.185e-3, 8.389e-5],
}


def bench_program(n: int, m: int, P: int, beta: float = 1e-4, seed: int = 0):
    """(program, x): a first grade on 1-D x (m = 1) or a grade on m random ReLU features of x."""
    from mgdl_convex.patterns import sample_patterns
    from mgdl_convex.problems import feature_grade_program
    from mgdl_convex.program import GradeProgram

    if m == 1:
        x = np.linspace(0.0, 1.0, n)
        Zb = np.column_stack([x, np.ones(n)])
        pats = sample_patterns(Zb, 4 * P, np.random.default_rng(seed))
        e = np.sin(2 * np.pi * x) + 0.3 * np.sin(20 * np.pi * x)
        return GradeProgram(Zb=Zb, e=e, D=pats.D[:, :P], beta=beta), x
    return feature_grade_program(n=n, width=m, n_patterns=P, beta=beta, carry_input=False, random_state=seed)


def skip_reason(cell: dict) -> str | None:
    """Why a cell is not run, or None."""
    if cell["part"] in ("solver", "gradient"):
        entries = 6 * cell["n"] * (cell["m"] + 1) * cell["P"]
        if cell["part"] == "solver" and cell["formulation"] == "direct" and entries > cell.get("max_entries", 3e7):
            return f"direct program would hold {entries / 1e6:.0f}M constraint entries (> max_entries)"
    if cell["part"] == "solver" and cell["solver"] == "MOSEK":
        from mgdl_convex.solvers import probe_mosek

        reason = probe_mosek()
        if reason:
            return reason
    if cell["part"] == "scnn":
        try:
            import scnn  # noqa: F401
        except ImportError:
            return "pyscnn is not installed (pip install pyscnn; it needs torch)"
    return None


def _solver(cell):
    from mgdl_convex.certificate import certify
    from mgdl_convex.program import solve_direct
    from mgdl_convex.solvers import SolverError
    from mgdl_convex.working_set import WorkingSetOptions, solve_working_set

    t0 = time.perf_counter()
    prog, x = bench_program(cell["n"], cell["m"], cell["P"])
    build = time.perf_counter() - t0
    try:
        if cell["formulation"] == "direct":
            sol, st, nu = solve_direct(prog, cell["solver"])
            stats = [st]
        else:
            res = solve_working_set(prog, WorkingSetOptions(solver=cell["solver"]), np.argsort(x))
            sol, stats, nu = res.solution, res.stats, res.nu
    except SolverError as e:
        return [{"status": "error", "error": str(e)[:200], "build_s": build}]
    cert = certify(prog, sol, nu, complete=False, order=np.argsort(x))
    return [
        {
            "patterns_used": prog.n_patterns,
            "build_s": build,
            "compile_s": sum(s.compile_time for s in stats),
            "solve_s": sum(s.solve_time for s in stats),
            "iterations": sum(s.iterations or 0 for s in stats),
            "objective": sol.objective(prog),
            "relative_gap": cert.relative_gap,
            "status": "optimal" if all(s.status == "optimal" for s in stats) else stats[-1].status,
        }
    ]


def _gradient(cell):
    from mgdl_convex.working_set import solve_working_set

    from .gradient import train_grade

    prog, x = bench_program(cell["n"], cell["m"], cell["P"])
    sol = solve_working_set(prog, order=np.argsort(x)).solution
    opt = sol.objective(prog)
    width = max(2 * sol.n_blocks, 8)
    # the cell's budget, shared by the restarts (with a share kept for the convex solve above)
    per_restart = cell["time_budget"] / (cell["restarts"] + 1) if cell.get("time_budget") else None
    rows = []
    for r in range(cell["restarts"]):
        out = train_grade(
            prog.Zb,
            prog.e,
            width,
            prog.beta,
            cell["method"],
            cell["steps"],
            cell.get("lr", 1e-2),
            np.random.default_rng(r),
            target=opt * (1 + 1e-3),
            time_budget=per_restart,
        )
        rows.append(
            {
                "restart": r,
                "convex_optimum": opt,
                "width": width,
                **out,
                "relative_excess": out["best_objective"] / opt - 1,
            }
        )
    return rows


def _scheme(cell):
    from mgdl_convex import MultigradeRegressor, get_target
    from mgdl_convex.targets import sample_grid

    from .gradient import train_mgdl, train_sgdl

    target = get_target(cell["target"])
    X = sample_grid(target, cell["samples"])
    y = target(X)
    pub = PUBLISHED.get(cell["target"], [])
    if cell["method"] == "convex":
        m = MultigradeRegressor(n_grades=cell["grades"], width=cell["width"], carry_input=True, random_state=0)
        m.fit_target(target, samples=cell["samples"])
        rows = [
            {"grade": g.grade, "loss_after": g.loss_after, "seconds": g.time_total, "status": g.status}
            for g in m.grades_
        ]
    elif cell["method"] == "gd_mgdl":
        rows = train_mgdl(X, y, cell["grades"], cell["width"], cell["gd_steps"])
    else:
        out = train_sgdl(X, y, cell["grades"], cell["width"], cell["gd_steps"] * cell["grades"])
        rows = [{"grade": cell["grades"], "loss_after": out["loss"], "seconds": out["seconds"]}]
    for r in rows:
        k = r["grade"] - 1
        r["published_loss"] = pub[k] if k < len(pub) else None
    return rows


def _scnn(cell):  # pragma: no cover - needs the optional peer
    """scnn's AL (exact program) or R-FISTA (gated relaxation) on the patterns of its own gates.

    Its conventions are matched to ours: squared loss over 2n, lambda = beta, no column
    normalisation, float64, the bias column given as a feature.  Its solution is re-evaluated
    under our objective, with the cone violation, beside our exact optimum of the same program.
    """
    import scnn.optimize as so
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU, ConvexReLU
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL, RFISTA

    from mgdl_convex.program import BlockSolution, GradeProgram
    from mgdl_convex.working_set import solve_working_set

    prog, x = bench_program(cell["n"], cell["m"], cell["P"])
    X, y = prog.Zb, prog.e[:, None]
    gates = np.random.default_rng(0).standard_normal((X.shape[1], cell["P"]))
    exact = cell["solver"] == "AL"
    model = ConvexReLU(gates, c=1, bias=False) if exact else ConvexGatedReLU(gates, c=1, bias=False)
    solver = AL(model) if exact else RFISTA(model)
    t0 = time.perf_counter()
    model, _ = so.optimize_model(
        model,
        solver,
        Metrics(),
        X,
        y,
        regularizer=NeuronGL1(prog.beta),
        return_convex=True,
        unitize_data=False,
        dtype="float64",
    )
    seconds = time.perf_counter() - t0
    G = np.asarray(model.G)
    D = X @ G > 0
    ours_prog = GradeProgram(Zb=X, e=prog.e, D=D, beta=prog.beta)
    P = D.shape[1]
    if exact:
        U, V = (np.asarray(p)[0] for p in model.parameters)  # (P, q) each
        blocks = (np.concatenate([np.arange(P), np.arange(P)]), np.concatenate([np.ones(P), -np.ones(P)]))
        theirs = BlockSolution(*blocks, np.vstack([U, V]).T)
    else:  # the gated relaxation has one unconstrained block per pattern: its own, different program
        theirs = BlockSolution(np.arange(P), np.ones(P), np.asarray(model.parameters[0])[0].T)
    t1 = time.perf_counter()
    ours = solve_working_set(ours_prog, order=np.argsort(x)).solution
    ours_seconds = time.perf_counter() - t1
    obj, opt = theirs.objective(ours_prog), ours.objective(ours_prog)
    return [
        {
            "seconds": seconds,
            "status": "finished" if exact else "finished (gated relaxation)",
            "objective": obj,
            "convex_optimum": opt,
            "relative_excess": obj / opt - 1,
            "cone_violation": theirs.cone_violation(ours_prog) if exact else None,
            "ours_seconds": ours_seconds,
            "patterns_used": P,
        }
    ]


RUNNERS = {"solver": _solver, "gradient": _gradient, "scheme": _scheme, "scnn": _scnn}


def run_cell(cell: dict) -> dict:
    """Run one cell (in the calling process) and return {"rows": [...]}."""
    return {"rows": RUNNERS[cell["part"]](cell)}


def sweep_cell(config: dict, out, time_limit: float | None = None) -> list[dict]:
    """A cell of a ``kind = "bench"`` sweep (:func:`mgdl_convex.sweep.run_sweep`): its result rows.

    The cell bounds itself with its ``time_budget`` where its part does; ``time_limit`` is not used.
    """
    return run_cell(config)["rows"]
