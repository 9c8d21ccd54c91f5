"""Grade optimality, independently of the solver.

Two tools, both reading only the grade's weights, its samples and targets (float64, hence
exact dyadic rationals) and its beta; neither uses ``mgdl_convex``.

**Certificate** (:func:`first_grade_certificate`, a first grade on 1-D or 2-D data):

* Primal: the grade's own non-convex objective
  ``P = (1/2n) sum_j (y_j - g(x_j))^2 + (beta/2) sum_k (||u_k||^2 + a_k^2)``, evaluated
  exactly in rationals (the carried channels, read out with weight 0, are not neurons of the
  grade).  Any network maps to a feasible point of the convex program with an objective no
  larger, so P bounds the convex optimum from above.
* Dual: ``lam = y - g(x)`` (exact rationals).  On 1-D data every pattern is a threshold set
  (``{x >= x_k}``, ``{x <= x_k}``, all), its cone in R^2 is a sector bounded by rays
  perpendicular to its extreme samples, and ``kappa(lam) = max_i ||P_{K_i}(+-c_i)|| / n``
  with ``c_i = sum_{j in S_i} lam_j (x_j, 1)``: prefix sums in rationals, and for each sector
  the projection is c itself (if inside) or its best boundary ray.  Only the square roots are
  taken in ball arithmetic.  On 2-D data ``kappa`` over all patterns is bounded by the exact
  arrangement sweep of :mod:`proofs_check.kappa2d` (for ``lam`` rounded to float64, which is
  then the dual point), degenerate data included.
* ``D = (lam' . y - ||lam'||^2 / 2) / n`` with ``lam' = lam min(1, beta / kappa_upper)``
  lower-bounds the optimum over *all* patterns, i.e. the global optimum of the non-convex
  grade of any width.  ``P - D`` (an upper bound of it) is the certified suboptimality.

**Refutation** (:func:`refute_optimality`, any grade, any input width): where the patterns
cannot be enumerated, kappa can only be bounded from below.  Any gate ``u`` gives
``kappa >= |lam . relu(Zb u)| / (n ||u||)``; gates are searched (random, data-anchored, the
grade's own neurons, then ascent ``u <- Zb' (1[Zb u > 0] lam)``) in float64 and the best are
evaluated exactly.  If ``s = |lam . h| / n - beta ||u|| > 0`` (``h = relu(Zb u)``), adding the
neuron ``t u`` with ``t = n s / ||h||^2`` lowers the objective by ``n s^2 / (2 ||h||^2)``: a
certified lower bound of ``P - P*``.  A second refutation keeps the grade's gates and refits
its read-out (ridge least squares in float64, any result will do) and balances each neuron
(``||u|| = |a|``, which minimises its penalty for the same output); the exact objective of that
network is an upper bound of ``P*``, so ``P - P(refit)`` is a certified lower bound of the
suboptimality as well.  A grade is refuted when a bound exceeds the relative tolerance; not
finding one proves nothing.

**kappa of a residual** (:func:`kappa_bounds`): the same gate search bounds ``kappa(e)`` from
below for any grade input; for 1-D first grades the exact sector sweep bounds it from above.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from flint import arb, fmpq

from .balls import fmpq_matrix, lower_float, to_fmpq, upper_float
from .kappa2d import kappa_upper_2d

__all__ = ["first_grade_certificate", "refute_optimality", "exact_grade", "kappa_bounds", "readout_refit"]


def exact_grade(Zb: np.ndarray, y: np.ndarray, hidden: np.ndarray, readout: np.ndarray, beta: float):
    """Exact residual ``lam = y - relu(Zb H) a`` and primal objective of a grade's trained neurons.

    The carried channels (read out with weight 0) are not neurons of the grade.
    Returns ``(lam, primal, neurons)`` with ``lam`` a list of ``fmpq``.
    """
    trained = np.flatnonzero(np.asarray(readout) != 0)
    n = len(y)
    zero = fmpq(0)
    ys = [to_fmpq(v) for v in y]
    if trained.size == 0:
        lam, penalty = ys, zero
    else:
        H = np.asarray(hidden)[:, trained]
        A = [to_fmpq(readout[k]) for k in trained]
        pre = (fmpq_matrix(Zb) * fmpq_matrix(H)).entries()
        w = len(trained)
        lam = []
        for j in range(n):
            total = zero
            for k in range(w):
                v = pre[j * w + k]
                if v > 0:
                    total += A[k] * v
            lam.append(ys[j] - total)
        penalty = sum((to_fmpq(v) ** 2 for v in H.ravel()), zero) + sum((a * a for a in A), zero)
        penalty = penalty / 2
    primal = sum((r * r for r in lam), zero) / (2 * n) + to_fmpq(beta) * penalty
    return lam, primal, int(trained.size)


def _check_beta(beta) -> None:
    """beta <= 0 (or not finite): the grade problem has no optimum, so no gap or refutation means anything."""
    if isinstance(beta, bool) or not (isinstance(beta, numbers.Real) and math.isfinite(beta) and beta > 0):
        raise ValueError(f"the grade problem's beta must be a finite number > 0, got {beta!r}")


def _sector_max(c: tuple, rows: list[tuple]) -> float:
    """Upper bound of max_{u in K, ||u|| <= 1} c . u for K = {u : g . u >= 0, g in rows} in R^2.

    Membership tests are exact (rationals); only the norms are balls, whose upper ends are kept.
    """
    cx, cy = c
    if all(g[0] * cx + g[1] * cy >= 0 for g in rows):
        return upper_float(arb(cx * cx + cy * cy).sqrt())
    best = 0.0
    for gx, gy in rows:
        for rx, ry in ((-gy, gx), (gy, -gx)):  # the two directions perpendicular to g
            if (rx == 0 and ry == 0) or not all(h[0] * rx + h[1] * ry >= 0 for h in rows):
                continue
            best = max(best, upper_float(arb(cx * rx + cy * ry) / arb(rx * rx + ry * ry).sqrt()))
    return best


def first_grade_certificate(hidden, readout, X, y, beta: float) -> dict:
    """Certified primal, dual and gap of a first grade on 1-D or 2-D samples (module docstring)."""
    _check_beta(beta)
    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    n, d = X.shape
    if d not in (1, 2):
        raise ValueError(f"first_grade_certificate needs 1-D or 2-D samples, got dimension {d}")
    lam, primal, _ = exact_grade(np.column_stack([X, np.ones(n)]), y, hidden, readout, beta)
    ys = [to_fmpq(v) for v in y]
    zero = fmpq(0)
    b_q = to_fmpq(beta)
    extra = {}
    if d == 2:
        lam_f = np.array([float(r) for r in lam])  # the dual point: lam rounded to float64
        lam = [to_fmpq(v) for v in lam_f]
        sweep = kappa_upper_2d(X, lam_f)
        kappa_up = sweep["kappa_upper"]
        extra = {k: sweep[k] for k in ("distinct_points", "vertices", "edges", "cells", "rounding_bound")}
    else:
        kappa_up = _kappa_upper_1d(X[:, 0], lam)
    if not math.isfinite(kappa_up):
        return {"primal": float(primal), "gap_upper": math.inf, "relative_gap_upper": math.inf,
                "kappa_upper": math.inf, "beta": beta, "dimension": d, **extra}
    scale = min(fmpq(1), b_q / to_fmpq(kappa_up)) if kappa_up > 0 else fmpq(1)
    lam_s = [r * scale for r in lam]
    dual = (sum((r * yj for r, yj in zip(lam_s, ys)), zero) - sum((r * r for r in lam_s), zero) / 2) / n
    gap = primal - dual
    return {
        "primal": float(primal),
        "dual": float(dual),
        "gap_upper": upper_float(arb(gap)),
        "relative_gap_upper": upper_float(arb(gap) / arb(primal)),
        "kappa_upper": kappa_up,
        "beta": beta,
        "dimension": d,
        **extra,
    }


def _kappa_upper_1d(x: np.ndarray, lam: list) -> float:
    """Upper bound of kappa(lam) over all threshold patterns of 1-D samples (exact sectors)."""
    n = len(x)
    xs = [to_fmpq(v) for v in x]
    zero = fmpq(0)
    order = sorted(range(n), key=lambda j: xs[j])
    sx = [xs[j] for j in order]
    sl = [lam[j] for j in order]
    # suffix sums of lam_j (x_j, 1) in sorted order: c for {x >= x_k}; prefix sums for {x <= x_k}
    suf_x, suf_1 = [zero] * (n + 1), [zero] * (n + 1)
    for k in range(n - 1, -1, -1):
        suf_x[k] = suf_x[k + 1] + sl[k] * sx[k]
        suf_1[k] = suf_1[k + 1] + sl[k]
    tot_x, tot_1 = suf_x[0], suf_1[0]
    kappa_n = 0.0  # upper bound of n kappa
    one = fmpq(1)
    for k in range(n):
        # upper set {x >= x_k}: inside x_k..x_{n-1}, outside x_0..x_{k-1}
        c_up = (suf_x[k], suf_1[k])
        rows_up = [(sx[k], one), (sx[n - 1], one)] + ([(-sx[0], -one), (-sx[k - 1], -one)] if k > 0 else [])
        # lower set {x <= x_k}: inside x_0..x_k, outside x_{k+1}..
        c_lo = (tot_x - suf_x[k + 1], tot_1 - suf_1[k + 1])
        rows_lo = [(sx[0], one), (sx[k], one)] + ([(-sx[k + 1], -one), (-sx[n - 1], -one)] if k < n - 1 else [])
        for c, rows in ((c_up, rows_up), (c_lo, rows_lo)):
            for sgn in (1, -1):
                kappa_n = max(kappa_n, _sector_max((sgn * c[0], sgn * c[1]), rows))
    return upper_float(arb(kappa_n) / n)


def _gate_search(Zb: np.ndarray, lam: np.ndarray, starts: np.ndarray, iterations: int):
    """Float64 ascent of |lam . relu(Zb u)| / ||u|| from each start (columns); best gates, values."""
    found, values = [], []
    for sign in (1.0, -1.0):
        U = starts / np.linalg.norm(starts, axis=0)
        for _ in range(iterations + 1):
            H = Zb @ U
            val = sign * (lam @ np.maximum(H, 0.0))
            found.append(U.copy())
            values.append(val)
            C = Zb.T @ ((H > 0) * (sign * lam)[:, None])
            norm = np.linalg.norm(C, axis=0)
            U = np.where(norm > 0, C / np.where(norm > 0, norm, 1.0), U)
    return np.hstack(found), np.concatenate(values)


def _starts(Zb: np.ndarray, rng: np.random.Generator, n_starts: int, own: np.ndarray | None) -> np.ndarray:
    """Random gates, gates through random samples, and the grade's own gates (columns)."""
    n, q = Zb.shape
    half = n_starts // 2
    anchored = rng.standard_normal((q, n_starts - half))
    anchored[-1] = -np.einsum("ij,ji->i", Zb[rng.integers(0, n, n_starts - half), :-1], anchored[:-1])
    parts = [rng.standard_normal((q, half)), anchored]
    if own is not None and own.size:
        parts.append(own)
    return np.hstack(parts)


