"""Exact piecewise-linear form of a 1-D multigrade network, grade by grade.

A multigrade ReLU network on an interval is continuous piecewise linear in x.  The float64
weights are converted to exact rationals (python-flint ``fmpq``; every float is a dyadic
rational, so this is exact) and the pieces are propagated grade by grade: on a piece each
feature is affine, ``z(x) = zs x + zt``; a neuron's pre-activation ``s x + t`` changes sign at
most once, at the rational ``x = -t / s``; splitting the piece there makes every neuron either
on or off, and the grade's features and output stay affine.

So grade k has its own partition ``P_k`` of the domain, which refines ``P_(k-1)``, with the
approximants ``G_j(x) = S[j] x + T[j]`` (j <= k) affine on each of its pieces, all exact
(:func:`partitions`).  A search about grade k needs ``P_k`` only, not the partition of the whole
scheme (:func:`exact_pieces`, the last one), which can be many times finer; :func:`merged` joins
neighbours on which the grades it is asked about have the same affine form.

The features of all pieces of a grade are one exact rational matrix (slopes and intercepts of
``[z, 1]``), so each grade's pre-activations are one matrix product in FLINT.  Only the layers
are read: ``hidden`` (q x W, bias row last) and ``readout`` (W) per grade.  A grade whose
output is identically zero on the domain is recognised exactly (:func:`zero_grades`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import arb, fmpq, fmpq_mat

from .balls import fmpq_matrix, lower_float, to_fmpq, upper_float

__all__ = ["Piece", "partitions", "exact_pieces", "merged", "zero_grades"]


@dataclass(frozen=True)
class Piece:
    """``[a, b]`` with the approximants ``G_j(x) = S[j] x + T[j]`` (j = 0: zero) affine on it."""

    a: fmpq
    b: fmpq
    S: tuple
    T: tuple


def _matrix(A: np.ndarray) -> list[list[fmpq]]:
    return [[to_fmpq(v) for v in row] for row in np.atleast_2d(A)]


U = 2.0**-53
TINY = 2.0**-1000  # absolute slack per bound: covers gradual underflow


def _gamma(m: int) -> float:
    return m * U / (1 - m * U)


@dataclass
class _Features:
    """``[z, 1]`` on each of P pieces as ``slope x + intercept``: rows 0..P-1 the slopes, P..2P-1 the intercepts.

    ``exact`` (2P x q rationals); ``approx`` its float64 values with ``|exact - approx| <= err``.
    """

    exact: fmpq_mat
    approx: np.ndarray
    err: np.ndarray

    def times(self, H: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
        """``[slopes; intercepts] @ H``: exact entries (row-major), float64 values and their error radii."""
        exact = (self.exact * fmpq_matrix(H)).entries()
        aH = np.abs(H)
        g = _gamma(2 * H.shape[0] + 8)
        approx = self.approx @ H
        err = (self.err @ aH + g * (np.abs(self.approx) @ aH)) * (1 + g) + TINY
        return exact, approx, err


def _signs(s, es, t, et, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Per piece and neuron: (on, off) where ``s x + t`` is certainly > 0 (< 0) for all x in ``[lo, hi]``.

    ``s, t`` (P x W) are float64 values within ``es, et`` of the exact ones; ``[lo, hi]`` (P)
    contains the piece.  A neuron neither on nor off is decided exactly by the caller.
    """
    c = ((lo + hi) / 2)[:, None]
    h = (np.maximum(hi[:, None] - c, c - lo[:, None])) * (1 + 4 * U)
    with np.errstate(all="ignore"):  # inf or NaN (overflow) make both tests False: decided exactly
        v = s * c + t
        bound = (es * np.abs(c) + et + (np.abs(s) + es) * h + _gamma(3) * (np.abs(s * c) + np.abs(t)))
        bound = bound * (1 + _gamma(8)) + TINY
        return v - bound > 0, v + bound < 0  # the sign of a float difference is exact


def _split(a: fmpq, b: fmpq, s: list, t: list, on: np.ndarray, undecided) -> list[tuple[fmpq, fmpq, np.ndarray]]:
    """``[a, b]`` cut where a pre-activation ``s_j x + t_j`` changes sign; per part, which neurons are on.

    ``on`` holds the float decisions; the ``undecided`` neurons are decided here, exactly.
    """
    on, toggles = on.copy(), {}
    for j in undecided:
        sj, tj = s[j], t[j]
        if sj == 0:
            on[j] = tj > 0
            continue
        r = -tj / sj
        if a < r < b:
            on[j] = sj < 0  # left of its root: on when decreasing
            toggles.setdefault(r, []).append(j)
        else:
            on[j] = (r <= a) == (sj > 0)  # the whole piece lies right (or left) of the root
    parts, left = [], a
    for r in sorted(toggles):
        parts.append((left, r, on.copy()))
        for j in toggles[r]:
            on[j] = not on[j]
        left = r
    parts.append((left, b, on))
    return parts


