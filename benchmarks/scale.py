"""Scale: whole schemes on many samples (time, peak memory), the previous figures re-measured beside them.

One run measures, each case in a fresh process (so each peak RSS is its own):

* ``1d``: fangxu1 on n = 2^18 grid samples, 8 grades of width 32 (grade 1 on all 2n - 1 threshold
  patterns; goals: 10 minutes, 4 GB);
* ``2d``: osc2d on a 256 x 256 grid, 4 grades of width 32 (goal: 10 minutes);
* ``1d-previous``: fangxu1 on n = 16384, 8 grades of width 32 (before: 368.4 s, 888 MB);
* ``grade``: one grade at n = 1024, the direct program against the working set
  (:mod:`benchmarks.grade_speed`; before: 612.9 s against 11.2 s).

BLAS is pinned to ``--blas-threads`` threads (default 1, as in the sweep workers: on a shared
machine an oversubscribed BLAS turned a 70 ms product into 10 s here); Clarabel runs on one
thread either way.  The load average before and after the run is printed: a figure taken while
other work ran is slower than the machine.

    python -m benchmarks.scale                                   # every case (long: see benchmarks/README.md)
    python -m benchmarks.scale --cases 1d --samples 4096 --grades 2
"""

from __future__ import annotations

import argparse
import os

from ._util import machine, measured, write_rows
from .fangxu import run as run_scheme
from .grade_speed import run as run_grade

PREVIOUS = {"1d-previous": {"wall_s": 368.4, "peak_rss_mb": 888.0}, "grade": {"direct": 612.9, "working_set": 11.2}}
CASES = ("1d", "2d", "1d-previous", "grade")


def _scheme_case(name, target, grades, width, samples, timeout) -> dict:
    r = measured(run_scheme, target, grades, width, samples, 1e-4, timeout=timeout)
    return {"case": name, "target": target, "samples": samples, "grades_asked": grades, "width": width, **r}


def _print_scheme(r: dict) -> None:
    what = f"{r['target']}, {r['samples']} samples, {r['grades_asked']} grades of width {r['width']}"
    print(f"\n#### {r['case']}: {what}")
    if r.get("error"):
        print(f"error: {r['error']} (wall {r['wall_s']:.0f} s)")
        return
    print(f"wall {r['wall_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB\n")
    print("| grade | samples | patterns | all | rounds | 0.5*MSE | time s | status | cert. rel. gap | capped |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for g in r["grades"]:
        print(
            f"| {g['grade']} | {g['n_samples']} | {g['n_patterns']} | {g['patterns_complete']} | "
            f"{g['working_set_rounds']} | {g['loss_after']:.4e} | {g['time_total']:.1f} | {g['status']} | "
            f"{g['relative_gap']:.2g} | {g['capped']} |"
        )


def _summary(results: dict) -> None:
    print("\n| case | wall s | peak RSS MB | before | ratio (before / now) |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        if name == "grade":
            d, w = r
            ok = not (d.get("error") or w.get("error"))
            now = f"direct {d['wall_s']:.1f} / working set {w['wall_s']:.1f}" if ok else "error"
            before = PREVIOUS["grade"]
            was = before["direct"] / before["working_set"]
            speedup = f"speed-up {d['wall_s'] / w['wall_s']:.1f}x now, {was:.1f}x before" if ok else "-"
            print(
                f"| grade n=1024 | {now} | {w.get('peak_rss_mb', float('nan')):.0f} | "
                f"direct {before['direct']} / working set {before['working_set']} | {speedup} |"
            )
            continue
        if r.get("error"):
            print(f"| {name} | {r['wall_s']:.0f} ({r['error']}) | - | - | - |")
            continue
        prev = PREVIOUS.get(name)
        before = f"{prev['wall_s']} s, {prev['peak_rss_mb']:.0f} MB" if prev else "-"
        ratio = "-"
        if prev:
            ratio = f"{prev['wall_s'] / r['wall_s']:.2f}x time, {prev['peak_rss_mb'] / r['peak_rss_mb']:.2f}x memory"
        print(f"| {name} | {r['wall_s']:.1f} | {r['peak_rss_mb']:.0f} | {before} | {ratio} |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    p.add_argument("--grades", type=int, default=8, help="grades of the 1-D case")
    p.add_argument("--samples", type=int, default=2**18, help="samples of the 1-D case")
    p.add_argument("--grades-2d", type=int, default=4)
    p.add_argument("--samples-2d", type=int, default=256 * 256)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--blas-threads", type=int, default=1, help="0 leaves BLAS at its default")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per case")
    p.add_argument("--out", default="benchmarks/results/scale.csv")
    a = p.parse_args(argv)
    if a.blas_threads > 0:  # the cases run in fresh processes, which read these at import
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(a.blas_threads)
    print(f"machine: {machine()}; BLAS threads: {a.blas_threads or 'default'}")
    print(f"load average (1, 5, 15 min) before: {os.getloadavg()}", flush=True)
    results: dict = {}
    rows: list[dict] = []
    for case in a.cases:  # each case printed and written as soon as it is done
        if case == "grade":
            methods = ("direct", "working_set")
            results[case] = [measured(run_grade, m, 1024, 32, 230, timeout=a.timeout) for m in methods]
            rows += [{"case": case, **x} for x in results[case]]
        else:
            target, grades, samples = {
                "1d": ("fangxu1", a.grades, a.samples),
                "2d": ("osc2d", a.grades_2d, a.samples_2d),
                "1d-previous": ("fangxu1", 8, 16384),
            }[case]
            r = results[case] = _scheme_case(case, target, grades, a.width, samples, a.timeout)
            _print_scheme(r)
            keep = {k: v for k, v in r.items() if k != "grades"}
            rows += [{**keep, **g} for g in r.get("grades", [])] or [keep]
        write_rows(a.out, rows)
        print(flush=True)
    print(f"load average (1, 5, 15 min) after: {os.getloadavg()}")
    _summary(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
