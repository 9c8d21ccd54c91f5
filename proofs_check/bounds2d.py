"""Rigorous bounds for 2-D residuals by input splitting.

On a box B the approximant ``G_k`` is enclosed by a certified affine form
``a . (x - c) + b +- r`` (:mod:`proofs_check.network`), and the residual ``e = f - G`` by the
mean-value form of ``f - a . (x - c) - b``: ``phi(c) + (grad f(B) - a) . (B - c)`` in arb balls
(where ``grad f`` is not bounded on B, the natural extension ``f(B) - G(B)``).  Only the target
is evaluated in arb; the network's forms are float64 with rounding-error radii.

* :func:`sup_abs_2d`: an enclosure of ``sup |e_k|`` (best-first splitting);
* :func:`prove_monotone_2d`: ``|e_k| <= |e_(k-1)|`` proved box by box, or certified
  counterexamples at float points (box centres, where the forms are certified point values);
* :class:`LpEnclosure2D`: enclosures of ``int |e_k|^p``, second order, refined on demand.

Failing closed: a box whose bounds are NaN or infinite is split first; if it cannot be bounded
within the budget, the enclosure is unbounded and says why.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from flint import arb

from .balls import Enclosure, abs_ball, hull, lower_float, pow_ball, upper_float
from .network import approximant_forms, grade_output_bounds
from .progress import emit
from .searches import Counterexample, MonotoneSearch, SupSearch

__all__ = ["sup_abs_2d", "prove_monotone_2d", "LpEnclosure2D"]

BATCH = 64  # boxes evaluated together
MIN_WIDTH = 1e-12  # relative: boxes narrower than this are not split


def _arb_form(F, i: int):
    """Box i's form of a Forms with m = 1 as arb balls (exact conversions of floats)."""
    return arb(F.A[i, 0, 0]), arb(F.A[i, 0, 1]), arb(F.b[i, 0]), arb(F.r[i, 0])


def _residual_enclosure(target, form, c, h, lo, hi):
    """Ball containing ``e = f - G`` over the box, from G's form (mean-value form of f - affine)."""
    a0, a1, b, r = form
    X = [hull(lo[0], hi[0]), hull(lo[1], hi[1])]
    grad = target.arb_gradient(*X)
    phi_c = target.arb(arb(c[0]), arb(c[1])) - b
    s0, s1 = grad[0] - a0, grad[1] - a1
    if s0.is_finite() and s1.is_finite() and phi_c.is_finite():
        enc = phi_c + s0 * arb(0, h[0]) + s1 * arb(0, h[1])
    else:
        enc = target.arb(*X) - (a0 * (X[0] - arb(c[0])) + a1 * (X[1] - arb(c[1])) + b)
    return enc + arb(0, 1) * r


def _centre_residual(target, form, c):
    """Ball containing ``e(c)`` from G's certified point form at c."""
    _, _, b, r = form
    return target.arb(arb(c[0]), arb(c[1])) - b + arb(0, 1) * r


def _split(box):
    lo0, lo1, hi0, hi1 = box
    if hi0 - lo0 >= hi1 - lo1:
        mid = (lo0 + hi0) / 2
        return (lo0, lo1, mid, hi1), (mid, lo1, hi0, hi1)
    mid = (lo1 + hi1) / 2
    return (lo0, lo1, hi0, mid), (lo0, mid, hi0, hi1)


def _too_narrow(box) -> bool:
    lo0, lo1, hi0, hi1 = box
    scale = max(1.0, abs(lo0), abs(hi0), abs(lo1), abs(hi1))
    return max(hi0 - lo0, hi1 - lo1) < MIN_WIDTH * scale


def _as_box(box) -> tuple[tuple[float, float], tuple[float, float]]:
    lo0, lo1, hi0, hi1 = box
    return ((lo0, hi0), (lo1, hi1))


def _root(domain):
    return (float(domain[0][0]), float(domain[1][0]), float(domain[0][1]), float(domain[1][1]))


def _evaluate(layers, boxes, grades):
    """Forms on the boxes and at their centres, for the given grades."""
    arr = np.array(boxes, dtype=float).reshape(-1, 4)
    on_box, c, h = approximant_forms(layers, arr[:, :2], arr[:, 2:], grades)
    at_c, _, _ = approximant_forms(layers, c, c, grades)
    return on_box, at_c, c, h, arr


