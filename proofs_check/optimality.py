"""Rigorous optimality certificate of a first grade on 1-D data (THEORY section 4).

Independent of the solver and of ``mgdl_convex``: from the grade's weights, its samples
``x_j`` and targets ``y_j`` (float64, hence exact dyadic rationals) and its beta.

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
  taken in ball arithmetic.
* ``D = (lam' . y - ||lam'||^2 / 2) / n`` with ``lam' = lam min(1, beta / kappa_upper)``
  lower-bounds the optimum over *all* patterns, i.e. the global optimum of the non-convex
  grade of any width.  ``P - D`` (an upper bound of it) is the certified suboptimality.
"""

from __future__ import annotations

from flint import arb, fmpq

from .bounds1d import upper_float
from .pieces import to_fmpq

__all__ = ["first_grade_certificate"]


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


def first_grade_certificate(hidden, readout, x, y, beta: float) -> dict:
    """Certified primal, dual and gap of a first grade on 1-D samples (module docstring)."""
    n = len(x)
    xs = [to_fmpq(v) for v in x]
    ys = [to_fmpq(v) for v in y]
    trained = [k for k in range(len(readout)) if readout[k] != 0]
    U = [(to_fmpq(hidden[0, k]), to_fmpq(hidden[1, k])) for k in trained]
    A = [to_fmpq(readout[k]) for k in trained]
    zero = fmpq(0)
    g = []
    for xj in xs:
        total = zero
        for (w, b), a in zip(U, A):
            pre = w * xj + b
            if pre > 0:
                total += a * pre
        g.append(total)
    lam = [yj - gj for yj, gj in zip(ys, g)]
    b_q = to_fmpq(beta)
    penalty = sum((w * w + b * b + a * a for (w, b), a in zip(U, A)), zero) / 2
    primal = sum((r * r for r in lam), zero) / (2 * n) + b_q * penalty

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
    kappa_up = upper_float(arb(kappa_n) / n)
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
    }
