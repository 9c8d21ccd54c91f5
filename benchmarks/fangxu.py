"""Whole multigrade runs: Fang-Xu settings 1 and 2 (arXiv 2507.20351) and Xu's sin(100 x) (arXiv 2302.00150).

Per grade: training 0.5*MSE, time, status, certified relative gap (against the whole
program), the width mode with the beta chosen and its path steps, beside the published
gradient-descent numbers.  ``--width-mode greedy`` runs the greedy cap instead of exact
width.  Setting 1 with 4 grades of width 32 on 1024 equispaced points is the README's
"Fang-Xu setting 1" row: the goal is under 60 s, each grade no worse than the published 0.5*MSE.
``--gd-steps N`` adds, per grade, what Adam (no weight decay, N full-batch steps, the same trainable
width) reaches on that grade's own input and residual: where it is not far below the exact grade,
the features the earlier grades left, not the grade's solve, bound the loss.

    python -m benchmarks.fangxu                       # setting 1
    python -m benchmarks.fangxu --gd-steps 50000      # and Adam on each grade's own problem
    python -m benchmarks.fangxu --target fangxu2
    python -m benchmarks.fangxu --target sin100 --samples 5000 --grades 3
"""

from __future__ import annotations

import argparse

from ._util import machine, measured, write_rows

PUBLISHED = {
    "fangxu1": {"loss": [0.4403, 0.1138, 3.185e-3, 8.389e-5], "time": [214, 1197, 2154, 2680]},
}


def grade_problems(model, target):
    """Per fitted grade k, its own problem ``(Zb, e)`` on its training samples: the input (the features of
    grades 1..k-1 with a bias column) and the residual they leave."""
    from proofs_check.network import grade_input

    for k, X in enumerate(model.training_samples(target)[: len(model.layers_)]):
        yield grade_input(model.layers_, X, target(X), k)


def same_input_gd(model, target, steps: int, lr: float) -> list[float]:
    """Per grade, the 0.5*MSE that Adam (no weight decay, ``steps`` full-batch steps) reaches on the grade's
    own problem (:func:`grade_problems`) with the same trainable width.  It separates what the grade's solve
    leaves from what the features of the earlier grades allow."""
    import numpy as np

    from .gradient import train_grade

    trainable = model.width - (model.n_features_in_ if model.carry_input else 0)  # the neurons a grade may use
    return [
        train_grade(Zb, e, trainable, 0.0, steps=steps, lr=lr, rng=np.random.default_rng(k))["best_objective"]
        for k, (Zb, e) in enumerate(grade_problems(model, target))
    ]


def run(
    target: str, grades: int, width: int, samples: int, beta_ratio: float, width_mode: str = "exact",
    gd_steps: int = 0, gd_lr: float = 1e-3,
) -> dict:
    import time

    from mgdl_convex import MultigradeRegressor, get_target

    t0 = time.perf_counter()
    model = MultigradeRegressor(
        n_grades=grades, width=width, carry_input=True, beta_ratio=beta_ratio, width_mode=width_mode
    )
    model.fit_target(get_target(target), samples=samples)
    total = time.perf_counter() - t0
    gd = same_input_gd(model, get_target(target), gd_steps, gd_lr) if gd_steps else []
    return {"total_s": total, "grades": model.summary(), "same_input_gd": gd}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", default="fangxu1")
    p.add_argument("--grades", type=int, default=4)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--samples", type=int, default=1024)
    p.add_argument("--beta-ratio", type=float, default=1e-4)
    p.add_argument("--width-mode", default="exact", choices=["exact", "greedy"])
    p.add_argument(
        "--gd-steps", type=int, default=0,
        help="also train each grade's own problem (same input, residual, width) by Adam for this many steps",
    )
    p.add_argument("--gd-lr", type=float, default=1e-3)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    r = measured(run, a.target, a.grades, a.width, a.samples, a.beta_ratio, a.width_mode, a.gd_steps, a.gd_lr)
    if r.get("error"):
        print("error:", r["error"])
        return 1
    pub = PUBLISHED.get(a.target, {"loss": [], "time": []})
    rows = []
    print(
        f"machine: {machine()}; total {r['total_s']:.1f} s (wall {r['wall_s']:.1f} s), "
        f"peak RSS {r['peak_rss_mb']:.0f} MB"
    )
    gd = r["same_input_gd"]
    print(
        "| grade | width | 0.5*MSE (ours) | published (GD) | time s (ours) | published s | status "
        "| cert. rel. gap | width mode | beta | path steps |" + (" Adam, same input |" if gd else "")
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if gd else ""))
    for i, g in enumerate(r["grades"]):
        pl = pub["loss"][i] if i < len(pub["loss"]) else None
        pt = pub["time"][i] if i < len(pub["time"]) else None
        same = {"same_input_gd_loss": gd[i], "same_input_gd_steps": a.gd_steps} if gd else {}
        rows.append(
            {
                "target": a.target,
                **{k: g[k] for k in ("grade", "width", "loss_after", "time_total", "status")},
                "published_loss": pl,
                "published_time": pt,
                "relative_gap": g["relative_gap"],
                "width_mode": g["width_mode"],
                "beta": g["beta"],
                "path_steps": g["path_steps"],
                **same,
            }
        )
        print(
            f"| {g['grade']} | {g['width']} | {g['loss_after']:.4e} | {pl if pl is not None else '-'} | "
            f"{g['time_total']:.1f} | {pt if pt is not None else '-'} | {g['status']} | {g['relative_gap']:.2g} | "
            f"{'greedy (capped)' if g['capped'] else g['width_mode']} | {g['beta']:.3g} | {g['path_steps']} |"
            + (f" {gd[i]:.3e} |" if gd else "")
        )
    write_rows(a.out or f"benchmarks/results/{a.target}.csv", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
