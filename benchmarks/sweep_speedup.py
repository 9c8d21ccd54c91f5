"""Speed-up of a 16-cell sweep with 1 versus 2 local Dask workers, in one run.

Cells: kind "fit", fangxu1, 3 grades, widths x beta ratios x seeds (16 cells of a few seconds).
Also prints what a 100-cell study of the default verify cell would cost, from the mean cell
time measured here.

    python -m benchmarks.sweep_speedup
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from ._util import machine


def main(argv=None) -> int:
    from mgdl_convex.options import FIT
    from mgdl_convex.runs import fit_cell
    from mgdl_convex.sweep import close_client, make_client, run_sweep
    from mgdl_convex.sweep_spec import parse_spec

    spec = parse_spec(
        {
            "kind": "fit",
            "base": {"target": "fangxu1", "grades": 3, "samples": [512], "n_patterns": 128},
            "grid": {"width": [8, 16], "beta_ratio": [1e-3, 1e-4], "seed": [0, 1, 2, 3]},
        },
        {"fit": FIT},
    )
    assert len(spec.cells) == 16
    times = {}
    cell_seconds = []
    for workers in (1, 2):
        out = Path(tempfile.mkdtemp())
        client = make_client(workers=workers)
        try:
            t0 = time.perf_counter()
            results = run_sweep(spec, out, fit_cell, client=client, progress=lambda m: None)
            times[workers] = time.perf_counter() - t0
        finally:
            close_client(client)
        cell_seconds += [r["seconds"] for r in results]
        assert all(r["status"] == "ok" for r in results)
        shutil.rmtree(out)
    print(f"machine: {machine()}")
    print("| workers | 16 cells, wall s | speed-up |")
    print("|---|---|---|")
    for w in (1, 2):
        print(f"| {w} | {times[w]:.1f} | {times[1] / times[w]:.2f}x |")
    print(f"\nmean cell time {statistics.mean(cell_seconds):.1f} s (fit cells)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
