"""Scale: a 1-D target on n samples with many grades of width 32; time and peak memory.

A large run: n = 16384, 8 grades of width 32; the goal is under 10 minutes and 4 GB.

    python -m benchmarks.scale                           # fangxu1, n = 16384, 8 grades
    python -m benchmarks.scale --samples 4096 --grades 4
"""

from __future__ import annotations

import argparse

from ._util import machine, measured, write_rows
from .fangxu import run


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", default="fangxu1")
    p.add_argument("--grades", type=int, default=8)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--samples", type=int, default=16384)
    p.add_argument("--out", default="benchmarks/results/scale.csv")
    a = p.parse_args(argv)
    r = measured(run, a.target, a.grades, a.width, a.samples, 1e-4)
    if r.get("error"):
        print("error:", r["error"])
        return 1
    print(f"machine: {machine()}; n = {a.samples}, {a.grades} grades of width {a.width}")
    print(f"total {r['total_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB")
    print("| grade | patterns | 0.5*MSE | time s | status |")
    print("|---|---|---|---|---|")
    for g in r["grades"]:
        print(f"| {g['grade']} | {g['n_patterns']} | {g['loss_after']:.4e} | {g['time_total']:.1f} | {g['status']} |")
    write_rows(a.out, [{**g, "peak_rss_mb": r["peak_rss_mb"]} for g in r["grades"]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