def sup_abs_2d(layers, target, domain, grade: int, rtol: float = 1e-4, max_boxes: int = 20_000) -> SupSearch:
    """Enclosure of ``sup |e_grade|`` over the domain (best-first: the box with the largest upper bound is split)."""
    L, worst = 0.0, None
    heap, stuck, counter, boxes = [], [], 0, 0

    def push(batch):
        nonlocal L, worst, counter, boxes
        on_box, at_c, c, h, arr = _evaluate(layers, batch, {grade})
        for i, box in enumerate(batch):
            enc = _residual_enclosure(target, _arb_form(on_box[grade], i), c[i], h[i], arr[i, :2], arr[i, 2:])
            low = lower_float(abs_ball(_centre_residual(target, _arb_form(at_c[grade], i), c[i])))
            if low > L or worst is None:
                L, worst = max(low, L), (float(c[i, 0]), float(c[i, 1]))
            counter += 1
            heapq.heappush(heap, (-upper_float(abs_ball(enc)), counter, box))
        boxes += len(batch)

    push([_root(domain)])
    while heap and -heap[0][0] > L * (1 + rtol) and boxes < max_boxes:
        batch = []
        while heap and len(batch) < 2 * BATCH and -heap[0][0] > L * (1 + rtol):
            key, _, box = heapq.heappop(heap)
            if _too_narrow(box):
                stuck.append(-key)
            else:
                batch.extend(_split(box))
        if batch:
            push(batch)
        emit("sup |e| (2-D): %d boxes", boxes)
    U = max([-heap[0][0] if heap else 0.0, *stuck])
    reason = None
    if U == math.inf:
        bad = sum(1 for item in heap if item[0] == -math.inf) + stuck.count(math.inf)
        reason = (
            f"{bad} box(es) could not be bounded (the target's ball form is NaN or infinite there) "
            f"within {max_boxes} boxes"
        )
    enclosure = Enclosure.of(L, U, reason)
    return SupSearch(enclosure, worst, boxes, enclosure.bounded and U <= L * (1 + rtol))


def prove_monotone_2d(
    layers, target, domain, grade: int, max_boxes: int = 20_000, stop_at_first: bool = True
) -> MonotoneSearch:
    """Prove ``|e_k| <= |e_(k-1)|`` on the domain, or find certified counterexamples.

    On a box, with ``g = G_k - G_(k-1)`` enclosed (the tighter ends of the forms' difference and of
    the grade's neuron intervals, whose lower end 0 is exact): the claim ``g (g - 2 e_(k-1)) <= 0``
    holds if g is identically 0, or ``0 <= g <= 2 e_(k-1)``, or ``2 e_(k-1) <= g <= 0`` on the box.  A
    box whose centre violates the claim yields a counterexample there and is not split further;
    with ``stop_at_first`` the search ends at the first one.
    """
    stack = [_root(domain)]
    boxes, found, unresolved = 0, [], []
    while stack:
        batch = [stack.pop() for _ in range(min(BATCH, len(stack)))]
        boxes += len(batch)
        emit("C1 (2-D): %d boxes", boxes)
        on_box, at_c, c, h, arr = _evaluate(layers, batch, {grade - 1, grade})
        out_lo, out_hi = grade_output_bounds(layers, arr[:, :2], arr[:, 2:], grade)
        for i, box in enumerate(batch):
            e_prev_c = _centre_residual(target, _arb_form(at_c[grade - 1], i), c[i])
            e_cur_c = _centre_residual(target, _arb_form(at_c[grade], i), c[i])
            excess = abs_ball(e_cur_c) - abs_ball(e_prev_c)
            if excess > 0:
                found.append(Counterexample((float(c[i, 0]), float(c[i, 1])), lower_float(excess)))
                if stop_at_first:
                    return MonotoneSearch(grade, tuple(found), (), boxes)
                continue
            p0, p1, pb, pr = _arb_form(on_box[grade - 1], i)
            q0, q1, qb, qr = _arb_form(on_box[grade], i)
            spread = abs_ball(q0 - p0) * arb(h[i, 0]) + abs_ball(q1 - p1) * arb(h[i, 1]) + qr + pr
            g_lo = max(lower_float((qb - pb) - spread), out_lo[i])  # two enclosures of g: keep both ends' best
            g_hi = min(upper_float((qb - pb) + spread), out_hi[i])
            if g_lo >= 0 and g_hi <= 0:  # g is identically zero on the box
                continue
            twice_e = 2 * _residual_enclosure(target, (p0, p1, pb, pr), c[i], h[i], arr[i, :2], arr[i, 2:])
            if g_lo >= 0 and g_hi <= lower_float(twice_e):  # 0 <= g <= 2 e_(k-1)
                continue
            if g_hi <= 0 and g_lo >= upper_float(twice_e):  # 2 e_(k-1) <= g <= 0
                continue
            if boxes >= max_boxes or _too_narrow(box):
                unresolved.append(_as_box(box))
                continue
            stack.extend(_split(box))
    return MonotoneSearch(grade, tuple(found), tuple(unresolved), boxes)


