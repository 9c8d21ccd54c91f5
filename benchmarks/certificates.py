"""What the solver-independent checks cost: the exact 2-D kappa and the rigorous 2-D claims.

1. ``kappa_upper_2d`` (the arrangement sweep behind the 2-D first-grade certificate) on k x k
   grids (degenerate: collinear everywhere) against the brute force it replaces in the same
   run: every pattern enumerated, each cone's maximum by exact projection (NNLS).  The brute
   force runs only where it fits the time budget.
2. ``check_scheme`` on a 3-grade osc2d scheme, and each of its rigorous parts alone: certified
   sup per grade, C1 per grade, the L^p enclosures of every grade (each to the checker's relative
   tolerance or box budget), C4's exact certificate (grade 1) and refutation searches.

    python -m benchmarks.certificates [--grids 8 12 20 32] [--brute-max 400]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ._util import machine, measured


def _kappa_cell(side: int, method: str) -> dict:
    from proofs_check.kappa2d import kappa_upper_2d

    P = np.array([[a, b] for a in np.linspace(0, 1, side) for b in np.linspace(0, 1, side)])
    lam = np.random.default_rng(side).standard_normal(len(P)) * 1e-2
    t0 = time.perf_counter()
    if method == "sweep":
        kappa = kappa_upper_2d(P, lam)["kappa_upper"]
        patterns = None
    else:
        from mgdl_convex.cones import cone_rows, pattern_kappa
        from mgdl_convex.patterns import enumerate_patterns

        Zb = np.column_stack([P, np.ones(len(P))])
        D = enumerate_patterns(Zb).D
        kappa = float(np.nanmax(pattern_kappa(Zb, D, lam, cone_rows(Zb, D, None))))
        patterns = D.shape[1]
    return {"kappa": kappa, "seconds": time.perf_counter() - t0, "patterns": patterns}


def _check_cell() -> dict:
    """The parts of the rigorous 2-D check, each timed alone through proofs_check's public functions."""
    from mgdl_convex import MultigradeRegressor, get_target
    from proofs_check import CheckSettings, check_scheme, scheme_from_model
    from proofs_check.boundsnd import prove_monotone_nd, sup_abs_nd
    from proofs_check.drivers import lp_norms_boxes
    from proofs_check.network import grade_input
    from proofs_check.optimality import first_grade_certificate, refute_optimality

    target = get_target("osc2d")
    m = MultigradeRegressor(n_grades=3, width=26, carry_input=True, beta_ratio=0.01, random_state=0)
    m.fit_target(target, samples=[196, 400])
    scheme = scheme_from_model(m, target)
    s = CheckSettings()
    out = {}
    t0 = time.perf_counter()
    for k in range(4):
        sup_abs_nd(scheme.layers, target, scheme.domain, k, rtol=s.sup_rtol_2d, max_boxes=s.sup_boxes_2d)
    out["sup_4_grades_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for k in range(1, 4):
        prove_monotone_nd(scheme.layers, target, scheme.domain, k, s.c1_boxes_2d)
    out["c1_3_grades_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, unresolved = lp_norms_boxes(scheme, target, s)  # refined until consecutive grades separate, as check_scheme does
    out["lp_4_grades_s"] = time.perf_counter() - t0
    out["lp_unresolved_grades"] = str(list(unresolved))
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    for k, ((X, y), layer, g) in enumerate(zip(scheme.samples, scheme.layers, scheme.records)):
        Zb, e = grade_input(scheme.layers, X, y, k)
        if k == 0:  # 2-D samples: the exact certificate over all patterns
            first_grade_certificate(layer.hidden, layer.readout, X, e, g.beta)
        else:
            beta, rtol, starts = g.beta, s.optimality_rtol, s.refutation_starts
            refute_optimality(Zb, e, layer.hidden, layer.readout, beta, rtol, rng, starts)
    out["c4_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = check_scheme(scheme, target, s)
    out["check_scheme_s"] = time.perf_counter() - t0
    out["outcomes"] = ", ".join(f"{c.id} {c.outcome} ({c.trust})" for c in report.claims)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", type=int, nargs="+", default=[8, 12, 20, 32])
    ap.add_argument("--brute-max", type=int, default=400, help="largest n for the brute force")
    args = ap.parse_args(argv)
    print(f"machine: {machine()}\n")
    print("| grid | n | sweep s | brute force s | patterns | kappa (sweep) | kappa (brute) | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for side in args.grids:
        sweep = measured(_kappa_cell, side, "sweep")
        n = side * side
        brute = measured(_kappa_cell, side, "brute", timeout=1800) if n <= args.brute_max else {}
        ratio = brute["seconds"] / sweep["seconds"] if brute.get("seconds") else None
        print(
            f"| {side}x{side} | {n} | {sweep.get('seconds', float('nan')):.2f} | "
            f"{brute.get('seconds', float('nan')):.2f} | {brute.get('patterns') or '-'} | "
            f"{sweep.get('kappa', float('nan')):.12e} | {brute.get('kappa', float('nan')):.12e} | "
            f"{f'{ratio:.0f}x' if ratio else '-'} |"
        )
    cell = measured(_check_cell)
    print("\nosc2d, 3 grades of width 26 (24 trained + 2 carried), samples 196 then 400:")
    for key, value in cell.items():
        print(f"  {key}: {value if not isinstance(value, float) else round(value, 2)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
