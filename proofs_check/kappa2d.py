"""A rigorous upper bound of kappa(lam) over ALL activation patterns of 2-D data.

``kappa(lam) = max_{||u|| <= 1} |phi(u)| / n`` with ``phi(u) = sum_j lam_j relu(z_j . u)``,
``z_j = (x_j, y_j, 1)``.  ``phi`` is linear on every cell of the central arrangement of the
planes ``H_j = {u : z_j . u = 0}`` in R^3, so the maximum over the unit sphere is attained at

* a **vertex** (a ray where two or more planes meet: the gate's line passes through two data
  points), value ``|phi(v)| / ||v||``;
* the relative interior of an **edge** (an arc of one great circle ``H_i``): value
  ``||P_{H_i} c_F||`` where ``c_F = sum_{j active on F} lam_j z_j``, if that projection points
  into the arc;
* the interior of a **cell**: value ``||c_F||`` if ``c_F / ||c_F||`` lies in the cell.

Every cell and edge touches a vertex once there are two distinct points, so a rotational sweep
of a line around each data point ``p_i`` visits every edge on ``H_i`` and both cells beside it
(O(n log n) per point, O(n^2) candidates checked in O(n) each: O(n^3) in all).

Exactness is where it matters and nowhere else:

* the combinatorics are exact.  Directions ``p_j - p_i`` are sorted by angle with float keys
  and every near tie is re-decided with exact integer cross products, so collinear points
  (grids are full of them) form one event and the patterns on the arcs are the true ones.
  Assuming general position instead produces false certificates on such data.
* the values are computed in float64 and bounded with an a-priori rounding-error bound
  (``gamma_m = m u / (1 - m u)``, Higham ch. 3) added once to the maximum: a candidate is
  dropped only when it is outside its face by more than its error bound, and a dropped
  candidate's maximum is attained on the face's boundary, which is itself enumerated.

The result is an upper bound of the exact kappa (and within about 1e-12 relative of it): the
dual point ``lam * min(1, beta / kappa_upper)`` is dual feasible for the program over all
patterns of the data, whatever the pattern set the solver used.
"""

from __future__ import annotations

import math
from functools import cmp_to_key

import numpy as np

from .balls import to_fmpq

__all__ = ["kappa_upper_2d", "MAX_POINTS_2D"]

U = 2.0**-53
MAX_POINTS_2D = 2048  # O(n^3): about a minute at this size on one core
_TIE = 1e-10  # float angles closer than this are re-ordered exactly


def _gamma(m: int) -> float:
    return m * U / (1 - m * U)