def _moments(lo: arb, hi: arb, kmax: int) -> list:
    """E[s^k], k = 0..kmax, for s uniform on [lo, hi] (balls)."""
    width = hi - lo
    return [(pow_ball(hi, k + 1) - pow_ball(lo, k + 1)) / ((k + 1) * width) for k in range(kmax + 1)]


def _natural_lp(target, form, c, X, area, ps) -> dict:
    """First order, from a natural enclosure of e: ``area [min|e|^p, max|e|^p]``."""
    a0, a1, b, r = form
    enc = target.arb(*X) - (a0 * (X[0] - arb(c[0])) + a1 * (X[1] - arb(c[1])) + b) + arb(0, 1) * r
    abs_e = abs_ball(enc)
    low, up = arb(max(lower_float(abs_e), 0.0)), arb(upper_float(abs_e))
    return {p: (max(lower_float(area * pow_ball(low, p)), 0.0), upper_float(area * pow_ball(up, p))) for p in ps}


def _box_lp(target, form, c, lo, hi, ps) -> dict:
    """``{p: (lower, upper)}`` floats enclosing ``int_B |e|^p`` (see :class:`LpEnclosure2D`); upper inf if unbounded."""
    a0, a1, b, r = form
    X = [hull(lo[0], hi[0]), hull(lo[1], hi[1])]
    C = [arb(c[0]), arb(c[1])]
    grad_box = target.arb_gradient(*X)
    area = (arb(hi[0]) - arb(lo[0])) * (arb(hi[1]) - arb(lo[1]))
    a_ball = target.arb(*C) - b
    if not (all(v.is_finite() for v in grad_box) and a_ball.is_finite()):
        return _natural_lp(target, form, c, X, area, ps)
    s_lo = [arb(lo[i]) - C[i] for i in range(2)]
    s_hi = [arb(hi[i]) - C[i] for i in range(2)]
    s_max = [max(abs_ball(s_lo[i]).upper(), abs_ball(s_hi[i]).upper()) for i in range(2)]
    # e(x) = a + g . (x - c) + R with g the midpoint of grad f(B) - A (any g would do):
    # |R| <= rho = G's radius + rad(a) + sum_i max|grad_i f(B) - A_i - g_i| h_i (mean value)
    slope_ball = [grad_box[0] - a0, grad_box[1] - a1]
    a = arb(a_ball.mid())
    g = [arb(v.mid()) for v in slope_ball]
    dev = sum(abs_ball(slope_ball[i] - g[i]) * s_max[i] for i in range(2))
    rho = arb(upper_float(r + a_ball.rad() + dev))
    slope = abs_ball(g[0]) * s_max[0] + abs_ball(g[1]) * s_max[1]
    M = abs_ball(a) + slope  # max |L| on the box
    out = {}
    kmax = max((int(p) for p in ps if float(p).is_integer()), default=0)
    mom = [_moments(s_lo[i], s_hi[i], kmax) for i in range(2)] if area > 0 and kmax else None
    if mom is not None:  # powers of the (exact) coefficients, once per box
        pa, p0, p1 = ([pow_ball(v, i) for i in range(kmax + 1)] for v in (a, g[0], g[1]))
    for p in ps:
        if mom is not None and float(p).is_integer():
            q = int(p)
            total = arb(0)
            for i in range(q + 1):
                for j in range(q - i + 1):
                    k = q - i - j
                    total += math.comb(q, i) * math.comb(q - i, j) * pa[i] * p0[j] * p1[k] * mom[0][j] * mom[1][k]
            if q % 2 == 0:
                IL = area * total
            elif abs_ball(a) > slope:  # L has one sign on the box
                IL = area * abs_ball(total)
            else:
                IL = hull(0, area * pow_ball(M, q))
        else:  # first order: |L| between its extremes
            m = abs_ball(a) - slope
            low = pow_ball(m, p) if m > 0 else arb(0)
            IL = hull(area * low, area * pow_ball(M, p))
        rem = area * p * pow_ball(M + rho, p - 1) * rho
        out[p] = (max(lower_float(IL - rem), 0.0), upper_float(IL + rem))
    return out


