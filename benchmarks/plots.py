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
        ax.set_xlabel("n (m+1) P")
        ax.set_ylabel("wall time, s")
        ax.set_title("time versus size per solver")
        ax.legend(fontsize="x-small")
        fig.tight_layout()
        fig.savefig(out / "time_vs_size.png", dpi=110)
        plt.close(fig)
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
        ax.set_xlabel("grade")
        ax.set_ylabel("training 0.5*MSE")
        ax.set_title("loss versus grade")
        ax.legend(fontsize="x-small")
        fig.tight_layout()
        fig.savefig(out / "loss_vs_grade.png", dpi=110)
        plt.close(fig)
    grad_rows = [r for r in rows if r["part"] == "gradient" and _num(r.get("seconds"))]
    if grad_rows:
        fig, ax = plt.subplots(figsize=(7, 4))
        for r in grad_rows:
            ax.scatter(_num(r["seconds"]), max(_num(r["relative_excess"]), 1e-12), label=f"{r['method']} n={r['n']}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("seconds")
        ax.set_ylabel("objective / convex optimum - 1")
        ax.set_title("objective versus time (gradient restarts)")
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), fontsize="x-small")
        fig.tight_layout()
        fig.savefig(out / "objective_vs_time.png", dpi=110)
        plt.close(fig)
