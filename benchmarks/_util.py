"""Shared helpers: run a function in a fresh process and measure its wall time and peak memory."""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import platform
import resource
import threading
import time
from pathlib import Path


def _exit_with_parent() -> None:
    """A cell outlives a killed benchmark otherwise (and skews the next measurement)."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _child(fn, args, queue):
    _exit_with_parent()
    t0 = time.perf_counter()
    try:
        out = fn(*args)
        err = None
    except Exception as e:  # recorded, the benchmark goes on
        out, err = {}, f"{type(e).__name__}: {e}"
    out = dict(out)
    out["wall_s"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["error"] = err
    queue.put(out)


def measured(fn, *args, timeout: float = 3600.0) -> dict:
    """``fn(*args)`` (returning a dict) in a fresh process; adds wall_s, peak_rss_mb, error."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        return {"error": f"time budget of {timeout:.0f} s exceeded", "wall_s": timeout}
    return queue.get() if not queue.empty() else {"error": f"process died (exit {proc.exitcode})"}


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_rows(path, rows: list[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
