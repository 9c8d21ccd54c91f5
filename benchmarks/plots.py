"""Benchmark plots, computed from ``results.csv`` only."""

from __future__ import annotations

import csv
from pathlib import Path


def _read(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def _num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _finish(fig, ax, xlabel: str, ylabel: str, title: str, path) -> None:
    """Labels, one legend entry per label, save, close."""
    import matplotlib.pyplot as plt

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize="x-small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_results(csv_path, out_dir) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = _read(csv_path)
    out = Path(out_dir)
    solver_rows = [r for r in rows if r["part"] == "solver" and _num(r.get("wall_s"))]
    if solver_rows:
        fig, ax = plt.subplots(figsize=(7, 4))
        for key in sorted({(r["solver"], r["formulation"]) for r in solver_rows}):
            pts = sorted(
                (int(r["n"]) * (int(r["m"]) + 1) * int(r["P"]), _num(r["wall_s"]))
                for r in solver_rows
                if (r["solver"], r["formulation"]) == key
            )
            ax.loglog([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"{key[0]} / {key[1]}")
        _finish(fig, ax, "n (m+1) P", "wall time, s", "time versus size per solver", out / "time_vs_size.png")
    scheme_rows = [r for r in rows if r["part"] == "scheme" and _num(r.get("loss_after"))]
    if scheme_rows:
        fig, ax = plt.subplots(figsize=(7, 4))
        for key in sorted({(r["target"], r["method"]) for r in scheme_rows}):
            pts = sorted(
                (int(r["grade"]), _num(r["loss_after"])) for r in scheme_rows if (r["target"], r["method"]) == key
            )
            ax.semilogy([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"{key[0]} / {key[1]}")
        pub = sorted(
            {(int(r["grade"]), _num(r["published_loss"])) for r in scheme_rows if _num(r.get("published_loss"))}
        )
        if pub:
            ax.semilogy([p[0] for p in pub], [p[1] for p in pub], "k--", label="published (GD)")
        _finish(fig, ax, "grade", "training 0.5*MSE", "loss versus grade", out / "loss_vs_grade.png")
    grad_rows = [r for r in rows if r["part"] == "gradient" and _num(r.get("seconds"))]
    if grad_rows:
        fig, ax = plt.subplots(figsize=(7, 4))
        for r in grad_rows:
            ax.scatter(_num(r["seconds"]), max(_num(r["relative_excess"]), 1e-12), label=f"{r['method']} n={r['n']}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        title = "objective versus time (gradient restarts)"
        _finish(fig, ax, "seconds", "objective / convex optimum - 1", title, out / "objective_vs_time.png")
