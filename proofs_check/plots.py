"""Plots of a report: |e_k| over the domain, and the norms per grade with their enclosures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_residuals", "plot_norms", "plot_report"]


def plot_residuals(report, scheme, target, ax=None):
    """1-D: |e_k(x)| for every grade on a log axis, C1 counterexample marked; 2-D: |e_K| as an image."""
    import matplotlib.pyplot as plt

    from .network import staged_outputs

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    if report.dimension == 1:
        lo, hi = scheme.domain[0]
        x = np.linspace(lo, hi, 4001)
        f = target(x[:, None])
        errs = [np.abs(f - g) for g in staged_outputs(scheme.layers, x[:, None])]
        floor = 1e-6 * max(float(np.max(errs[-1])), 1e-300)  # zeros of e_k would pull the axis to 1e-300
        for k, e in enumerate(errs):
            ax.semilogy(x, np.maximum(e, floor), lw=0.8, label=f"|e_{k}|")
        ax.set_ylim(bottom=floor)
        c1 = report.claim("C1")
        if c1.worst_point is not None:
            ax.axvline(c1.worst_point[0], color="red", ls="--", lw=1, label="C1 fails here")
        ax.set_xlabel("x")
        ax.legend(fontsize="x-small", ncol=2)
    elif report.dimension == 2:
        (x0, x1), (y0, y1) = scheme.domain
        g = np.stack(np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201), indexing="xy"), -1).reshape(-1, 2)
        e = np.abs(target(g) - staged_outputs(scheme.layers, g)[-1]).reshape(201, 201)
        im = ax.imshow(e, origin="lower", extent=(x0, x1, y0, y1), aspect="auto")
        ax.figure.colorbar(im, ax=ax, label="|e_K|")
    ax.set_title("residual magnitude per grade")
    return ax


def plot_norms(report, ax=None):
    """sup and L^p norms per grade (log axis); bars show the enclosures."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    c2 = report.claim("C2")
    if c2.per_grade:
        pairs = [[r["lower"], r["upper"]] for r in c2.per_grade]
        _enclosures(ax, [r["grade"] for r in c2.per_grade], pairs, "o-", "sup |e_k|")
    rows = report.claim("C3").per_grade
    ps = [k[1:] for k in rows[0] if k.startswith("p") and "_" not in k] if rows else []
    for p in ps:
        _enclosures(ax, [r["grade"] for r in rows], [r[f"p{p}"] for r in rows], "s--", f"||e_k||_{p}")
    ax.set_yscale("log")
    ax.set_xlabel("grade k")
    ax.set_title("norms per grade (with enclosures)")
    ax.legend(fontsize="small")
    return ax


def _enclosures(ax, ks, pairs, fmt, label) -> None:
    """Midpoints with error bars where both ends are finite; a marker at the lower end where the upper is not."""
    lo = np.array([np.nan if a is None else a for a, _ in pairs], dtype=float)
    hi = np.array([np.nan if b is None else b for _, b in pairs], dtype=float)
    ks = np.asarray(ks)
    both = np.isfinite(lo) & np.isfinite(hi)
    if both.any():
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        ax.errorbar(ks[both], mid[both], yerr=half[both], fmt=fmt, capsize=3, label=label)
    only_lower = np.isfinite(lo) & ~np.isfinite(hi) & (lo > 0)
    if only_lower.any():
        ax.plot(ks[only_lower], lo[only_lower], "^", label=f"{label} (lower end only)")


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
