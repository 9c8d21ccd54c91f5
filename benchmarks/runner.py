"""``mgdl-convex bench CONFIG``: expand a config into cells, run each under a budget, write results.

Each cell runs in a fresh process with the section's ``time_budget`` (seconds), or, with
``--workers`` / ``--scheduler``, as a cell of a Dask sweep (:mod:`mgdl_convex.sweep`); a cell that
would exceed a size budget or whose solver is missing is skipped with its reason.  Results are
long-format rows (one per cell and result row) in ``OUT/results.csv``; plots are drawn from
that table only; the summary tables are printed in Markdown.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from mgdl_convex.options import OptionError, read_toml

from ._util import machine, measured, write_rows
from .cells import run_cell, skip_reason, sweep_cell

__all__ = ["expand", "run_config", "load_config"]

SECTIONS = {
    "solver": {"n", "m", "patterns", "solvers", "formulations", "time_budget", "max_entries"},
    "gradient": {"n", "m", "patterns", "methods", "restarts", "steps", "lr", "time_budget"},
    "scheme": {"targets", "methods", "grades", "width", "samples", "gd_steps", "time_budget"},
    "scnn": {"n", "m", "patterns", "solvers", "time_budget"},
}


def load_config(name_or_path: str) -> dict:
    path = Path(name_or_path)
    if not path.exists():
        path = Path(__file__).parent / "configs" / f"{name_or_path}.toml"
    if not path.exists():
        raise OptionError(f"no benchmark config {name_or_path!r}: give a TOML file or one of small, full")
    config = read_toml(path)
    for section, keys in config.items():
        if section not in SECTIONS:
            raise OptionError(f"unknown section [{section}] in {path}; known: {', '.join(SECTIONS)}")
        unknown = set(keys) - SECTIONS[section]
        if unknown:
            raise OptionError(f"unknown key(s) {sorted(unknown)} in [{section}] of {path}")
    return config


def expand(config: dict) -> list[dict]:
    cells = []
    if "solver" in config:
        s = config["solver"]
        for n, m, P, solver, form in itertools.product(s["n"], s["m"], s["patterns"], s["solvers"], s["formulations"]):
            cells.append(
                {
                    "part": "solver",
                    "n": n,
                    "m": m,
                    "P": P,
                    "solver": solver,
                    "formulation": form,
                    "time_budget": s.get("time_budget", 300),
                    "max_entries": s.get("max_entries", 3e7),
                }
            )
    if "gradient" in config:
        s = config["gradient"]
        for n, m, P, method in itertools.product(s["n"], s["m"], s["patterns"], s["methods"]):
            cells.append(
                {
                    "part": "gradient",
                    "n": n,
                    "m": m,
                    "P": P,
                    "method": method,
                    "restarts": s["restarts"],
                    "steps": s["steps"],
                    "lr": s.get("lr", 1e-2 if method == "adam" else 5e-2),
                    "time_budget": s.get("time_budget", 120),
                }
            )
    if "scheme" in config:
        s = config["scheme"]
        for target, method in itertools.product(s["targets"], s["methods"]):
            cells.append(
                {
                    "part": "scheme",
                    "target": target,
                    "method": method,
                    "grades": s["grades"],
                    "width": s["width"],
                    "samples": s["samples"],
                    "gd_steps": s["gd_steps"],
                    "time_budget": s.get("time_budget", 1800),
                }
            )
    if "scnn" in config:
        s = config["scnn"]
        for n, m, P, solver in itertools.product(s["n"], s["m"], s["patterns"], s["solvers"]):
            cells.append(
                {"part": "scnn", "n": n, "m": m, "P": P, "solver": solver, "time_budget": s.get("time_budget", 300)}
            )
    return cells


def _agreement(rows: list[dict]) -> None:
    """Solver rows: relative difference to the most accurate solution of the same program."""
    groups: dict = {}
    for r in rows:
        if r["part"] == "solver" and r.get("objective") is not None and r.get("relative_gap") is not None:
            groups.setdefault((r["n"], r["m"], r["P"]), []).append(r)
    for group in groups.values():
        best = min(group, key=lambda r: abs(r["relative_gap"]))
        for r in group:
            r["agreement"] = abs(r["objective"] - best["objective"]) / abs(best["objective"])


def run_config(config: dict, out: Path, progress=print, client=None) -> list[dict]:
    """Run every cell; with a Dask ``client`` the cells go through the sweep engine instead."""
    cells = expand(config)
    rows = []
    out.mkdir(parents=True, exist_ok=True)
    if client is not None:
        return _run_on_dask(cells, out, progress, client)
    for i, cell in enumerate(cells, 1):
        label = ", ".join(f"{k}={v}" for k, v in cell.items() if k not in ("time_budget", "max_entries"))
        reason = skip_reason(cell)
        if reason:
            rows.append({**cell, "status": "skipped", "skip_reason": reason})
            progress(f"[{i}/{len(cells)}] {label}: skipped ({reason})")
            continue
        res = measured(run_cell, cell, timeout=cell["time_budget"])
        if res.get("error"):
            rows.append(
                {
                    **cell,
                    "status": "error" if "budget" not in res["error"] else "timeout",
                    "skip_reason": res["error"],
                    "wall_s": res.get("wall_s"),
                }
            )
            progress(f"[{i}/{len(cells)}] {label}: {res['error']}")
            continue
        for r in res["rows"]:
            rows.append({**cell, **r, "wall_s": res["wall_s"], "peak_rss_mb": res["peak_rss_mb"]})
        progress(f"[{i}/{len(cells)}] {label}: {res['wall_s']:.1f} s")
        write_rows(out / "results.partial.csv", rows)  # a long run keeps what it has finished
    (out / "results.partial.csv").unlink(missing_ok=True)
    return _finish(rows, out)


def _finish(rows: list[dict], out: Path) -> list[dict]:
    """Agreement column, results.csv, plots from it, summary.md."""
    from .plots import plot_results

    _agreement(rows)
    write_rows(out / "results.csv", rows)
    plot_results(out / "results.csv", out)
    (out / "summary.md").write_text(markdown_tables(rows))
    return rows


def _run_on_dask(cells, out: Path, progress, client) -> list[dict]:
    """The same cells as a ``kind = "bench"`` sweep (mgdl_convex.sweep): a cluster runs them."""
    from mgdl_convex.sweep import run_sweep
    from mgdl_convex.sweep_spec import SweepSpec

    rows, runnable = [], []
    for cell in cells:
        reason = skip_reason(cell)
        if reason:
            rows.append({**cell, "status": "skipped", "skip_reason": reason})
        else:
            runnable.append(cell)
    spec = SweepSpec(kind="bench", cells=runnable)
    for res in run_sweep(spec, out / "sweep", sweep_cell, client=client, progress=progress):
        if res["status"] != "ok":
            rows.append({**res["config"], "status": "error", "skip_reason": res.get("error")})
        for r in res.get("rows", []):
            rows.append({**res["config"], **r, "wall_s": res["seconds"]})
    return _finish(rows, out)


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return "-" if v is None else str(v)


def markdown_tables(rows: list[dict]) -> str:
    cols = {
        "solver": [
            "n",
            "m",
            "P",
            "solver",
            "formulation",
            "status",
            "compile_s",
            "solve_s",
            "iterations",
            "objective",
            "agreement",
            "relative_gap",
            "peak_rss_mb",
            "skip_reason",
        ],
        "gradient": [
            "n",
            "m",
            "P",
            "method",
            "restart",
            "convex_optimum",
            "best_objective",
            "relative_excess",
            "time_to_target",
            "seconds",
            "steps",
        ],
        "scheme": ["target", "method", "grade", "loss_after", "published_loss", "seconds", "status", "skip_reason"],
        "scnn": [
            "n",
            "m",
            "P",
            "solver",
            "status",
            "seconds",
            "objective",
            "convex_optimum",
            "relative_excess",
            "cone_violation",
            "ours_seconds",
            "skip_reason",
        ],
    }
    out = [f"Machine: {machine()}", ""]
    for part, keys in cols.items():
        part_rows = [r for r in rows if r["part"] == part]
        if not part_rows:
            continue
        out += [f"### {part}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        out += ["| " + " | ".join(_fmt(r.get(k)) for k in keys) + " |" for r in part_rows]
        out.append("")
    return "\n".join(out)