def _certified_gates(Zb: np.ndarray, lam: list, gates: np.ndarray, columns) -> list[tuple]:
    """For each chosen gate u: ``(u, |lam . relu(Zb u)|, ||relu(Zb u)||^2, ||u||)``, exact (the norm a ball)."""
    Zq = fmpq_matrix(Zb)
    zero = fmpq(0)
    out = []
    for col in columns:
        u = gates[:, col]
        h = [max(v, zero) for v in (Zq * fmpq_matrix(u)).entries()]
        hh = sum((hj * hj for hj in h), zero)
        if hh == 0:
            continue
        s = abs(sum((r * hj for r, hj in zip(lam, h)), zero))
        out.append((u, s, hh, arb(sum((to_fmpq(v) ** 2 for v in u), zero)).sqrt()))
    return out


KAPPA_2D_POINTS = 400  # the exact 2-D sweep is O(n^3): about 2 s at this size


def kappa_bounds(Zb: np.ndarray, e: np.ndarray, rng: np.random.Generator, n_starts: int = 600, first=None) -> dict:
    """Certified bounds of ``kappa(e) = max_||u||<=1 |e . relu(Zb u)| / n`` over all gates.

    The lower bound comes from a gate search (exact evaluation of the best gates).  For a first
    grade, ``first`` (its samples, n x d) gives an upper bound over all patterns: the exact sector
    sweep in 1-D, the arrangement sweep of :mod:`proofs_check.kappa2d` in 2-D (up to
    ``KAPPA_2D_POINTS`` distinct points).
    """
    Zb = np.asarray(Zb, dtype=float)
    n = Zb.shape[0]
    lam = [to_fmpq(v) for v in e]
    gates, values = _gate_search(Zb, np.asarray(e, float), _starts(Zb, rng, n_starts, None), 12)
    lower = 0.0
    for _, s, _, unorm in _certified_gates(Zb, lam, gates, np.argsort(values)[::-1][:6]):
        lower = max(lower, lower_float(arb(s) / n / unorm))
    upper = None
    if first is not None and first.shape[1] == 1:
        upper = _kappa_upper_1d(first[:, 0], lam)
    elif first is not None and first.shape[1] == 2 and len(np.unique(first, axis=0)) <= KAPPA_2D_POINTS:
        upper = kappa_upper_2d(first, np.asarray(e, float))["kappa_upper"]
    return {"lower": lower, "upper": upper}


