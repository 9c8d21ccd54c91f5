"""Rigorous bounds for residuals on boxes of a d-dimensional domain (d = 2, 3), by input splitting.

On a box B (centre c, half-widths h) the approximant ``G_k`` is enclosed by a certified affine
form ``a . (x - c) + b +- r`` (:mod:`proofs_check.network`, float64 with rounding-error radii,
batched over boxes), and the residual ``e = f - G`` by the mean-value form of ``f - a . (x - c)
- b``: ``phi(c) + sum_i (d_i f(B) - a_i) [-h_i, h_i]`` in arb balls (where ``grad f`` is not
bounded on B, or the target is not declared continuous, the natural extension ``f(B) - G(B)``).
Only the target is evaluated in arb.

* :func:`sup_abs_nd`: an enclosure of ``sup |e_k|`` (best-first splitting);
* :func:`prove_monotone_nd`: ``|e_k| <= |e_(k-1)|`` proved box by box, or certified
  counterexamples at float points (box centres, where the forms are certified point values);
* :class:`LpEnclosureND`: enclosures of ``int |e_k|^p``, second order, refined on demand.

A box is a tuple ``(lo_1, ..., lo_d, hi_1, ..., hi_d)`` of floats; it is split in half across
its longest side.  The number of boxes a search needs grows with the dimension (a kink of the
network is a (d-1)-dimensional surface, and boxes along it must shrink until its contribution
meets the tolerance), so each search has a box budget and reports what it reached.

Failing closed: a box whose bounds are NaN or infinite is split first; if it cannot be bounded
within the budget, the enclosure is unbounded and says why.
"""

from __future__ import annotations

import heapq
import math
from functools import cache
from itertools import product

import numpy as np
from flint import arb

from .balls import Enclosure, abs_ball, hull, lower_float, pow_ball, upper_float
from .bounds1d import mean_value_valid
from .network import box_forms, grade_output_bounds
from .progress import emit
from .searches import Counterexample, MonotoneSearch, SupSearch

__all__ = ["sup_abs_nd", "prove_monotone_nd", "LpEnclosureND"]

BATCH = 64  # boxes evaluated together
MIN_WIDTH = 1e-12  # relative: boxes narrower than this are not split


# --------------------------------------------------------------------------- boxes
def _root(domain) -> tuple:
    domain = np.asarray(domain, dtype=float)
    return (*map(float, domain[:, 0]), *map(float, domain[:, 1]))


def _split(box: tuple) -> tuple[tuple, tuple]:
    """The two halves of the box across its longest side."""
    d = len(box) // 2
    i = max(range(d), key=lambda j: box[d + j] - box[j])
    mid = (box[i] + box[d + i]) / 2
    left, right = list(box), list(box)
    left[d + i], right[i] = mid, mid
    return tuple(left), tuple(right)


def _too_narrow(box: tuple) -> bool:
    d = len(box) // 2
    scale = max(1.0, *map(abs, box))
    return max(box[d + j] - box[j] for j in range(d)) < MIN_WIDTH * scale


def _as_box(box: tuple) -> tuple[tuple[float, float], ...]:
    d = len(box) // 2
    return tuple((box[j], box[d + j]) for j in range(d))


def _evaluate(layers, boxes, grades):
    """Forms (:class:`~proofs_check.network.GradeForms`) on the boxes and at their centres, for the given grades."""
    d = len(boxes[0]) // 2
    arr = np.array(boxes, dtype=float).reshape(-1, 2 * d)
    on_box, c, h = box_forms(layers, arr[:, :d], arr[:, d:], grades)
    at_c, _, _ = box_forms(layers, c, c, grades)
    return on_box, at_c, c, h, arr


# --------------------------------------------------------------------------- the residual on a box
def _arb_form(F, i: int):
    """Box i's form of a Forms with m = 1 as arb balls (exact conversions of floats): ``(slopes, b, r)``."""
    return tuple(arb(v) for v in F.A[i, 0]), arb(F.b[i, 0]), arb(F.r[i, 0])


def _balls(lo, hi) -> list:
    return [hull(a, b) for a, b in zip(lo, hi)]


