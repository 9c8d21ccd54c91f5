"""Plots of a fitted scheme: functions of the model, ``ax=None`` in, ``Axes`` out.

Numbers are computed before drawing; matplotlib is imported lazily and the
CLI selects the Agg backend, so nothing here needs a display.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_fit", "plot_residuals", "plot_losses"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4))
    return ax


def _line_grid(model, n: int = 2001):
    lo, hi = model.domain_[0]
    x = np.linspace(lo, hi, n)
    return x, x[:, None]


def plot_fit(model, target=None, ax=None):
    """1-D: target and approximant after every grade; 2-D: the final approximant as an image."""
    ax = _axes(ax)
    if model.n_features_in_ == 1:
        x, X = _line_grid(model)
        if target is not None:
            ax.plot(x, target(X), color="black", lw=2, label="target")
        for k, pred in enumerate(model.staged_predict(X), start=1):
            ax.plot(x, pred, lw=1, label=f"after grade {k}")
        ax.set_xlabel("x")
        ax.legend(fontsize="small")
    elif model.n_features_in_ == 2:
        (x0, x1), (y0, y1) = model.domain_
        g = np.stack(np.meshgrid(np.linspace(x0, x1, 201), np.linspace(y0, y1, 201), indexing="xy"), -1).reshape(-1, 2)
        im = ax.imshow(model.predict(g).reshape(201, 201), origin="lower", extent=(x0, x1, y0, y1), aspect="auto")
        ax.figure.colorbar(im, ax=ax)
    ax.set_title("approximant by grade")
    return ax


def plot_residuals(model, target, ax=None):
    """|e_k(x)| over a 1-D domain for every grade (log scale), or max |e_k| per grade beyond 1-D."""
    ax = _axes(ax)
    if model.n_features_in_ == 1:
        x, X = _line_grid(model)
        f = target(X)
        errs = [np.abs(f)] + [np.abs(f - pred) for pred in model.staged_predict(X)]
        floor = 1e-6 * max(float(np.max(errs[-1])), 1e-300)  # zeros of e_k would pull the axis to 1e-300
        ax.semilogy(x, np.maximum(errs[0], floor), color="black", lw=1, label="|e_0| = |f|")
        for k, e in enumerate(errs[1:], start=1):
            ax.semilogy(x, np.maximum(e, floor), lw=1, label=f"|e_{k}|")
        ax.set_ylim(bottom=floor)
        ax.set_xlabel("x")
        ax.legend(fontsize="small")
    else:
        rng = np.random.default_rng(0)
        lo, hi = model.domain_.T
        X = lo + (hi - lo) * rng.random((20000, model.n_features_in_))
        f = target(X)
        sups = [np.abs(f).max()] + [np.abs(f - p).max() for p in model.staged_predict(X)]
        ax.semilogy(range(len(sups)), sups, "o-", label="max |e_k| on 20000 random points (heuristic)")
        ax.set_xlabel("grade k")
        ax.legend(fontsize="small")
    ax.set_title("residual magnitude per grade")
    return ax


def plot_losses(model, ax=None):
    """Training 0.5*MSE before grade 1 and after every grade (log scale)."""
    ax = _axes(ax)
    losses = [model.grades_[0].loss_before] + [g.loss_after for g in model.grades_] if model.grades_ else []
    ax.semilogy(range(len(losses)), losses, "o-")
    ax.set_xlabel("grade k")
    ax.set_ylabel("training 0.5*MSE")
    ax.set_title("training loss per grade")
    return ax
