"""Sweeps: grids of cells on Dask (``dask.distributed``), whatever a cell does.

``run_sweep(spec, out, cell)`` sends every unfinished cell of a
:class:`~mgdl_convex.sweep_spec.SweepSpec` to a Dask cluster, where ``cell(config, out_dir,
time_limit)`` runs it: writes what it wants into ``out_dir`` and returns its result as rows of
scalars.  The engine knows nothing of fits or benchmarks: the caller hands it the cell
function (:data:`mgdl_convex.runs.CELLS` for fit / verify specs, ``benchmarks.cells.sweep_cell``
for benchmark cells), a top-level function that the workers import by name.

* **where**: a ``LocalCluster`` of worker *processes* with one thread each, and BLAS /
  OpenMP pinned to one thread inside the workers (cells do not fight for cores), or
  ``scheduler="tcp://host:port"``: an existing cluster (``dask scheduler`` /
  ``dask worker``, or dask-jobqueue's ``SLURMCluster``), with no other change;
* **nothing lost**: a cell writes its directory (for a verify cell: model, summary, report,
  plots) to a temporary folder renamed to ``OUT/cells/<id>/`` when complete, with
  ``result.json`` last; a cell that raises is recorded there with its error and traceback and the others
  go on; a cell whose worker dies is retried by Dask (``retries``) and recorded as failed
  if it keeps dying; ``cell_time_limit`` is handed to the cell, which bounds itself (the fit
  cells cooperatively: checked by the solver between working-set rounds and after every grade);
* **re-runs** skip finished cells (``result.json`` with status ``ok``) and run the rest,
  failed ones included.

Results: ``OUT/summary.csv`` (long format: one row per cell and result row, with the cell's
parameters; for verify cells one row per grade with claim outcomes and trust, certified sup
and L^p enclosures, times, solver status) and ``OUT/summary.md`` (a pass/fail matrix of the
columns ending in ``_outcome``, and a plot of ``sup_upper`` where cells report it).  Progress
lines (to ``progress``, the logger by default): cells done of total, failures, elapsed and
estimated time left.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from .io import write_atomic
from .sweep_spec import SweepSpec

__all__ = ["run_sweep", "run_cell", "make_client", "close_client", "summarise", "SweepError"]

logger = logging.getLogger(__name__)

#: ``cell(config, out_dir, time_limit) -> rows``: one cell of a sweep, run inside a worker
Cell = Callable[[dict, Path, float | None], list]

PINNED_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class SweepError(RuntimeError):
    """The sweep could not start (no scheduler, bad output directory)."""


def run_cell(cell: Cell, kind: str, config: dict, cell_dir: str, time_limit: float | None = None) -> dict:
    """Run ``cell`` on one configuration (inside a worker); write its directory atomically; return its result."""
    cell_dir = Path(cell_dir)
    tmp = cell_dir.with_name(f".{cell_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    try:
        rows = cell(config, tmp, time_limit)
        result = {"status": "ok", "rows": rows}
    except Exception as e:  # recorded, the sweep goes on
        result = {"status": "failed", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    result.update({"kind": kind, "config": config, "id": cell_dir.name, "seconds": time.perf_counter() - t0})
    write_atomic(tmp / "result.json", json.dumps(result, indent=2, default=str))
    if cell_dir.exists():
        shutil.rmtree(cell_dir)
    os.replace(tmp, cell_dir)
    return result


def make_client(scheduler: str | None = None, workers: int | None = None, timeout: float = 5.0):
    """A Dask client: on ``scheduler``, or on a new LocalCluster of ``workers`` pinned processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as e:
            raise SweepError(f"no Dask scheduler answered at {scheduler} within {timeout:g} s ({e})") from e
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        env=PINNED_THREADS,
    )
    return Client(cluster)


def close_client(client, close_cluster: bool = True) -> None:
    """Close a client from :func:`make_client`, and the LocalCluster it started."""
    cluster = client.cluster
    client.close()
    if close_cluster and cluster is not None:
        cluster.close()


def _finished(cell_dir: Path) -> bool:
    try:
        return json.loads((cell_dir / "result.json").read_text()).get("status") == "ok"
    except (OSError, ValueError):
        return False