def _residual_enclosure(target, form, c, h, lo, hi):
    """Ball containing ``e = f - G`` over the box, from G's form (mean-value form of f - affine)."""
    A, b, r = form
    X = _balls(lo, hi)
    enc = None
    if mean_value_valid(target):
        phi_c = target.arb(*(arb(v) for v in c)) - b
        slopes = [gi - ai for gi, ai in zip(target.arb_gradient(*X), A)]
        if phi_c.is_finite() and all(s.is_finite() for s in slopes):
            enc = phi_c + sum((s * arb(0, hi_) for s, hi_ in zip(slopes, h)), arb(0))
    if enc is None:
        enc = target.arb(*X) - (sum((ai * (Xi - arb(ci)) for ai, Xi, ci in zip(A, X, c)), arb(0)) + b)
    return enc + arb(0, 1) * r


def _centre_residual(target, form, c):
    """Ball containing ``e(c)`` from G's certified point form at c."""
    _, b, r = form
    return target.arb(*(arb(v) for v in c)) - b + arb(0, 1) * r


# --------------------------------------------------------------------------- sup |e|
def sup_abs_nd(layers, target, domain, grade: int, rtol: float = 1e-4, max_boxes: int = 20_000) -> SupSearch:
    """Enclosure of ``sup |e_grade|`` over the domain (best-first: the box with the largest upper bound is split)."""
    L, worst = 0.0, None
    heap, stuck, counter, boxes = [], [], 0, 0

    def push(batch):
        nonlocal L, worst, counter, boxes
        on_box, at_c, c, h, arr = _evaluate(layers, batch, {grade})
        d = arr.shape[1] // 2
        for i, box in enumerate(batch):
            form = _arb_form(on_box[grade].approximant, i)
            enc = _residual_enclosure(target, form, c[i], h[i], arr[i, :d], arr[i, d:])
            low = lower_float(abs_ball(_centre_residual(target, _arb_form(at_c[grade].approximant, i), c[i])))
            if low > L or worst is None:
                L, worst = max(low, L), tuple(map(float, c[i]))
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
        emit("sup |e|: %d boxes", boxes)
    return SupSearch.finish(L, (item[0] for item in heap), stuck, worst, boxes, rtol, max_boxes)


# --------------------------------------------------------------------------- C1
def prove_monotone_nd(
    layers, target, domain, grade: int, max_boxes: int = 20_000, stop_at_first: bool = True
) -> MonotoneSearch:
    """Prove ``|e_k| <= |e_(k-1)|`` on the domain, or find certified counterexamples.

    On a box, with ``g = G_k - G_(k-1)`` enclosed (the tighter ends of grade k's output form and of
    the grade's neuron intervals, whose lower end 0 is exact): the claim ``g (g - 2 e_(k-1)) <= 0``
    holds if g is identically 0, or ``0 <= g <= 2 e_(k-1)``, or ``2 e_(k-1) <= g <= 0`` on the box.  A
    box whose centre violates the claim yields a counterexample there and is not split further;
    with ``stop_at_first`` the search ends at the first one.
    """
    stack = [_root(domain)]
    boxes, found, unresolved, strict, margin = 0, [], [], None, -1.0
    while stack:
        batch = [stack.pop() for _ in range(min(BATCH, len(stack)))]
        boxes += len(batch)
        emit("C1: %d boxes", boxes)
        on_box, at_c, c, h, arr = _evaluate(layers, batch, {grade - 1, grade})
        d = arr.shape[1] // 2
        out_lo, out_hi = grade_output_bounds(layers, arr[:, :d], arr[:, d:], grade)
        for i, box in enumerate(batch):
            e_prev_c = _centre_residual(target, _arb_form(at_c[grade - 1].approximant, i), c[i])
            e_cur_c = _centre_residual(target, _arb_form(at_c[grade].approximant, i), c[i])
            excess = abs_ball(e_cur_c) - abs_ball(e_prev_c)
            if excess > 0:
                found.append(Counterexample(tuple(map(float, c[i])), lower_float(excess)))
                if stop_at_first:
                    return MonotoneSearch(grade, tuple(found), (), boxes)
                continue
            prev = _arb_form(on_box[grade - 1].approximant, i)
            Q, qb, qr = _arb_form(on_box[grade].increment, i)
            spread = sum((abs_ball(q) * arb(hj) for q, hj in zip(Q, h[i])), arb(0)) + qr
            g_lo = max(lower_float(qb - spread), out_lo[i])  # two enclosures of g: keep both ends' best
            g_hi = min(upper_float(qb + spread), out_hi[i])
            if g_lo >= 0 and g_hi <= 0:  # g is identically zero on the box
                continue
            twice_e = 2 * _residual_enclosure(target, prev, c[i], h[i], arr[i, :d], arr[i, d:])
            lo2, hi2 = lower_float(twice_e), upper_float(twice_e)
            if (g_lo >= 0 and g_hi <= lo2) or (g_hi <= 0 and g_lo >= hi2):  # 0 <= g <= 2 e_(k-1), or the mirror
                # e_(k-1)^2 - e_k^2 = g (2 e_(k-1) - g) > 0 on the box where 0 < g < 2 e_(k-1) (or the mirror)
                low = None
                if g_lo > 0 and g_hi < lo2:
                    low = lower_float(arb(g_lo) * (arb(lo2) - arb(g_hi)))
                elif g_hi < 0 and g_lo > hi2:
                    low = lower_float(arb(-g_hi) * (arb(g_lo) - arb(hi2)))
                if low is not None and low > margin:
                    strict, margin = _as_box(box), low
                continue
            if boxes >= max_boxes or _too_narrow(box):
                unresolved.append(_as_box(box))
                continue
            stack.extend(_split(box))
    return MonotoneSearch(grade, tuple(found), tuple(unresolved), boxes, strict, max(margin, 0.0))


