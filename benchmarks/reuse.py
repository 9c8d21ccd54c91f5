"""What a grade program computes once and every solve reuses, against computing it per solve.

On a later grade's program of a 1-D scheme (:func:`mgdl_convex.problems.feature_grade_program`:
n samples, 32 ReLU features plus x, 256 patterns), in one process, back to back:

* **pricing**: kappa of all patterns for a residual (:func:`mgdl_convex.cones.pattern_kappa`),
  with the patterns' runs along the samples (:mod:`mgdl_convex.pattern_runs`) against the
  product with D, which every pricing round did before;
* **loss compression** of a restricted program of B blocks
  (:func:`mgdl_convex.compression.compress_loss`), from the program's atoms against from the n
  samples.

The one-off costs (encoding the runs, reducing the atoms) are printed beside them: they are paid
once per grade, the others at every pricing round or restricted solve (hundreds per scheme).
The results of both ways are compared (largest relative difference).

    python -m benchmarks.reuse                       # n = 2^18
    python -m benchmarks.reuse --samples 16384
"""

from __future__ import annotations

import argparse
import os
import time

from ._util import machine


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(samples: int, patterns: int, blocks: int, repeat: int) -> list[dict]:
    import numpy as np

    from mgdl_convex.compression import compress_loss, loss_atoms
    from mgdl_convex.cones import cone_rows, pattern_kappa
    from mgdl_convex.pattern_runs import pattern_runs
    from mgdl_convex.problems import feature_grade_program

    prog, x = feature_grade_program(n=samples, width=32, n_patterns=patterns)
    order = np.argsort(x)
    rows = cone_rows(prog.Zb, prog.D, order)
    rng = np.random.default_rng(0)
    r = prog.e - 0.5 * np.sin(3 * x)
    out = []

    t_runs, runs = _best(lambda: pattern_runs(prog.D, order), 1)
    t_new, k_new = _best(lambda: pattern_kappa(prog.Zb, prog.D, r, rows, threshold=np.inf, runs=runs), repeat)
    t_old, k_old = _best(lambda: pattern_kappa(prog.Zb, prog.D, r, rows, threshold=np.inf), repeat)
    diff = float(np.max(np.abs(k_new - k_old)) / np.max(np.abs(k_old)))
    out.append({"part": "pricing (all patterns)", "before_s": t_old, "now_s": t_new, "once_s": t_runs,
                "size": f"{runs.n_runs} runs for {prog.D.size} entries", "max_rel_diff": diff})

    t_atoms, atoms = _best(lambda: loss_atoms(prog.Zb, prog.e, runs), 1)
    pattern = rng.choice(prog.D.shape[1], blocks, replace=False)
    sign = rng.choice([-1.0, 1.0], blocks)
    t_new, c_new = _best(lambda: compress_loss(prog.Zb, prog.D, prog.e, pattern, sign, atoms=atoms), repeat)
    t_old, c_old = _best(lambda: compress_loss(prog.Zb, prog.D, prog.e, pattern, sign), repeat)
    X = rng.standard_normal(c_new[0].shape[1])
    loss_new = float(np.sum((c_new[0] @ X - c_new[1]) ** 2) + c_new[2])
    loss_old = float(np.sum((c_old[0] @ X - c_old[1]) ** 2) + c_old[2])
    out.append({"part": f"loss compression ({blocks} blocks)", "before_s": t_old, "now_s": t_new,
                "once_s": t_atoms, "size": f"{atoms.Z.shape[0]} atom rows for {samples} samples",
                "max_rel_diff": abs(loss_new - loss_old) / abs(loss_old)})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=2**18)
    p.add_argument("--patterns", type=int, default=256)
    p.add_argument("--blocks", type=int, default=64)
    p.add_argument("--repeat", type=int, default=3, help="best of this many timings")
    p.add_argument("--blas-threads", type=int, default=1, help="0 leaves BLAS at its default")
    a = p.parse_args(argv)
    if a.blas_threads > 0:  # before numpy is imported (run imports it)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(a.blas_threads)
    print(f"machine: {machine()}; n = {a.samples}, {a.patterns} patterns, BLAS threads: {a.blas_threads or 'default'}")
    print("\n| part | per solve before s | per solve now s | speed-up | once per grade s | size | max rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for r in run(a.samples, a.patterns, a.blocks, a.repeat):
        print(f"| {r['part']} | {r['before_s']:.3f} | {r['now_s']:.3f} | {r['before_s'] / r['now_s']:.1f}x | "
              f"{r['once_s']:.2f} | {r['size']} | {r['max_rel_diff']:.1e} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
