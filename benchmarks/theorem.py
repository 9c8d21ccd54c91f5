"""Theorem mode beside the plain scheme: grades and time to eps, and every claim's outcome.

For each target and scheme the run goes to eps = 0.1% of sup |f| (at most ``--grades``
grades; no grade starts once ``--budget`` seconds of fitting are spent), recording after
each grade the certified sup |e_k| and the time so far; the rows give the grades and the
time at which 10%, 1% and 0.1% were first certified (empty: not reached), then the outcome
of every claim of proofs_check at eps = 1%.

* plain: width 32 (carried input included), every grade exact at its width, 1024 samples
  (144 in 2-D);
* theorem: ``guarantee="pointwise"`` (1-D only), same width, 512 samples (``--theorem-samples``).

Targets: fangxu1, sin100, sqrt_kink, osc2d (2-D: plain only, theorem mode is 1-D) and the
built-in ``kink`` (|x - 1/3| + sin(3x)/2: a corner).  Each cell runs in
a fresh process with a time budget.

    python -m benchmarks.theorem --out bench-out/theorem            # every cell (long)
    python -m benchmarks.theorem --out bench-out/theorem --targets kink --schemes theorem

Fang-Xu setting 1 with exact grades beside the published losses: ``python -m benchmarks.fangxu``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._util import machine, measured, write_rows

TARGETS = ("fangxu1", "sin100", "sqrt_kink", "osc2d", "kink")
LEVELS = (0.1, 0.01, 0.001)


def run(name: str, scheme: str, grades: int, fit_budget: float = 600.0, theorem_samples: int = 512) -> dict:
    import time

    from mgdl_convex import MultigradeRegressor, get_target
    from proofs_check import CheckSettings, check_scheme, residual_sup, scheme_from_model

    target = get_target(name)
    if scheme == "theorem" and target.dim != 1:
        return {"skipped": "theorem mode is implemented for 1-D targets"}
    sup_f = residual_sup([], target, target.domain)[0].enclosure.lower
    elapsed, t0 = [], time.perf_counter()

    def monitor(k, result, model):
        elapsed.append(time.perf_counter() - t0)
        return elapsed[-1] > fit_budget  # stop adding grades once the fit's budget is spent

    samples = theorem_samples if scheme == "theorem" else (1024 if target.dim == 1 else 144)
    model = MultigradeRegressor(
        n_grades=grades, width=32, carry_input=True, eps=LEVELS[-1],
        guarantee="pointwise" if scheme == "theorem" else "none",
    )
    model.fit_target(target, samples=samples, monitor=monitor)
    sups = [g.sup_upper / sup_f for g in model.grades_]
    row = {"grades": len(model.grades_), "fit_s": elapsed[-1] if elapsed else 0.0, "stop": model.stop_reason_}
    for level in LEVELS:
        k = next((i for i, s in enumerate(sups) if s <= level), None)
        row[f"grades_to_{level:g}"] = None if k is None else k + 1
        row[f"time_to_{level:g}"] = None if k is None else elapsed[k]
    row["final_sup_rel"] = sups[-1] if sups else 1.0
    report = check_scheme(scheme_from_model(model, target), target, CheckSettings(eps_rel=0.01))
    row.update({c.id: f"{c.outcome} ({c.trust})" for c in report.claims})
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("bench-out/theorem"))
    p.add_argument("--targets", nargs="+", default=list(TARGETS))
    p.add_argument("--schemes", nargs="+", default=["plain", "theorem"])
    p.add_argument("--grades", type=int, default=12)
    p.add_argument("--budget", type=float, default=600.0, help="fit seconds per cell (no grade starts after it)")
    p.add_argument("--theorem-samples", type=int, default=512, help="samples per grade in theorem mode")
    args = p.parse_args(argv)
    rows = []
    for name in args.targets:
        for scheme in args.schemes:
            cell = measured(run, name, scheme, args.grades, args.budget, args.theorem_samples,
                            timeout=4 * args.budget + 600)
            row = {"target": name, "scheme": scheme, **cell}
            rows.append(row)
            print(json.dumps(row), flush=True)
    write_rows(args.out / "theorem.csv", rows)
    (args.out / "machine.txt").write_text(machine())
    print(f"wrote {args.out}/theorem.csv")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