def _float_ends(x: fmpq) -> tuple[float, float]:
    ball = arb(x)
    return lower_float(ball), upper_float(ball)


def _cut(prev: list[Piece], ends: np.ndarray, st: list, on: np.ndarray, off: np.ndarray):
    """Every piece cut where a neuron of the grade changes sign: ``(part, parent, mask, float ends)`` lists."""
    P, W = on.shape
    parts, parent, masks, new_ends = [], [], [], []
    for i, p in enumerate(prev):
        undecided = np.flatnonzero(~(on[i] | off[i]))
        if len(undecided):
            s, t = st[i * W : (i + 1) * W], st[(P + i) * W : (P + i + 1) * W]
            cuts = _split(p.a, p.b, s, t, on[i], undecided)
        else:
            cuts = [(p.a, p.b, on[i])]
        for c, d, mask in cuts:
            parts.append((c, d))
            parent.append(i)
            masks.append(mask)
            lo = ends[i, 0] if c == p.a else _float_ends(c)[0]
            hi = ends[i, 1] if d == p.b else _float_ends(d)[1]
            new_ends.append((lo, hi))
    return parts, np.array(parent), np.array(masks, dtype=bool).reshape(-1, W), np.array(new_ends, dtype=float)


def _masked(st: list, approx: np.ndarray, err: np.ndarray, parent: np.ndarray, masks: np.ndarray) -> _Features:
    """The features ``[relu(pre-activation), 1]`` of the new pieces: each parent's rows, zero where off."""
    zero, one = fmpq(0), fmpq(1)
    (n, W), P = masks.shape, len(approx) // 2
    slopes, intercepts = [], []
    for i, mask in zip(parent, masks):
        slopes += [st[i * W + j] if m else zero for j, m in enumerate(mask)] + [zero]
        intercepts += [st[(P + i) * W + j] if m else zero for j, m in enumerate(mask)] + [one]
    col, ones = np.zeros((n, 1)), np.ones((n, 1))

    def rows(A, last):
        return np.hstack([np.where(masks, A[parent], 0.0), last])

    return _Features(
        fmpq_mat(2 * n, W + 1, slopes + intercepts),
        np.vstack([rows(approx[:P], col), rows(approx[P:], ones)]),
        np.vstack([rows(err[:P], col), rows(err[P:], col)]),
    )


def partitions(layers, lo: float, hi: float) -> list[list[Piece]]:
    """``[P_0, P_1, ..., P_K]``: grade k's exact partition of ``[lo, hi]``; its pieces carry ``S, T`` for grades 0..k.

    Each grade's neurons are decided on each piece in float64 with certified error radii where
    that is conclusive, and exactly (their rational roots) where it is not.
    """
    zero = fmpq(0)
    out = [[Piece(to_fmpq(lo), to_fmpq(hi), (zero,), (zero,))]]
    feats = _Features(fmpq_mat(2, 2, [1, 0, 0, 1]), np.eye(2), np.zeros((2, 2)))
    ends = np.array([[lo, hi]], dtype=float)  # float intervals containing each piece
    for layer in layers:
        prev, P = out[-1], len(out[-1])
        st, approx, err = feats.times(layer.hidden)
        on, off = _signs(approx[:P], err[:P], approx[P:], err[P:], ends[:, 0], ends[:, 1])
        parts, parent, masks, ends = _cut(prev, ends, st, on, off)
        feats = _masked(st, approx, err, parent, masks)
        g = (feats.exact * fmpq_matrix(np.append(layer.readout, 0.0))).entries()  # slopes, then intercepts
        n = len(parts)
        out.append(
            [
                Piece(c, d, prev[i].S + (prev[i].S[-1] + g[j],), prev[i].T + (prev[i].T[-1] + g[n + j],))
                for j, ((c, d), i) in enumerate(zip(parts, parent))
            ]
        )
    return out


def exact_pieces(layers, lo: float, hi: float) -> list[Piece]:
    """Pieces of the whole scheme on ``[lo, hi]``; each piece is affine for every grade."""
    return partitions(layers, lo, hi)[-1]


def merged(pieces: list[Piece], grades) -> list[Piece]:
    """Neighbouring pieces joined where every grade in ``grades`` has the same ``S, T`` on both (exact).

    The joined piece keeps the first piece's ``S, T``, which are valid for ``grades`` on all of it.
    """
    out = []
    for p in pieces:
        q = out[-1] if out else None
        if q is not None and all(q.S[k] == p.S[k] and q.T[k] == p.T[k] for k in grades):
            out[-1] = Piece(q.a, p.b, q.S, q.T)
        else:
            out.append(p)
    return out


def zero_grades(pieces: list[Piece]) -> list[bool]:
    """Per grade k = 1..K: True when ``g_k = G_k - G_(k-1)`` is identically zero on the domain (exact)."""
    K = len(pieces[0].S) - 1
    return [all(p.S[k] == p.S[k - 1] and p.T[k] == p.T[k - 1] for p in pieces) for k in range(1, K + 1)]