def run_sweep(
    spec: SweepSpec,
    out,
    cell: Cell,
    client=None,
    serial: bool = False,
    retries: int = 2,
    progress: Callable[[str], None] | None = None,
) -> list[dict]:
    """Run ``cell`` on the unfinished cells of ``spec`` under ``out``; return every cell's result.

    ``client``: a Dask client (default: a LocalCluster for this sweep); ``serial``: run the
    cells in this process, without Dask; ``retries``: how often Dask reruns a cell whose
    worker died; ``progress``: called with each progress line (default: the logger, INFO).
    """
    progress = progress or logger.info
    out = Path(out)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    ids = spec.ids()
    todo = [(i, c) for i, c in zip(ids, spec.cells) if not _finished(out / "cells" / i)]
    progress(f"{len(spec.cells)} cells, {len(spec.cells) - len(todo)} already finished, {len(todo)} to run")
    start, done, failed = time.perf_counter(), 0, 0

    def report(res):
        nonlocal done, failed
        done += 1
        failed += res["status"] != "ok"
        elapsed = time.perf_counter() - start
        eta = elapsed / done * (len(todo) - done)
        progress(
            f"[{done}/{len(todo)}] cell {res['id']} {res['status']}; {failed} failed; "
            f"{elapsed:.0f} s elapsed, about {eta:.0f} s left"
        )

    args = [(cell, spec.kind, c, str(out / "cells" / i), spec.cell_time_limit) for i, c in todo]
    if serial:
        for a in args:
            report(run_cell(*a))
    elif todo:
        from dask.distributed import as_completed

        own = client is None
        client = client or make_client()
        try:
            progress(f"Dask dashboard: {client.dashboard_link}")
            futures = {
                client.submit(run_cell, *a, key=f"cell-{Path(a[3]).name}", retries=retries, pure=False): a for a in args
            }
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except Exception as e:  # the worker died every time (KilledWorker) or similar
                    _, kind, config, cell_dir, _ = futures[fut]
                    res = {
                        "status": "failed",
                        "error": f"{type(e).__name__}: {e}",
                        "id": Path(cell_dir).name,
                        "kind": kind,
                        "config": config,
                    }
                    Path(cell_dir).mkdir(parents=True, exist_ok=True)
                    write_atomic(Path(cell_dir) / "result.json", json.dumps(res, indent=2, default=str))
                report(res)
        finally:
            if own:
                close_client(client)
    results = [json.loads((out / "cells" / i / "result.json").read_text()) for i in ids]
    summarise(results, out)
    return results


def summarise(results: list[dict], out: Path) -> None:
    """``summary.csv`` (one row per cell and grade) and ``summary.md`` (pass/fail matrix)."""
    import csv

    varying = sorted(
        {
            k
            for r in results
            for k, v in r["config"].items()
            if len({json.dumps(x["config"].get(k), sort_keys=True) for x in results}) > 1
        }
    )
    rows = []
    for r in results:
        base = {
            "cell": r["id"],
            "cell_status": r["status"],
            "error": r.get("error"),
            **{k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in r["config"].items()},
        }
        for row in r.get("rows") or [{}]:
            rows.append({**base, **row})
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with (out / "summary.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    claims = [k for k in keys if k.endswith("_outcome")]
    lines = [f"# Sweep summary: {len(results)} cells, {sum(r['status'] != 'ok' for r in results)} failed", ""]
    lines += ["| cell | " + " | ".join(varying) + " | status | " + " | ".join(c[:-8] for c in claims) + " |"]
    lines += ["|" + "---|" * (len(varying) + 2 + len(claims))]
    for r in results:
        last = (r.get("rows") or [{}])[-1]
        lines.append(
            f"| {r['id']} | "
            + " | ".join(str(r["config"].get(k)) for k in varying)
            + f" | {r['status']} | "
            + " | ".join(str(last.get(c, "-")) for c in claims)
            + " |"
        )
    failures = [r for r in results if r["status"] != "ok"]
    if failures:
        lines += ["", "## Failures", ""] + [f"- {r['id']}: {r.get('error')}" for r in failures]
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    _plot(results, varying, out)


def _plot(results, varying, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = []
    for r in results:
        last = (r.get("rows") or [{}])[-1]
        if r["status"] == "ok" and last.get("sup_upper") is not None:
            pts.append((r["config"], last["sup_upper"]))
    if not pts:
        return
    x_key = next((k for k in ("width", "beta_ratio", "grades") if k in varying), None)
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [c.get(x_key, i) if x_key else i for i, (c, _) in enumerate(pts)]
    ax.semilogy(xs, [s for _, s in pts], "o")
    ax.set_xlabel(x_key or "cell")
    ax.set_ylabel("certified sup |e_K| (upper)")
    ax.set_title("final sup error per cell")
    fig.tight_layout()
    fig.savefig(out / "summary_sup.png", dpi=110)
    plt.close(fig)
