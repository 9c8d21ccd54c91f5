"""What the rigorous checks cost on a long 1-D scheme and on a 3-D scheme.

1. ``1d``: ``check_scheme`` (C1-C4, Sollya off) of a 16-grade width-32 fangxu1 scheme.  To compare
   with an older checker, run the same command with that checker's ``proofs_check`` first on
   ``PYTHONPATH`` (the scheme is fitted once and saved with ``--model``, so both check the same one).
2. ``3d``: the certified ``sup |e_k|`` (k = 0..4) and the C1 searches (k = 1..4) of a 4-grade
   width-32 osc3d scheme on [0, 1]^3, each timed with its box count and enclosure width, and the
   L^p enclosures of every grade after a fixed box budget.

    python -m benchmarks.checks 1d --model DIR/long1d.npz
    python -m benchmarks.checks 3d --model DIR/osc3d.npz [--sup-boxes N] [--c1-boxes N] [--lp-boxes N]

Each part runs in a fresh process (wall time and peak memory measured); fitting is not timed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ._util import machine, measured


def _model(kind: str, path: Path):
    """The benchmark's scheme: loaded from ``path`` if it exists, else fitted and saved there."""
    from mgdl_convex import MultigradeRegressor, get_target

    if kind == "1d":
        target = get_target("fangxu1")
        if path.exists():
            return MultigradeRegressor.load(path), target
        # the greedy cap, as when this benchmark was first measured (exact width takes over 30 minutes here)
        m = MultigradeRegressor(n_grades=16, width=32, beta_ratio=1e-3, width_mode="greedy", random_state=0)
        m.fit_target(target, samples=1024)
    else:
        target = get_target("osc3d")
        if path.exists():
            return MultigradeRegressor.load(path), target
        m = MultigradeRegressor(n_grades=4, width=32, patterns="sampled", n_patterns=200, random_state=0)
        m.fit_target(target, samples=512)  # an 8 x 8 x 8 grid
    path.parent.mkdir(parents=True, exist_ok=True)
    m.save(path)
    return m, target


def _check_1d(path: str) -> dict:
    from proofs_check import CheckSettings, check_scheme, scheme_from_model

    m, target = _model("1d", Path(path))
    scheme = scheme_from_model(m, target)
    t0, c0 = time.perf_counter(), time.process_time()
    report = check_scheme(scheme, target, CheckSettings(sollya="off"))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0  # CPU time: less sensitive to load
    claims = {c: f"{report.claim(c).outcome} ({report.claim(c).trust})" for c in ("C1", "C2", "C3", "C4")}
    return {"grades": scheme.n_grades, "check_s": round(seconds, 1), "check_cpu_s": round(cpu, 1), **claims}


def _parts_3d(path: str, sup_boxes: int, c1_boxes: int, lp_boxes: int) -> dict:
    from proofs_check.boundsnd import LpEnclosureND, prove_monotone_nd, sup_abs_nd

    m, target = _model("3d", Path(path))
    domain = [(0.0, 1.0)] * 3
    K = len(m.layers_)
    out = {"grades": K, "sup": [], "c1": [], "lp2": []}
    for k in range(K + 1):
        t0 = time.perf_counter()
        s = sup_abs_nd(m.layers_, target, domain, k, rtol=1e-3, max_boxes=sup_boxes)
        e = s.enclosure
        out["sup"].append(
            {"k": k, "s": round(time.perf_counter() - t0, 1), "boxes": s.boxes, "lower": e.lower, "upper": e.upper}
        )
    for k in range(1, K + 1):
        t0 = time.perf_counter()
        c = prove_monotone_nd(m.layers_, target, domain, k, max_boxes=c1_boxes)
        out["c1"].append(
            {"k": k, "s": round(time.perf_counter() - t0, 1), "boxes": c.boxes, "status": c.status,
             "unresolved_boxes": len(c.unresolved)}
        )
    for k in range(K + 1):
        t0 = time.perf_counter()
        enc = LpEnclosureND(m.layers_, target, domain, k, (2,))
        enc.refine(lp_boxes)
        e = enc.enclosure(2)
        out["lp2"].append(
            {"k": k, "s": round(time.perf_counter() - t0, 1), "boxes": enc.boxes, "lower": e.lower, "upper": e.upper}
        )
    return out


def _fit(kind: str, path: str) -> dict:
    _model(kind, Path(path))
    return {}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", choices=("1d", "3d"))
    ap.add_argument("--model", required=True, help="the scheme's file: fitted and saved there on the first run")
    ap.add_argument("--sup-boxes", type=int, default=400_000)
    ap.add_argument("--c1-boxes", type=int, default=400_000)
    ap.add_argument("--lp-boxes", type=int, default=32_768)
    ap.add_argument("--timeout", type=float, default=1800.0)
    a = ap.parse_args(argv)
    print(machine())
    if not Path(a.model).exists():
        fit = measured(_fit, a.part, a.model, timeout=a.timeout)
        print(f"fitted in {fit['wall_s']:.0f} s" + (f" ({fit['error']})" if fit["error"] else ""))
    if a.part == "1d":
        out = measured(_check_1d, a.model, timeout=a.timeout)
    else:
        out = measured(_parts_3d, a.model, a.sup_boxes, a.c1_boxes, a.lp_boxes, timeout=a.timeout)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
