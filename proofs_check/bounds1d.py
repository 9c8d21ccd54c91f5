"""Rigorous bounds for 1-D residuals in ball arithmetic (python-flint / Arb).

On a piece ``[a, b]`` the residual after grade k is ``e(x) = f(x) - (S x + T)``
with exact rational S, T (:mod:`proofs_check.pieces`).  On a box ``I`` with
midpoint m and half-width r, the mean-value form encloses it::

    e(I)  in  e(m) + e'(I) [-r, r],      e'(I) = f'(I) - S

(the natural extension ``f(I) - (S I + T)`` where ``f'`` is unbounded on I).
Three branch-and-bound procedures use it:

* :func:`sup_abs`: an enclosure ``[L, U]`` of ``sup |e_k|`` over the domain,
  with one global lower bound L shared by all pieces (else pieces where
  ``|e| ~ 0`` never meet a relative tolerance).
* :func:`prove_monotone`: ``|e_k| <= |e_{k-1}|`` on a piece.  With
  ``g = e_{k-1} - e_k`` affine, split at its root; where g has sign s the claim
  is ``phi = s (e_{k-1} + e_k) >= 0``.  Boxes are proved (lower bound >= 0) or
  a point with ``phi < 0`` certified is a counterexample.
* :func:`lp_integrals`: enclosures of ``int |e_k|^p`` using
  ``int_I |e|^p in 2r |e(m)|^p +- p (sup_I |e|)^(p-1) sup_I |e'| r^2``,
  refined where the enclosure is widest.

Every decision is taken in ball arithmetic; floats appear only in reports.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from flint import arb, fmpq

from .progress import emit

__all__ = ["Residual", "sup_abs", "prove_monotone", "lp_integrals", "lower_float", "upper_float"]


def lower_float(x: arb) -> float:
    lo = x.lower()
    return math.nextafter(float(lo.mid()) - float(lo.rad()), -math.inf)


def upper_float(x: arb) -> float:
    hi = x.upper()
    return math.nextafter(float(hi.mid()) + float(hi.rad()), math.inf)


def _box(c: fmpq, d: fmpq) -> arb:
    return arb(c).union(arb(d))


@dataclass(frozen=True)
class Residual:
    """``e(x) = f(x) - (S x + T)`` for a target with ball-arithmetic value and derivative."""

    target: object
    S: fmpq
    T: fmpq

    def at(self, x: fmpq) -> arb:
        return self.target.arb(arb(x)) - (arb(self.S) * arb(x) + arb(self.T))

    def on(self, c: fmpq, d: fmpq) -> tuple[arb, arb | None, arb]:
        """Enclosures of e and e' on [c, d] (e' is None where it is not finite), and of e at the midpoint."""
        m = (c + d) / 2
        r = arb((d - c) / 2)
        box = _box(c, d)
        e_m = self.at(m)
        slope = self.target.arb_gradient(box)[0] - arb(self.S)
        if slope.is_finite():
            return e_m + slope * arb(0, 1) * r, slope, e_m
        natural = self.target.arb(box) - (arb(self.S) * box + arb(self.T))
        return natural, None, e_m


def _abs_upper(x: arb) -> arb:
    return arb(x.abs_upper())


def sup_abs(residuals, rtol: float = 1e-6, max_boxes: int = 200_000):
    """Enclosure (L, U) of sup |e| over the union of pieces; residuals: [(c, d, Residual)].

    Returns (L, U, worst point, converged).
    """
    L, worst = arb(0), None
    heap: list = []
    counter = 0

    def push(c, d, res):
        nonlocal L, worst, counter
        enc, _, e_m = res.on(c, d)
        low = arb(e_m.abs_lower())
        if worst is None or lower_float(low) > lower_float(L):
            L, worst = low, (c + d) / 2
        up = _abs_upper(enc)
        counter += 1
        heapq.heappush(heap, (-upper_float(up), counter, c, d, res, up))

    for c, d, res in residuals:
        push(c, d, res)
    boxes = len(heap)
    while heap:
        _, _, c, d, res, up = heap[0]
        if up <= L * (1 + rtol) or boxes >= max_boxes:
            break
        heapq.heappop(heap)
        m = (c + d) / 2
        push(c, m, res)
        push(m, d, res)
        boxes += 2
        emit("sup |e|: %d boxes", boxes)
    U = heap[0][5] if heap else arb(0)
    converged = not heap or heap[0][5] <= L * (1 + rtol)
    return L, max_upper(U, L), worst, converged


def max_lower(a: arb, b: arb) -> arb:
    return a if a.lower() >= b.lower() else b


def max_upper(a: arb, b: arb) -> arb:
    return a if a.upper() >= b.upper() else b


def prove_monotone(prev: Residual, cur: Residual, c: fmpq, d: fmpq, max_boxes: int = 2000, min_width: float = 1e-13):
    """Prove |cur| <= |prev| on [c, d] or find a certified counterexample.

    Returns (status, point, excess): status "proved", "counterexample" (point
    where |e_k| - |e_{k-1}| > 0 is certified, with a float of that excess) or
    "unresolved" (budget or width exhausted).
    """
    gs, gt = cur.S - prev.S, cur.T - prev.T  # g = G_k - G_{k-1} = e_{k-1} - e_k
    if gs == 0 and gt == 0:
        return "proved", None, 0.0
    ends = [c, d]
    if gs != 0 and c < -gt / gs < d:
        ends = [c, -gt / gs, d]
    status = "proved"
    for lo, hi in zip(ends[:-1], ends[1:]):
        m = (lo + hi) / 2
        sign = 1 if gs * m + gt > 0 else -1
        stack = [(lo, hi)]
        boxes = 0
        while stack:
            u, v = stack.pop()
            boxes += 1
            emit("C1: %d boxes (this piece)", boxes)
            w = (u + v) / 2
            ep, _, ep_w = prev.on(u, v)
            ec, _, ec_w = cur.on(u, v)
            if sign * (ep_w + ec_w) < 0:
                return "counterexample", w, upper_float(abs(ec_w) - abs(ep_w))
            if sign * (ep + ec) >= 0:
                continue
            if boxes >= max_boxes or float(v - u) < min_width * max(1.0, abs(float(v))):
                status = "unresolved"
                continue
            stack += [(w, v), (u, w)]
    return status, None, 0.0


def lp_integrals(residuals, ps, rtol: float = 1e-3, max_boxes: int = 30_000):
    """Enclosures of ``int |e|^p`` over the union of pieces for each p in ``ps``.

    On a sub-interval B = [m - r, m + r], ``e = a + g (x - m) + R`` (``a = e(m)``, g the midpoint of
    the enclosure of e' on B, ``|R| <= rho = rad(a) + max|e'(B) - g| r``, O(r^2)).  The integral of
    ``(a + g s)^p`` is exact for integer p; odd p use ``|.|`` where the affine part keeps its sign
    and ``[0, 2 r max|L|^p]`` where it does not; ``| |L + R|^p - |L|^p | <= p (max|L| + rho)^(p-1) rho``.
    So a box's width is O(r^3) and N boxes give O(1/N^2); the first-order bounds
    ``2 r [min|e|^p, max|e|^p]`` are kept where they are tighter.

    Returns ({p: (lower arb, upper arb)}, converged).
    """

    def box_bounds(c, d, res):
        r = arb((d - c) / 2)
        enc, slope, e_m = res.on(c, d)
        sup_e = _abs_upper(enc)
        inf_e = arb(enc.abs_lower())
        if slope is not None:
            # second order: e = a + g (x - m) + R, g the midpoint of e'(B), |R| <= rho (mean value)
            a, g = arb(e_m.mid()), arb(slope.mid())
            rho = arb((e_m.rad() + abs(slope - g) * r).upper())
            M = abs(a) + abs(g) * r  # max |a + g s| for |s| <= r
        out = {}
        for p in ps:
            lo = 2 * r * inf_e**p
            hi = 2 * r * sup_e**p
            if slope is not None:
                if float(p).is_integer():
                    IL = 2 * r * _affine_power_mean(a, g, r, int(p))
                    if int(p) % 2 == 1:
                        IL = abs(IL) if abs(a) > abs(g) * r else arb(0).union(2 * r * M**p)
                else:
                    IL = (2 * r * arb(max(lower_float(abs(a) - abs(g) * r), 0.0)) ** p).union(2 * r * M**p)
                rem = 2 * r * p * (M + rho) ** (p - 1) * rho
                lo = max_lower(lo, IL - rem)
                hi = min_upper(hi, IL + rem)
            out[p] = (lo, hi)
        return out

    heap = []
    approx = {p: [0.0, 0.0] for p in ps}  # float running sums, for the stopping test only
    counter = 0

    def push(c, d, res):
        nonlocal counter
        b = box_bounds(c, d, res)
        fl = {p: (lower_float(b[p][0]), upper_float(b[p][1])) for p in ps}
        for p in ps:
            approx[p][0] += fl[p][0]
            approx[p][1] += fl[p][1]
        counter += 1
        heapq.heappush(heap, (-max(fl[p][1] - fl[p][0] for p in ps), counter, c, d, res, b, fl))

    for c, d, res in residuals:
        push(c, d, res)

    def done():
        return all(approx[p][1] - approx[p][0] <= rtol * approx[p][0] for p in ps)

    while heap and len(heap) < max_boxes and not done():
        emit("L^p: %d boxes", len(heap))
        for _ in range(min(len(heap), 64)):
            _, _, c, d, res, _, fl = heapq.heappop(heap)
            for p in ps:
                approx[p][0] -= fl[p][0]
                approx[p][1] -= fl[p][1]
            m = (c + d) / 2
            push(c, m, res)
            push(m, d, res)
    # the enclosure itself: a sum of balls, rigorous whatever the float bookkeeping did
    result = {}
    for p in ps:
        lo, hi = arb(0), arb(0)
        for item in heap:
            lo += item[5][p][0]
            hi += item[5][p][1]
        result[p] = (arb(lo.lower()), arb(hi.upper()))
    converged = all(result[p][1] - result[p][0] <= rtol * result[p][0] for p in ps)
    return result, converged


def _affine_power_mean(a: arb, g: arb, r: arb, p: int) -> arb:
    """Mean of ``(a + g s)^p`` for s uniform on [-r, r]: odd moments vanish, ``E s^k = r^k / (k + 1)``."""
    return sum((math.comb(p, k) * a ** (p - k) * g**k * r**k / (k + 1) for k in range(0, p + 1, 2)), arb(0))


def min_upper(a: arb, b: arb) -> arb:
    return a if a.upper() <= b.upper() else b
