"""Where can the residual vanish?  A rigorous enclosure of the zeros of ``e_K`` on a 1-D domain.

On every exact linear piece of the scheme (:mod:`proofs_check.pieces`) the residual is
``e(x) = f(x) - (S x + T)``.  A box ``[u, v]`` of a piece is dropped when the ball enclosure of
e over it (mean-value form, :class:`proofs_check.bounds1d.Residual`) excludes 0, or when e is
monotone there (its derivative's enclosure excludes 0) and has the same certified sign at both
ends; otherwise it is bisected, down to a width of ``width_rtol`` times the domain's.  The boxes
left, merged with their neighbours, are the *clusters*: every zero of e lies in one of them, and
e has no zero anywhere else (each dropped box is a proof of that).  A box that would still need
splitting when the budget runs out is kept whole, so the enclosure stays sound (only coarser),
and the result says it did not converge.

:func:`exact_features` evaluates the scheme's features at a rational point exactly, for a fit
that must decide signs of pre-activations there without rounding.

Used by the trainer's theorem mode: a grade that must satisfy ``|e_k| <= |e_(k-1)|`` everywhere
has to vanish on a neighbourhood of every zero of ``e_(k-1)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import arb, fmpq

from .balls import lower_float, to_fmpq, upper_float
from .bounds1d import Residual
from .pieces import _matrix, exact_pieces

__all__ = ["ZeroSet", "residual_zeros", "exact_features"]


@dataclass(frozen=True)
class ZeroSet:
    """Float intervals ``(lo, hi)`` that together contain every zero of the residual, and the search's size.

    ``converged`` is False when the box budget ran out: the intervals are then still a sound
    enclosure, only coarser than asked.
    """

    intervals: tuple[tuple[float, float], ...]
    boxes: int
    converged: bool

    def to_dict(self) -> dict:
        return {"intervals": [list(i) for i in self.intervals], "boxes": self.boxes, "converged": self.converged}


def _no_zero(res: Residual, u: fmpq, v: fmpq) -> bool:
    enc, slope, _ = res.on(u, v)
    if enc > 0 or enc < 0:
        return True
    if slope is not None and (slope > 0 or slope < 0):  # monotone: a zero only between opposite signs
        a, b = res.at(u), res.at(v)
        return bool((a > 0 and b > 0) or (a < 0 and b < 0))
    return False


def residual_zeros(layers, target, domain, width_rtol: float = 1e-9, max_boxes: int = 200_000) -> ZeroSet:
    """Enclose the zeros of ``e_K = f - G_K`` (K = len(layers)) on a 1-D domain (module docstring)."""
    domain = np.asarray(domain, dtype=float)
    if domain.shape != (1, 2):
        raise ValueError(f"residual_zeros works on a 1-D domain (shape (1, 2)), got shape {domain.shape}")
    if not getattr(target, "rigorous", False):
        raise ValueError(f"target {getattr(target, 'name', target)!r} has no ball-arithmetic form and gradient")
    lo, hi = float(domain[0, 0]), float(domain[0, 1])
    min_width = to_fmpq(width_rtol * (hi - lo))
    K = len(layers)
    kept: list[tuple[fmpq, fmpq]] = []
    boxes, converged = 0, True
    for p in exact_pieces(layers, lo, hi):
        res = Residual(target, p.S[K], p.T[K])
        stack = [(p.a, p.b)]
        while stack:
            u, v = stack.pop()
            boxes += 1
            if _no_zero(res, u, v):
                continue
            if v - u <= min_width:
                kept.append((u, v))
                continue
            if boxes >= max_boxes:
                converged = False
                kept.append((u, v))
                continue
            w = (u + v) / 2
            stack += [(w, v), (u, w)]
    kept.sort()
    clusters: list[list[fmpq]] = []
    for u, v in kept:
        if clusters and u <= clusters[-1][1]:
            clusters[-1][1] = max(clusters[-1][1], v)
        else:
            clusters.append([u, v])
    intervals = tuple((max(lo, lower_float(arb(u))), min(hi, upper_float(arb(v)))) for u, v in clusters)
    return ZeroSet(intervals, boxes, converged)


def exact_features(layers, x) -> list[fmpq]:
    """The features ``z_K(x)`` of a 1-D scheme at the point x (a float or an ``fmpq``), exactly."""
    z = [x if isinstance(x, fmpq) else to_fmpq(x)]
    zero = fmpq(0)
    for layer in layers:
        H = _matrix(layer.hidden)
        q, W = len(H), len(H[0])
        pre = [sum((z[i] * H[i][j] for i in range(q - 1)), zero) + H[q - 1][j] for j in range(W)]
        z = [v if v > 0 else zero for v in pre]
    return z