class LpEnclosure2D:
    """Certified enclosures of ``int_Omega |e_grade|^p`` for every p in ``ps``, refined on demand.

    On a box, ``e = L + R`` with ``L(x) = a + g . (x - c)`` (``a = f(c) - b``, ``g`` the midpoint
    of ``grad f(B) - A`` from G's form) and, by the mean value theorem,
    ``|R| <= rho = sum_i rad(grad_i f(B)) h_i + r``: rho is O(h^2) where no neuron is unstable.

    * ``int_B L^p`` is exact for integer p (moments of the uniform distribution);
    * ``|L|^p = +-L^p`` where L keeps its sign (odd p), else ``[0, |B| max|L|^p]``;
    * ``| |L + R|^p - |L|^p | <= p (max|L| + rho)^(p-1) rho``.

    The enclosure width is O(h^2) per unit area, about 1/N for N boxes (with a constant that
    grows with |f''| and with the number of kinks).  Non-integer p fall back to first order.
    :meth:`refine` splits the boxes with the widest contribution first; a box that cannot be
    bounded counts as infinitely wide, so it is split first and, if it remains, the upper end
    of the enclosure is infinite.
    """

    def __init__(self, layers, target, domain, grade: int, ps):
        self.layers, self.target, self.grade, self.ps = layers, target, grade, tuple(ps)
        root = _root(domain)
        ((_, res),) = self._evaluate([root])
        self.scale = {p: res[p][1] if 0 < res[p][1] < math.inf else 1.0 for p in self.ps}  # priority only
        self.totals = {p: [arb(0), arb(0)] for p in self.ps}
        self.unbounded = 0
        self.heap, self.counter, self.boxes = [], 0, 1
        self._add(res, 1)
        self._push(root, res)

    def _evaluate(self, batch):
        on_box, _, c, _, arr = _evaluate(self.layers, batch, {self.grade})
        return [
            (box, _box_lp(self.target, _arb_form(on_box[self.grade], i), c[i], arr[i, :2], arr[i, 2:], self.ps))
            for i, box in enumerate(batch)
        ]

    def _add(self, res, sign: int) -> None:
        """Add (sign 1) or remove (-1) a box's contribution; unbounded boxes are counted apart."""
        if any(res[p][1] == math.inf for p in self.ps):
            self.unbounded += sign
            return
        for p in self.ps:
            self.totals[p][0] += sign * arb(res[p][0])
            self.totals[p][1] += sign * arb(res[p][1])

    def _push(self, box, res):
        self.counter += 1
        key = max((res[p][1] - res[p][0]) / self.scale[p] for p in self.ps)
        if _too_narrow(box):
            key = -math.inf  # cannot be split: never chosen while another box can be
        heapq.heappush(self.heap, (-key, self.counter, box, res))

    def enclosure(self, p) -> Enclosure:
        """Of ``int_Omega |e|^p``."""
        lo, hi = self.totals[p]
        if self.unbounded:
            return Enclosure.unbounded(
                f"{self.unbounded} box(es) could not be bounded after {self.boxes} boxes", max(lower_float(lo), 0.0)
            )
        return Enclosure.of(max(lower_float(lo), 0.0), hi)

    def converged(self, rtol: float) -> bool:
        encs = [self.enclosure(p) for p in self.ps]
        return all(e.bounded and e.upper - e.lower <= rtol * e.lower for e in encs)

    def refine(self, max_boxes: int, rtol: float = 0.0) -> None:
        """Split until ``max_boxes`` boxes have been evaluated or every p meets ``rtol``."""
        while self.boxes < max_boxes and self.heap and -self.heap[0][0] > -math.inf and not self.converged(rtol):
            parents = []
            while self.heap and len(parents) < BATCH and -self.heap[0][0] > -math.inf:
                parents.append(heapq.heappop(self.heap))
            for _, _, _, res in parents:
                self._add(res, -1)
            children = [child for parent in parents for child in _split(parent[2])]
            for child, res in self._evaluate(children):
                self._add(res, 1)
                self._push(child, res)
                self.boxes += 1
            emit("L^p (2-D): %d boxes", self.boxes)