def readout_refit(Zb: np.ndarray, y: np.ndarray, hidden: np.ndarray, readout: np.ndarray, beta: float):
    """The grade's gates with a refit, balanced read-out: ``(hidden', readout')`` (float64; module docstring)."""
    trained = np.flatnonzero(np.asarray(readout) != 0)
    H = np.asarray(hidden, float)[:, trained]
    F = np.maximum(Zb @ H, 0.0)
    n = len(y)
    a = np.linalg.solve(F.T @ F / n + beta * np.eye(len(trained)), F.T @ y / n)
    norms = np.linalg.norm(H, axis=0)
    scale = np.sqrt(np.abs(a) / np.where(norms > 0, norms, 1.0))  # ||c u|| = |a / c|
    scale = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
    return H * scale, a / scale


def refute_optimality(
    Zb: np.ndarray,
    y: np.ndarray,
    hidden: np.ndarray,
    readout: np.ndarray,
    beta: float,
    rtol: float,
    rng: np.random.Generator,
    n_starts: int = 600,
    iterations: int = 12,
    exact_checks: int = 6,
) -> dict:
    """Try to prove a grade is not the global optimum of its program over all patterns.

    ``Zb`` (n x q, bias column last) and ``y`` are the grade's input and target.  Returns the
    best certified ``kappa_lower``, certified lower bounds of the relative suboptimality
    ``(P - P*) / P`` from an added neuron (``relative_suboptimality_lower``) and from a refit
    read-out (``refit_relative_decrease_lower``), and ``refuted``: one of them exceeds ``rtol``.
    """
    _check_beta(beta)
    Zb = np.asarray(Zb, dtype=float)
    y = np.asarray(y, dtype=float)
    n = Zb.shape[0]
    lam, primal, neurons = exact_grade(Zb, y, hidden, readout, beta)
    own = np.asarray(hidden)[:, np.asarray(readout) != 0]
    gates, values = _gate_search(Zb, np.array([float(r) for r in lam]), _starts(Zb, rng, n_starts, own), iterations)
    b_arb = arb(to_fmpq(beta))
    kappa_lower, decrease, best_gate, improving_gate = 0.0, arb(0), None, None
    for u, s, hh, unorm in _certified_gates(Zb, lam, gates, np.argsort(values)[::-1][:exact_checks]):
        k_low = arb(s) / n / unorm
        if lower_float(k_low) > kappa_lower:
            kappa_lower, best_gate = lower_float(k_low), u
        excess = arb(s) / n - b_arb * unorm
        if excess > 0:
            dec = n * excess * excess / (2 * arb(hh))
            if lower_float(dec) > lower_float(decrease):
                decrease, improving_gate = dec, u
    p_arb = arb(primal)
    relative = max(lower_float(decrease / p_arb), 0.0) if lower_float(decrease) > 0 else 0.0
    refit = 0.0
    if neurons:
        H2, a2 = readout_refit(Zb, y, hidden, readout, beta)
        if np.all(np.isfinite(H2)) and np.all(np.isfinite(a2)):
            _, primal2, _ = exact_grade(Zb, y, H2, a2, beta)
            if primal2 < primal:
                refit = max(lower_float((arb(primal) - arb(primal2)) / p_arb), 0.0)
    return {
        "kappa_lower": kappa_lower,
        "beta": beta,
        "kappa_over_beta": kappa_lower / beta if beta > 0 else None,
        "primal": float(primal),
        "decrease_lower": max(lower_float(decrease), 0.0),
        "relative_suboptimality_lower": relative,
        "refit_relative_decrease_lower": refit,
        "refuted": max(relative, refit) > rtol,
        "neurons": neurons,
        "gates_searched": int(gates.shape[1]),
        "best_gate": None if best_gate is None else best_gate.tolist(),  # largest certified kappa
        "improving_gate": None if improving_gate is None else improving_gate.tolist(),  # largest decrease
    }