# --------------------------------------------------------------------------- L^p
def _moments(lo: arb, hi: arb, kmax: int) -> list:
    """E[s^k], k = 0..kmax, for s uniform on [lo, hi] (balls)."""
    width = hi - lo
    return [(pow_ball(hi, k + 1) - pow_ball(lo, k + 1)) / ((k + 1) * width) for k in range(kmax + 1)]


@cache
def _multinomial_terms(q: int, n: int) -> tuple:
    """``((coefficient, (i_0, ..., i_(n-1))), ...)``: the multinomial expansion of ``(x_0 + ... + x_(n-1))^q``."""
    terms = []
    for idx in product(range(q + 1), repeat=n - 1):
        rest = q - sum(idx)
        if rest >= 0:
            exps = (*idx, rest)
            coeff = math.factorial(q)
            for e in exps:
                coeff //= math.factorial(e)
            terms.append((coeff, exps))
    return tuple(terms)


def _natural_lp(target, form, c, X, volume, ps) -> dict:
    """First order, from a natural enclosure of e: ``volume [min|e|^p, max|e|^p]``."""
    A, b, r = form
    affine = sum((ai * (Xi - arb(ci)) for ai, Xi, ci in zip(A, X, c)), arb(0)) + b
    abs_e = abs_ball(target.arb(*X) - affine + arb(0, 1) * r)
    low, up = arb(max(lower_float(abs_e), 0.0)), arb(upper_float(abs_e))
    return {p: (max(lower_float(volume * pow_ball(low, p)), 0.0), upper_float(volume * pow_ball(up, p))) for p in ps}