def _exact_integers(P: np.ndarray) -> list[tuple[int, int]]:
    """The points scaled by one power of two so that every coordinate is an exact integer."""
    fr = [(to_fmpq(x), to_fmpq(y)) for x, y in P]
    den = max(max(int(a.q), int(b.q)) for a, b in fr)  # the denominators are powers of two
    return [(int(a.p) * (den // int(a.q)), int(b.p) * (den // int(b.q))) for a, b in fr]


def _sorted_events(P: np.ndarray, Pint, i: int):
    """Exact angular order of the directions +-(p_j - p_i), j != i, grouped by equal direction.

    Returns ``(rank, theta, rep)``: ``rank[e]`` the group of event e (events 0..N-2 are +d_j,
    N-1..2N-3 are -d_j, j over the other points in order), ``theta[g]`` a float angle of group g
    in [0, 2 pi) and ``rep[g]`` a float direction of group g.
    """
    d = np.delete(P, i, axis=0) - P[i]
    others = [j for j in range(len(P)) if j != i]
    D = np.vstack([d, -d])
    half = np.where((D[:, 1] > 0) | ((D[:, 1] == 0) & (D[:, 0] > 0)), 0, 1)
    ang = np.arctan2(D[:, 1], D[:, 0])
    ang = np.where(ang < 0, ang + 2 * math.pi, ang)
    ang = np.where((half == 0) & (ang >= math.pi), math.nextafter(math.pi, 0), ang)
    ang = np.where((half == 1) & (ang < math.pi), math.pi, ang)
    order = np.lexsort((ang, half))
    xi, yi = Pint[i]
    n_other = len(others)

    def exact(e):  # the exact direction of event e, reduced to lowest terms
        j = others[e % n_other]
        s = 1 if e < n_other else -1
        dx, dy = s * (Pint[j][0] - xi), s * (Pint[j][1] - yi)
        g = math.gcd(dx, dy)
        return dx // g, dy // g

    def cmp(a, b):  # counter-clockwise order of two directions in the same half-plane
        cross = a[0] * b[1] - a[1] * b[0]
        return -1 if cross > 0 else (1 if cross < 0 else 0)

    # runs of float-tied events; only runs of two or more are split into exact groups
    new_run = np.concatenate([[True], (np.diff(ang[order]) > _TIE) | (np.diff(half[order]) != 0)])
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    sizes = np.diff(np.append(starts, len(order)))
    sub = np.zeros(len(order), dtype=np.int64)  # exact group within the run, per sorted position
    n_groups = np.ones(len(starts), dtype=np.int64)
    for r in np.flatnonzero(sizes > 1):
        members = order[starts[r] : starts[r] + sizes[r]].tolist()
        keys = [exact(e) for e in members]
        ordered = sorted(set(keys), key=cmp_to_key(cmp))
        index = {k: g for g, k in enumerate(ordered)}
        sub[starts[r] : starts[r] + sizes[r]] = [index[k] for k in keys]
        n_groups[r] = len(ordered)
    group_of_position = (np.cumsum(n_groups) - n_groups)[run_id] + sub
    rank = np.empty(len(D), dtype=np.int64)
    rank[order] = group_of_position
    first = np.full(int(n_groups.sum()), -1)
    first[group_of_position[::-1]] = order[::-1]  # first event (in sorted order) of each group
    theta, rep = ang[first], D[first]
    return rank, theta, rep


def kappa_upper_2d(P: np.ndarray, lam: np.ndarray) -> dict:
    """Rigorous upper bound of kappa(lam) over all patterns of the 2-D points P (module docstring)."""
    P = np.asarray(P, dtype=float)
    lam = np.asarray(lam, dtype=float)
    n = len(P)
    if P.ndim != 2 or P.shape[1] != 2 or lam.shape != (n,) or n == 0:
        raise ValueError("kappa_upper_2d needs n x 2 points and n multipliers")
    if not (np.all(np.isfinite(P)) and np.all(np.isfinite(lam))):
        raise ValueError("kappa_upper_2d: points and multipliers must be finite")
    Q, inverse = np.unique(P, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    L = np.bincount(inverse, weights=lam, minlength=len(Q))
    N = len(Q)
    if N > MAX_POINTS_2D:
        raise ValueError(f"kappa_upper_2d: {N} distinct points exceed MAX_POINTS_2D = {MAX_POINTS_2D}")
    Z = np.column_stack([Q, np.ones(N)])
    Zall = np.column_stack([P, np.ones(n)])
    # a-priori bound of ||c_float - c|| for every c = sum_{j in A} lam_j z_j below: each is a
    # running sum over the sweep, at most 3N signed terms lam_j z_j, every term at most 3 times
    eps = _gamma(6 * n + 8) * 3 * (np.abs(lam) @ np.abs(Zall))
    eps_norm = float(np.linalg.norm(eps)) * (1 + 4 * U)
    qmax = float(np.max(np.linalg.norm(Q, axis=1)))
    counts = {"vertices": 0, "edges": 0, "cells": 0, "cells_tested": 0}
    if N == 1:
        best = abs(L[0]) * float(np.linalg.norm(Z[0]))
        return _result(best, best, eps_norm, qmax, n, N, counts)
    Pint = _exact_integers(Q)
    sweeps = []
    best, c_max = 0.0, 0.0
    # pass 1: vertices and edges (O(N log N) per point); the arcs' sums are kept for pass 2
    for i in range(N):
        rank, theta, rep = _sorted_events(Q, Pint, i)
        m, no = len(theta), N - 1
        a = rank[:no]
        if m % 2 or not np.array_equal((a + m // 2) % m, rank[no:]):
            raise RuntimeError("kappa_upper_2d: the event order is not antipodally symmetric (internal error)")
        others = np.delete(np.arange(N), i)
        LZ = L[others, None] * Z[others]
        # arc t lies between groups t and t+1; point j is active on it iff a_j in {t+1, ..., t+m/2}:
        # it becomes active after group a_j + m/2 (its -d_j) and inactive after group a_j (its +d_j)
        start_active = ((a - 1) % m) < (m // 2)
        delta = np.zeros((m, 3))
        np.add.at(delta, (a + m // 2) % m, LZ)
        np.add.at(delta, a, -LZ)
        c_arc = start_active.astype(float) @ LZ + np.vstack([np.zeros(3), np.cumsum(delta[1:], axis=0)])
        norms = np.linalg.norm(c_arc, axis=1)
        c_max = max(c_max, float(norms.max()))
        # vertices: the gate through p_i along rep[t]; c_arc[t] is exact there (tight points add 0)
        qx, qy = Q[i]
        u = np.column_stack([-rep[:, 1], rep[:, 0], rep[:, 1] * qx - rep[:, 0] * qy])
        vals = np.abs(np.einsum("ij,ij->i", c_arc, u)) / np.linalg.norm(u, axis=1)
        best = max(best, float(vals.max()))
        counts["vertices"] += m
        # edges: projection onto H_i, kept unless it certainly points outside the arc
        zi = Z[i]
        w = c_arc - np.outer(c_arc @ zi / (zi @ zi), zi)
        wn = np.linalg.norm(w, axis=1)
        lo_t, hi_t = theta, np.append(theta[1:], theta[0] + 2 * math.pi)
        margin = 2 * (eps_norm + 16 * U * norms) * math.sqrt(1 + qmax**2) / np.maximum(wn, 1e-300) + 1e-12
        for sign in (1.0, -1.0):
            tw = np.arctan2(-sign * w[:, 0], sign * w[:, 1])
            tw = np.where(tw < 0, tw + 2 * math.pi, tw)
            inside = margin >= 0.5  # too short to place: keep
            for shift in (0.0, 2 * math.pi):
                inside |= (tw + shift >= lo_t - margin) & (tw + shift <= hi_t + margin)
            if inside.any():
                best = max(best, float(wn[inside].max()))
                counts["edges"] += int(inside.sum())
        C = np.vstack([c_arc, c_arc + L[i] * zi])  # the cells beside each arc: p_i off, p_i on
        sweeps.append((i, a, m, others, C, np.linalg.norm(C, axis=1)))
        c_max = max(c_max, float(sweeps[-1][-1].max()))
    # pass 2: a cell can only raise the maximum if ||c|| > best; test those (O(N) each)
    znorm = np.linalg.norm(Z, axis=1)
    Zunit = Z / znorm[:, None]
    for i, a, m, others, C, cn in sweeps:
        (rows,) = np.nonzero(cn > best)
        if rows.size == 0:
            continue
        t = rows % m
        # +1 where the cell's pattern has z_j . u >= 0 (active), -1 where <= 0
        pattern = np.empty((rows.size, N))
        offset = (a[None, :] - t[:, None] - 1).astype(np.int32)  # active iff offset mod m < m/2
        h = m // 2
        pattern[:, others] = 2.0 * ((offset < h - m) | ((offset >= 0) & (offset < h))) - 1.0
        pattern[:, i] = np.where(rows >= m, 1.0, -1.0)
        T = (C[rows] @ Zunit.T) * pattern  # >= 0 everywhere iff c points into the cell
        tol = 2 * (eps_norm + 8 * U * cn[rows]) * (1 + 4 * U)
        counts["cells_tested"] += int(rows.size)
        inside = (T.min(axis=1) >= -tol) | (T.max(axis=1) <= tol)  # c or -c inside
        if inside.any():
            best = max(best, float(cn[rows][inside].max()))
            counts["cells"] += int(inside.sum())
    return _result(best, c_max, eps_norm, qmax, n, N, counts)


def _result(best, c_max, eps_norm, qmax, n, N, counts) -> dict:
    err = eps_norm + c_max * U * (64 + 32 * qmax)
    kappa_n_upper = best * (1 + 16 * U) + err
    upper = math.nextafter(kappa_n_upper / n * (1 + 4 * U), math.inf)
    return {
        "kappa_upper": upper,
        "kappa_estimate": best / n,
        "rounding_bound": err / n,
        "distinct_points": N,
        **counts,
    }
