"""Sweeps on Dask: same results as serial, failures recorded, nothing rerun, worker deaths survived."""

import json
import os
import shutil
import signal
import threading
import time

import pytest

from mgdl_convex.cli import main
from mgdl_convex.options import FIT
from mgdl_convex.runs import fit_cell
from mgdl_convex.sweep import make_client, run_sweep
from mgdl_convex.sweep_spec import SpecError, parse_spec

KINDS = {"fit": FIT, "verify": FIT}

BASE = {"target": "fangxu1", "grades": 2, "samples": [40], "n_patterns": 24, "width": 5}


def _spec(grid=None, cells=None, kind="fit"):
    raw = {"kind": kind, "base": dict(BASE)}
    if grid:
        raw["grid"] = grid
    if cells:
        raw["cells"] = cells
    return parse_spec(raw, KINDS)


def _strip(results):
    """Results without timings, keyed by cell id."""
    out = {}
    for r in results:
        rows = [{k: v for k, v in row.items() if "time" not in k} for row in r.get("rows", [])]
        out[r["id"]] = (r["status"], rows)
    return out


@pytest.fixture(scope="module")
def client():
    c = make_client(workers=2)
    yield c
    cluster = c.cluster
    c.close()
    cluster.close()


def test_local_cluster_gives_the_serial_results_cell_for_cell(tmp_path, client):
    spec = _spec(grid={"width": [4, 6], "beta_ratio": [1e-2, 1e-3]})
    assert len(spec.cells) == 4
    parallel = run_sweep(spec, tmp_path / "dask", fit_cell, client=client, progress=lambda m: None)
    serial = run_sweep(spec, tmp_path / "serial", fit_cell, serial=True, progress=lambda m: None)
    assert _strip(parallel) == _strip(serial)
    assert all(r["status"] == "ok" for r in parallel)
    csv_text = (tmp_path / "dask" / "summary.csv").read_text()
    assert csv_text.count("\n") == 1 + sum(len(r["rows"]) for r in parallel)


def test_a_failing_cell_is_recorded_and_the_others_finish(tmp_path, client):
    spec = _spec(cells=[{"width": 4}, {"target": "nosuchmodule:f", "domain": [[0, 1]]}, {"width": 6}])
    results = run_sweep(spec, tmp_path, fit_cell, client=client, progress=lambda m: None)
    status = [r["status"] for r in results]
    assert status == ["ok", "failed", "ok"]
    failed = results[1]
    assert "cannot load user target" in failed["error"] and "Traceback" in failed["traceback"]
    assert "1 failed" in (tmp_path / "summary.md").read_text()


def test_rerun_runs_nothing_and_a_deleted_cell_alone_runs_again(tmp_path):
    spec = _spec(grid={"width": [4, 5, 6]})
    run_sweep(spec, tmp_path, fit_cell, serial=True, progress=lambda m: None)
    messages = []
    run_sweep(spec, tmp_path, fit_cell, serial=True, progress=messages.append)
    assert messages[0].endswith("3 already finished, 0 to run") and len(messages) == 1
    victim = spec.ids()[1]
    before = {i: (tmp_path / "cells" / i / "result.json").stat().st_mtime_ns for i in spec.ids()}
    shutil.rmtree(tmp_path / "cells" / victim)
    messages.clear()
    run_sweep(spec, tmp_path, fit_cell, serial=True, progress=messages.append)
    assert messages[0].endswith("2 already finished, 1 to run")
    after = {i: (tmp_path / "cells" / i / "result.json").stat().st_mtime_ns for i in spec.ids()}
    assert [i for i in spec.ids() if after[i] != before.get(i)] == [victim]


def test_a_killed_worker_does_not_lose_its_cell(tmp_path, client):
    spec = parse_spec(
        {"kind": "fit", "base": {**BASE, "samples": [3000], "grades": 2}, "grid": {"width": [6, 7, 8, 9]}}, KINDS
    )
    killed = []

    def killer():
        deadline = time.time() + 60
        while time.time() < deadline and not killed:
            processing = client.processing()
            busy = [w for w, tasks in processing.items() if tasks]
            if busy:
                time.sleep(1.0)  # in the middle of a cell
                pids = client.run(os.getpid, workers=[busy[0]])
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(busy[0])
            time.sleep(0.2)

    t = threading.Thread(target=killer)
    t.start()
    results = run_sweep(spec, tmp_path, fit_cell, client=client, progress=lambda m: None)
    t.join()
    assert killed, "no worker was busy: the test did not exercise a death"
    assert [r["status"] for r in results] == ["ok"] * 4
    for i in spec.ids():
        cell = tmp_path / "cells" / i
        assert json.loads((cell / "result.json").read_text())["status"] == "ok"
        assert (cell / "model.npz").exists() and (cell / "summary.json").exists()


@pytest.mark.parametrize(
    "raw, match",
    [
        ({"base": {"target": "fangxu1", "widht": 3}, "grid": {"grades": [1]}}, "unknown key 'widht'"),
        ({"base": {"target": "fangxu1"}, "grid": {"width": []}}, "non-empty list"),
        ({"base": {"target": "fangxu1"}}, "defines no cell"),
        ({"base": {"target": "fangxu1"}, "grid": {"width": ["wide"]}}, "width must be an integer >= 1, got 'wide'"),
        ({"grid": {"width": [4]}}, "no target given"),
        ({"kind": "plot", "grid": {"width": [1]}}, "kind must be"),
        ({"colour": 1}, "unknown top-level"),
    ],
)
def test_bad_specs_are_named_before_anything_runs(raw, match):
    with pytest.raises(SpecError, match=match):
        parse_spec(raw, KINDS)


def test_unreachable_scheduler_and_cli_errors_are_quick_and_clear(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('kind = "fit"\n[base]\ntarget = "fangxu1"\n[grid]\nwidth = [3]\n')
    t0 = time.perf_counter()
    assert main(["-q", "sweep", str(spec), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert time.perf_counter() - t0 < 15
    assert "no Dask scheduler answered at tcp://127.0.0.1:9" in capsys.readouterr().err
    spec.write_text('kind = "fit"\n[base]\ntarget = "fangxu1"\nsizes = 3\n[grid]\nwidth = [3]\n')
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o")]) == 2
    assert "unknown key 'sizes'" in capsys.readouterr().err


def test_cell_time_limit_fails_the_cell_with_a_reason(tmp_path):
    spec = parse_spec({"kind": "fit", "base": dict(BASE), "grid": {"width": [4]}, "cell_time_limit": 1e-6}, KINDS)
    (result,) = run_sweep(spec, tmp_path, fit_cell, serial=True, progress=lambda m: None)
    assert result["status"] == "failed" and "time limit" in result["error"]
