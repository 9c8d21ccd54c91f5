"""Exact piecewise-linear form of a 1-D multigrade network.

A multigrade ReLU network on an interval is continuous piecewise linear in x.
The float64 weights are converted to exact rationals (python-flint ``fmpq``;
every float is a dyadic rational, so this is exact) and the pieces are
propagated grade by grade: on a piece each feature is affine,
``z(x) = zs x + zt``; a neuron's pre-activation ``s x + t`` changes sign at
most once, at the rational ``x = -t / s``; splitting the piece there makes
every neuron either on or off, and the grade's features and output stay
affine.  The result, per grade k, is a partition of the domain into rational
intervals with the approximant ``G_k(x) = S x + T`` on each, all exact.

Only the layers are read: ``hidden`` (q x W, bias row last) and ``readout`` (W) per grade.
A grade whose output is identically zero on the domain is recognised exactly
(:func:`zero_grades`): its S and T equal the previous grade's on every piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import fmpq

from .balls import to_fmpq

__all__ = ["Piece", "exact_pieces", "zero_grades"]


@dataclass(frozen=True)
class Piece:
    """``[a, b]`` with the approximant after each grade, ``G_k(x) = S[k] x + T[k]`` (k = 0: zero)."""

    a: fmpq
    b: fmpq
    S: tuple
    T: tuple


def _matrix(A: np.ndarray) -> list[list[fmpq]]:
    return [[to_fmpq(v) for v in row] for row in np.atleast_2d(A)]


def exact_pieces(layers, lo: float, hi: float) -> list[Piece]:
    """Pieces of the whole scheme on ``[lo, hi]``; each piece is affine for every grade."""
    zero = fmpq(0)
    # state per piece: (a, b, feature slopes, feature intercepts, S list, T list)
    state = [(to_fmpq(lo), to_fmpq(hi), [fmpq(1)], [zero], [zero], [zero])]
    for layer in layers:
        H = _matrix(layer.hidden)
        a_out = [to_fmpq(v) for v in layer.readout]
        q, W = len(H), len(a_out)
        new_state = []
        for a, b, zs, zt, S, T in state:
            s = [sum((zs[i] * H[i][j] for i in range(q - 1)), zero) for j in range(W)]
            t = [sum((zt[i] * H[i][j] for i in range(q - 1)), zero) + H[q - 1][j] for j in range(W)]
            cuts = sorted({-t[j] / s[j] for j in range(W) if s[j] != 0 and a < -t[j] / s[j] < b})
            ends = [a, *cuts, b]
            for c, d in zip(ends[:-1], ends[1:]):
                m = (c + d) / 2
                on = [s[j] * m + t[j] > 0 for j in range(W)]
                ns = [s[j] if on[j] else zero for j in range(W)]
                nt = [t[j] if on[j] else zero for j in range(W)]
                gs = sum((a_out[j] * ns[j] for j in range(W) if on[j]), zero)
                gt = sum((a_out[j] * nt[j] for j in range(W) if on[j]), zero)
                new_state.append((c, d, ns, nt, S + [S[-1] + gs], T + [T[-1] + gt]))
        state = new_state
    return [Piece(a, b, tuple(S), tuple(T)) for a, b, _, _, S, T in state]


def zero_grades(pieces: list[Piece]) -> list[bool]:
    """Per grade k = 1..K: True when ``g_k = G_k - G_(k-1)`` is identically zero on the domain (exact)."""
    K = len(pieces[0].S) - 1
    return [all(p.S[k] == p.S[k - 1] and p.T[k] == p.T[k - 1] for p in pieces) for k in range(1, K + 1)]
