"""Gradient-trained baselines in numpy: one non-convex grade, gradient-trained MGDL, and SGDL.

* :func:`train_grade`: the non-convex problem of one grade,
  ``(1/2n) ||relu(Zb U) a - e||^2 + (beta/2)(||U||^2 + ||a||^2)``, by Adam or plain
  gradient descent (full batch), recording the best objective and the time it was reached;
  its global optimum is the convex program's when every pattern is available.
* :func:`train_mgdl`: gradient-trained multigrade learning with the published architecture
  (Fang & Xu: each grade one hidden ReLU layer of width W on the previous grade's W
  features, 0.5*MSE, full batch).
* :func:`train_sgdl`: one deep network of the same depth and width trained end to end.

He initialisation, Adam (0.9, 0.999) with bias correction.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["train_grade", "train_mgdl", "train_sgdl"]


class _Adam:
    def __init__(self, params, lr):
        self.lr, self.t = lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, params, grads):
        self.t += 1
        for i, g in enumerate(grads):
            self.m[i] = 0.9 * self.m[i] + 0.1 * g
            self.v[i] = 0.999 * self.v[i] + 0.001 * g * g
            mh = self.m[i] / (1 - 0.9**self.t)
            vh = self.v[i] / (1 - 0.999**self.t)
            params[i] -= self.lr * mh / (np.sqrt(vh) + 1e-12)


def train_grade(Zb, e, width, beta, method="adam", steps=20_000, lr=1e-2, rng=None, target=None, time_budget=None):
    """Train one grade; returns dict(best objective, seconds to reach ``target``, steps, seconds)."""
    rng = rng or np.random.default_rng(0)
    n, q = Zb.shape
    U = rng.standard_normal((q, width)) * np.sqrt(2.0 / q)
    a = rng.standard_normal(width) / np.sqrt(width)
    params = [U, a]
    opt = _Adam(params, lr) if method == "adam" else None
    t0 = time.perf_counter()
    best, reached, step = np.inf, None, 0
    while step < steps:
        step += 1
        U, a = params
        H = Zb @ U
        A = np.maximum(H, 0.0)
        r = A @ a - e
        obj = r @ r / (2 * n) + beta / 2 * ((U * U).sum() + a @ a)
        if obj < best:
            best = obj
            if target is not None and reached is None and obj <= target:
                reached = time.perf_counter() - t0
                break
        ga = A.T @ r / n + beta * a
        gU = Zb.T @ ((H > 0) * np.outer(r, a)) / n + beta * U
        if opt is not None:
            opt.step(params, [gU, ga])
        else:
            params[0] -= lr * gU
            params[1] -= lr * ga
        if time_budget is not None and time.perf_counter() - t0 > time_budget:
            break
    return {
        "best_objective": float(best),
        "time_to_target": reached,
        "steps": step,
        "seconds": time.perf_counter() - t0,
    }


def _fit_layer(Z, e, width, steps, lr, rng):
    """One hidden layer on frozen features Z by Adam on 0.5*MSE; returns (U, a, loss)."""
    n = len(Z)
    Zb = np.column_stack([Z, np.ones(n)])
    U = rng.standard_normal((Zb.shape[1], width)) * np.sqrt(2.0 / Zb.shape[1])
    a = rng.standard_normal(width) / np.sqrt(width)
    params = [U, a]
    opt = _Adam(params, lr)
    for _ in range(steps):
        U, a = params
        H = Zb @ U
        A = np.maximum(H, 0.0)
        r = A @ a - e
        opt.step(params, [Zb.T @ ((H > 0) * np.outer(r, a)) / n, A.T @ r / n])
    U, a = params
    A = np.maximum(Zb @ U, 0.0)
    r = A @ a - e
    return U, a, float(r @ r / (2 * n)), A


def train_mgdl(X, y, grades, width, steps, lr=1e-3, seed=0):
    """Gradient-trained MGDL; per grade: 0.5*MSE after the grade and its seconds."""
    rng = np.random.default_rng(seed)
    Z, e, rows = X, y.copy(), []
    for k in range(grades):
        t0 = time.perf_counter()
        U, a, loss, A = _fit_layer(Z, e, width, steps, lr, rng)
        e = e - A @ a
        Z = A
        rows.append({"grade": k + 1, "loss_after": loss, "seconds": time.perf_counter() - t0})
    return rows


def train_sgdl(X, y, depth, width, steps, lr=1e-3, seed=0):
    """A deep ReLU network (depth hidden layers of width) trained end to end: final 0.5*MSE, seconds."""
    rng = np.random.default_rng(seed)
    n = len(X)
    sizes = [X.shape[1]] + [width] * depth
    Ws = [rng.standard_normal((sizes[i] + 1, sizes[i + 1])) * np.sqrt(2.0 / (sizes[i] + 1)) for i in range(depth)]
    a = rng.standard_normal(width) / np.sqrt(width)
    params = Ws + [a]
    opt = _Adam(params, lr)
    t0 = time.perf_counter()
    for _ in range(steps):
        acts, pre = [X], []
        for W in params[:-1]:
            h = np.column_stack([acts[-1], np.ones(n)]) @ W
            pre.append(h)
            acts.append(np.maximum(h, 0.0))
        r = acts[-1] @ params[-1] - y
        grads = [None] * len(params)
        grads[-1] = acts[-1].T @ r / n
        delta = np.outer(r, params[-1]) / n
        for i in range(depth - 1, -1, -1):
            delta = delta * (pre[i] > 0)
            grads[i] = np.column_stack([acts[i], np.ones(n)]).T @ delta
            delta = delta @ params[i][:-1].T
        opt.step(params, grads)
    h = X
    for W in params[:-1]:
        h = np.maximum(np.column_stack([h, np.ones(n)]) @ W, 0.0)
    r = h @ params[-1] - y
    return {"loss": float(r @ r / (2 * n)), "seconds": time.perf_counter() - t0}
