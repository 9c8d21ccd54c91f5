"""One grade, direct CVXPY + Clarabel versus the working-set formulation, in the same run.

The program is the direct formulation of a later grade: features of a random ReLU layer of width W on
x = linspace(0, 1, n), plus the carried input, target sin(2 pi x) + 0.3 sin(20 pi x),
beta = 1e-4, Gaussian gates de-duplicated and cut to P patterns
(:func:`mgdl_convex.problems.feature_grade_program`).  Each method runs in a fresh
process (peak memory is its own).  Both are certified with the same weak-duality
certificate.

    python -m benchmarks.grade_speed                 # n = 1024, W = 32, P = 230 (the README's first table)
    python -m benchmarks.grade_speed --n 256 --patterns 50
"""

from __future__ import annotations

import argparse

import numpy as np

from ._util import machine, measured, write_rows


def run(method: str, n: int, width: int, patterns: int) -> dict:
    from mgdl_convex.certificate import certify
    from mgdl_convex.problems import feature_grade_program
    from mgdl_convex.program import solve_direct
    from mgdl_convex.working_set import solve_working_set

    prog, x = feature_grade_program(n=n, width=width, n_patterns=patterns)
    order = np.argsort(x)
    if method == "direct":
        sol, st, nu = solve_direct(prog, "CLARABEL")
        stats, rounds = [st], 1
    else:
        res = solve_working_set(prog, order=order)
        sol, stats, info, nu = res.solution, res.stats, res.info, res.nu
        rounds = info.rounds
    cert = certify(prog, sol, nu, complete=False, order=order)
    return {
        "method": method,
        "n": n,
        "width": width,
        "patterns": prog.n_patterns,
        "objective": sol.objective(prog),
        "relative_gap": cert.relative_gap,
        "cone_violation": sol.cone_violation(prog),
        "solver_s": sum(s.solve_time for s in stats),
        "compile_s": sum(s.compile_time for s in stats),
        "iterations": sum(s.iterations or 0 for s in stats),
        "rounds": rounds,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--patterns", type=int, default=230)
    p.add_argument("--out", default="benchmarks/results/grade_speed.csv")
    a = p.parse_args(argv)
    rows = [measured(run, m, a.n, a.width, a.patterns) for m in ("direct", "working_set")]
    write_rows(a.out, rows)
    d, w = rows
    print(f"machine: {machine()}")
    print("| method | n | W | P | wall s | solver s | IPM iter. | peak RSS MB | objective | cert. rel. gap |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.get('method')} | {r.get('n')} | {r.get('width')} | {r.get('patterns')} | {r['wall_s']:.1f} | "
            f"{r.get('solver_s', float('nan')):.1f} | {r.get('iterations')} | "
            f"{r.get('peak_rss_mb', float('nan')):.0f} | "
            f"{r.get('objective', float('nan')):.10e} | {r.get('relative_gap', float('nan')):.1e} |"
        )
    if not (d.get("error") or w.get("error")):
        rel = abs(w["objective"] - d["objective"]) / d["objective"]
        print(f"\nspeed-up (wall, same run): {d['wall_s'] / w['wall_s']:.1f}x; objectives differ by {rel:.1e} relative")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
