"""Plots of a report: |e_k| over the domain, and the norms per grade with their enclosures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_residuals", "plot_norms", "plot_report"]


def plot_residuals(report, scheme, target, ax=None):
    """1-D: |e_k(x)| for every grade on a log axis, C1 counterexample marked; 2-D: |e_K| as an image."""
    import matplotlib.pyplot as plt

    from .checker import staged_outputs

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    if report.dimension == 1:
        lo, hi = scheme.domain[0]
        x = np.linspace(lo, hi, 4001)
        f = target(x[:, None])
        errs = [np.abs(f - g) for g in staged_outputs(scheme, x[:, None])]
        floor = 1e-6 * max(float(np.max(errs[-1])), 1e-300)  # zeros of e_k would pull the axis to 1e-300
        for k, e in enumerate(errs):
            ax.semilogy(x, np.maximum(e, floor), lw=0.8, label=f"|e_{k}|")
        ax.set_ylim(bottom=floor)
        c1 = next(c for c in report.claims if c.name.startswith("C1 pointwise"))
        if c1.worst_point is not None:
            ax.axvline(c1.worst_point[0], color="red", ls="--", lw=1, label="C1 fails here")
        ax.set_xlabel("x")
        ax.legend(fontsize="x-small", ncol=2)
    elif report.dimension == 2:
        (x0, x1), (y0, y1) = scheme.domain
        g = np.stack(np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201), indexing="xy"), -1).reshape(-1, 2)
        e = np.abs(target(g) - staged_outputs(scheme, g)[-1]).reshape(201, 201)
        im = ax.imshow(e, origin="lower", extent=(x0, x1, y0, y1), aspect="auto")
        ax.figure.colorbar(im, ax=ax, label="|e_K|")
    ax.set_title("residual magnitude per grade")
    return ax


def plot_norms(report, ax=None):
    """sup and L^p norms per grade (log axis); bars show the enclosures."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    c2 = next(c for c in report.claims if c.name.startswith("C2"))
    ks = [r["grade"] for r in c2.per_grade]
    lo = np.array([r["lower"] for r in c2.per_grade])
    hi = np.array([r["upper"] for r in c2.per_grade])
    ax.errorbar(ks, (lo + hi) / 2, yerr=[(hi - lo) / 2, (hi - lo) / 2], fmt="o-", capsize=3, label="sup |e_k|")
    c3 = next(c for c in report.claims if c.name.startswith("C3"))
    ps = (
        [int(k[1:]) for k in c3.per_grade[0] if k.startswith("p") and not k.endswith("verdict")] if c3.per_grade else []
    )
    for p in ps:
        rows = c3.per_grade
        lo_p = np.array([r[f"p{p}"][0] for r in rows])
        hi_p = np.array([r[f"p{p}"][1] for r in rows])
        ax.errorbar(
            [r["grade"] for r in rows],
            (lo_p + hi_p) / 2,
            yerr=(hi_p - lo_p) / 2,
            fmt="s--",
            capsize=3,
            label=f"||e_k||_{p}",
        )
    ax.set_yscale("log")
    ax.set_xlabel("grade k")
    ax.set_title("norms per grade (with enclosures)")
    ax.legend(fontsize="small")
    return ax


def plot_report(report, scheme, target, out_dir) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    for name, draw in (
        ("check_residuals.png", lambda ax: plot_residuals(report, scheme, target, ax)),
        ("check_norms.png", lambda ax: plot_norms(report, ax)),
    ):
        fig, ax = plt.subplots(figsize=(8, 4))
        draw(ax)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