def _box_lp(target, form, c, lo, hi, ps) -> dict:
    """``{p: (lower, upper)}`` floats enclosing ``int_B |e|^p`` (see :class:`LpEnclosureND`); upper inf if unbounded."""
    A, b, r = form
    d = len(c)
    X = _balls(lo, hi)
    C = [arb(v) for v in c]
    volume = math.prod((arb(hi[i]) - arb(lo[i]) for i in range(d)), start=arb(1))
    if not mean_value_valid(target):
        return _natural_lp(target, form, c, X, volume, ps)
    grad_box = target.arb_gradient(*X)
    a_ball = target.arb(*C) - b
    if not (all(v.is_finite() for v in grad_box) and a_ball.is_finite()):
        return _natural_lp(target, form, c, X, volume, ps)
    s_lo = [arb(lo[i]) - C[i] for i in range(d)]
    s_hi = [arb(hi[i]) - C[i] for i in range(d)]
    s_max = [max(abs_ball(s_lo[i]).upper(), abs_ball(s_hi[i]).upper()) for i in range(d)]
    # e(x) = a + g . (x - c) + R with g the midpoint of grad f(B) - A (any g would do); by the mean value
    # theorem |R(x)| <= r + rad(a) + sum_i delta_i |x_i - c_i|, delta_i = max|d_i f(B) - A_i - g_i|
    slope_ball = [grad_box[i] - A[i] for i in range(d)]
    a = arb(a_ball.mid())
    g = [arb(v.mid()) for v in slope_ball]
    delta = [abs_ball(slope_ball[i] - g[i]) for i in range(d)]
    rho = arb(upper_float(r + a_ball.rad() + sum((delta[i] * s_max[i] for i in range(d)), arb(0))))  # max |R|
    # mean |R|: |x_i - c_i| averages at most s_max_i / 2 over [lo_i, hi_i]
    mean_R = arb(upper_float(r + a_ball.rad() + sum((delta[i] * s_max[i] for i in range(d)), arb(0)) / 2))
    slope = sum((abs_ball(g[i]) * s_max[i] for i in range(d)), arb(0))
    M = abs_ball(a) + slope  # max |L| on the box
    out = {}
    kmax = max((int(p) for p in ps if float(p).is_integer()), default=0)
    mom = [_moments(s_lo[i], s_hi[i], kmax) for i in range(d)] if volume > 0 and kmax else None
    if mom is not None:  # powers of the (exact) coefficients, once per box: products, never NaN
        powers = []
        for v in (a, *g):
            row = [arb(1)]
            for _ in range(kmax):
                row.append(row[-1] * v)
            powers.append(row)
    for p in ps:
        if mom is not None and float(p).is_integer():
            q = int(p)
            total = arb(0)
            for coeff, (i0, *ii) in _multinomial_terms(q, d + 1):
                term = coeff * powers[0][i0]
                for j, k in enumerate(ii):
                    term *= powers[j + 1][k] * mom[j][k]
                total += term
            if q % 2 == 0:
                IL = volume * total
            elif abs_ball(a) > slope:  # L has one sign on the box
                IL = volume * abs_ball(total)
            else:
                IL = hull(0, volume * pow_ball(M, q))
        else:  # first order: |L| between its extremes
            m = abs_ball(a) - slope
            low = pow_ball(m, p) if m > 0 else arb(0)
            IL = hull(volume * low, volume * pow_ball(M, p))
        rem = volume * p * pow_ball(M + rho, p - 1) * mean_R  # | |L + R|^p - |L|^p | <= p (|L| + rho)^(p-1) |R|
        out[p] = (max(lower_float(IL - rem), 0.0), upper_float(IL + rem))
    return out


class LpEnclosureND:
    """Certified enclosures of ``int_Omega |e_grade|^p`` for every p in ``ps``, refined on demand.

    On a box, ``e = L + R`` with ``L(x) = a + g . (x - c)`` (``a = f(c) - b``, ``g`` the midpoint
    of ``grad f(B) - A`` from G's form) and, by the mean value theorem,
    ``|R(x)| <= r + rad(a) + sum_i delta_i |x_i - c_i|``: O(h^2) where no neuron is unstable.

    * ``int_B L^p`` is exact for integer p (moments of the uniform distribution, multinomial
      expansion over the coordinates);
    * ``|L|^p = +-L^p`` where L keeps its sign (odd p), else ``[0, |B| max|L|^p]``;
    * ``| |L + R|^p - |L|^p | <= p (max|L| + max|R|)^(p-1) |R|``, integrated with the mean of the bound.

    The enclosure width is O(h^2) per unit volume, about ``N^(-2/d)`` for N boxes (with a constant
    that grows with |f''| and with the area of the network's kinks).  Non-integer p fall back to
    first order.  :meth:`refine` splits the boxes with the widest contribution first; a box that
    cannot be bounded counts as infinitely wide, so it is split first and, if it remains, the
    upper end of the enclosure is infinite.
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
        k = self.grade
        on_box, _, c, _, arr = _evaluate(self.layers, batch, {k})
        d = arr.shape[1] // 2
        return [
            (box, _box_lp(self.target, _arb_form(on_box[k].approximant, i), c[i], arr[i, :d], arr[i, d:], self.ps))
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
            emit("L^p: %d boxes", self.boxes)
