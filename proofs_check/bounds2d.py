"""Rigorous bounds for 2-D residuals by input splitting (THEORY section 4, "2-D").

On an axis-aligned box B with centre c and half-widths h, every quantity of the network is
kept as an *affine form* ``v(x) in a . (x - c) + b + [-r, r]``:

* the inputs are exact forms (``a = e_i``, ``b = c_i``, ``r = 0``);
* a neuron's pre-activation is an affine combination of forms, hence a form; its range on B
  is ``b +- (|a_1| h_1 + |a_2| h_2 + r)``;
* a neuron that is on over all of B passes its form on unchanged, one that is off gives 0,
  and only an *unstable* one (range straddling 0) is replaced by the interval ``[0, upper]``.

So the neurons with a fixed sign are folded into one exact affine map and only the unstable
ones cost width, which shrinks as boxes shrink (bounding boxes of linear regions are avoided:
slivers make them loose).  The residual is ``e = f - G`` with ``G in a . (x - c) + b +- r``;
``f - a . (x - c) - b`` is bounded by its mean-value form ``phi(c) + (grad f(B) - a) . (B - c)``
in arb balls.

The network's forms are computed in float64 for a whole batch of boxes at once (numpy), and
made rigorous by an a-priori rounding-error bound: every combination ``sum_i w_i v_i + w_0``
adds ``gamma_m (sum_i |w_i| (|a_i| . h + |b_i| + r_i) + |w_0|)`` to the radius (Higham ch. 3,
``gamma_m = m u / (1 - m u)``), radii and spreads are rounded up, and a sign decision
``b - spread >= 0`` is exact in floating point.  Only the target is evaluated in arb.
(L^p norms in 2-D use grid quadrature with a stated error instead: see ``checker``.)
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np
from flint import arb

from .bounds1d import lower_float, upper_float
from .progress import emit

__all__ = ["Forms", "approximant_forms", "sup_abs_2d", "prove_monotone_2d", "lp_integrals_2d", "LpEnclosure2D"]

U = 2.0**-53
BATCH = 64  # boxes evaluated together


def _gamma(m: int) -> float:
    return m * U / (1 - m * U)


@dataclass(frozen=True)
class Forms:
    """Affine forms over a batch of boxes: value in ``A . (x - c) + b +- r`` (A: B x m x 2)."""

    A: np.ndarray
    b: np.ndarray
    r: np.ndarray


def _combine(F: Forms, h: np.ndarray, W: np.ndarray, bias: np.ndarray) -> Forms:
    """Certified forms of ``F @ W + bias`` (W: m x k): float64, rounding errors in the radius."""
    m = W.shape[0]
    A = np.einsum("bmd,mk->bkd", F.A, W)
    b = F.b @ W + bias
    aW = np.abs(W)
    mag = np.einsum("bmd,bd->bm", np.abs(F.A), h) + np.abs(F.b) + F.r
    g = _gamma(2 * m + 8)
    r = (F.r @ aW + g * (mag @ aW + np.abs(bias))) * (1 + g)
    return Forms(A, b, r)


def _spread(F: Forms, h: np.ndarray) -> np.ndarray:
    """Upper bound of ``|A . (x - c)| + r`` over the box."""
    return (np.einsum("bmd,bd->bm", np.abs(F.A), h) + F.r) * (1 + 8 * U)


def _relu(F: Forms, h: np.ndarray) -> Forms:
    spread = _spread(F, h)
    on = F.b - spread >= 0  # exact sign of a float difference: certified
    off = F.b + spread <= 0
    unstable = ~(on | off)
    up = (F.b + spread) * (1 + 2 * U)
    A = np.where(on[:, :, None], F.A, 0.0)
    half = np.where(unstable, up / 2, 0.0)
    b = np.where(on, F.b, half)
    r = np.where(on, F.r, half)
    return Forms(A, b, r)


def approximant_forms(layers, lo: np.ndarray, hi: np.ndarray, grades) -> tuple[dict, np.ndarray, np.ndarray]:
    """Forms of the approximant ``G_k`` (k in ``grades``) on boxes ``[lo, hi]`` (B x 2 each).

    Returns ``({k: Forms with m = 1}, c, h)``: centres and (rounded-up) half-widths.  With
    ``lo == hi`` the forms are certified point values.
    """
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    B = len(lo)
    c = (lo + hi) / 2
    h = np.maximum(hi - c, c - lo) * (1 + 2 * U)
    feats = Forms(np.broadcast_to(np.eye(2), (B, 2, 2)).copy(), c.copy(), np.zeros((B, 2)))
    total = Forms(np.zeros((B, 1, 2)), np.zeros((B, 1)), np.zeros((B, 1)))
    out = {0: total} if 0 in grades else {}
    for k, layer in enumerate(layers[: max(grades)], start=1):
        H = np.asarray(layer.hidden, float)
        feats = _relu(_combine(feats, h, H[:-1], H[-1]), h)
        stacked = Forms(
            np.concatenate([total.A, feats.A], axis=1),
            np.concatenate([total.b, feats.b], axis=1),
            np.concatenate([total.r, feats.r], axis=1),
        )
        total = _combine(stacked, h, np.append(1.0, layer.readout)[:, None], np.zeros(1))
        if k in grades:
            out[k] = total
    return out, c, h


def _arb_form(F: Forms, i: int):
    """Box i's form of a Forms with m = 1 as arb balls (exact conversions of floats)."""
    return arb(F.A[i, 0, 0]), arb(F.A[i, 0, 1]), arb(F.b[i, 0]), arb(F.r[i, 0])


def _residual_enclosure(target, form, c, h, lo, hi):
    """Ball containing ``e = f - G`` over the box, from G's form (mean-value form of f - affine)."""
    a0, a1, b, r = form
    X = [arb(lo[0]).union(arb(hi[0])), arb(lo[1]).union(arb(hi[1]))]
    grad = target.arb_gradient(*X)
    phi_c = target.arb(arb(c[0]), arb(c[1])) - b
    s0, s1 = grad[0] - a0, grad[1] - a1
    if s0.is_finite() and s1.is_finite():
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


def _evaluate(layers, boxes, grades):
    """Forms on the boxes and at their centres, for the given grades."""
    arr = np.array(boxes, dtype=float).reshape(-1, 4)
    on_box, c, h = approximant_forms(layers, arr[:, :2], arr[:, 2:], grades)
    at_c, _, _ = approximant_forms(layers, c, c, grades)
    return on_box, at_c, c, h, arr


def sup_abs_2d(layers, target, domain, grade: int, rtol: float = 1e-4, max_boxes: int = 20_000):
    """Enclosure (L, U) of sup |e_grade| over the domain, the worst point, convergence, boxes."""
    L, worst = arb(0), None
    heap, counter, boxes = [], 0, 0

    def push(batch):
        nonlocal L, worst, counter, boxes
        on_box, at_c, c, h, arr = _evaluate(layers, batch, {grade})
        for i, box in enumerate(batch):
            enc = _residual_enclosure(target, _arb_form(on_box[grade], i), c[i], h[i], arr[i, :2], arr[i, 2:])
            low = arb(_centre_residual(target, _arb_form(at_c[grade], i), c[i]).abs_lower())
            if worst is None or lower_float(low) > lower_float(L):
                L, worst = low, (float(c[i, 0]), float(c[i, 1]))
            up = arb(enc.abs_upper())
            counter += 1
            heapq.heappush(heap, (-upper_float(up), counter, box, up))
        boxes += len(batch)

    push([(domain[0][0], domain[1][0], domain[0][1], domain[1][1])])
    while heap and not heap[0][3] <= L * (1 + rtol) and boxes < max_boxes:
        batch = []
        while heap and len(batch) < 2 * BATCH and not heap[0][3] <= L * (1 + rtol):
            batch.extend(_split(heapq.heappop(heap)[2]))
        push(batch)
        emit("sup |e| (2-D): %d boxes", boxes)
    U_ = heap[0][3]
    return L, U_, worst, bool(U_ <= L * (1 + rtol)), boxes


def prove_monotone_2d(layers, target, domain, grade: int, max_boxes: int = 20_000, min_width: float = 1e-9):
    """Prove |e_k| <= |e_(k-1)| on the domain, or find a certified counterexample.

    Returns (status, point, excess, boxes).  On a box, with ``g = G_k - G_(k-1)`` enclosed: if g
    is identically 0 the claim holds; otherwise it holds where ``h = g (g - 2 e_(k-1)) <= 0``
    is certified by interval products.
    """
    stack = [(domain[0][0], domain[1][0], domain[0][1], domain[1][1])]
    boxes, unresolved = 0, False
    while stack:
        batch = [stack.pop() for _ in range(min(BATCH, len(stack)))]
        boxes += len(batch)
        emit("C1 (2-D): %d boxes", boxes)
        on_box, at_c, c, h, arr = _evaluate(layers, batch, {grade - 1, grade})
        for i, box in enumerate(batch):
            e_prev_c = _centre_residual(target, _arb_form(at_c[grade - 1], i), c[i])
            e_cur_c = _centre_residual(target, _arb_form(at_c[grade], i), c[i])
            excess = abs(e_cur_c) - abs(e_prev_c)
            if excess > 0:
                return "counterexample", [float(c[i, 0]), float(c[i, 1])], upper_float(excess), boxes
            p0, p1, pb, pr = _arb_form(on_box[grade - 1], i)
            q0, q1, qb, qr = _arb_form(on_box[grade], i)
            spread = abs(q0 - p0) * arb(h[i, 0]) + abs(q1 - p1) * arb(h[i, 1]) + qr + pr
            g_lo, g_hi = (qb - pb) - spread, (qb - pb) + spread
            if g_lo >= 0 and g_hi <= 0:  # g is identically zero on the box
                continue
            g = g_lo.union(g_hi)
            e_prev = _residual_enclosure(target, (p0, p1, pb, pr), c[i], h[i], arr[i, :2], arr[i, 2:])
            if g * (g - 2 * e_prev) <= 0:
                continue
            if boxes >= max_boxes or max(h[i]) * 2 < min_width:
                unresolved = True
                continue
            stack.extend(_split(box))
    return ("unresolved" if unresolved else "proved"), None, 0.0, boxes


def _moments(lo: arb, hi: arb, kmax: int) -> list:
    """E[s^k], k = 0..kmax, for s uniform on [lo, hi] (balls)."""
    width = hi - lo
    return [(hi ** (k + 1) - lo ** (k + 1)) / ((k + 1) * width) for k in range(kmax + 1)]


def _box_lp(target, form, c, lo, hi, ps) -> dict | None:
    """Enclosures of int_B |e|^p over one box, second order (see :class:`LpEnclosure2D`); None if unbounded."""
    a0, a1, b, r = form
    X = [arb(lo[0]).union(arb(hi[0])), arb(lo[1]).union(arb(hi[1]))]
    C = [arb(c[0]), arb(c[1])]
    grad_box = target.arb_gradient(*X)
    area = (arb(hi[0]) - arb(lo[0])) * (arb(hi[1]) - arb(lo[1]))
    if not all(v.is_finite() for v in grad_box):  # first order from a natural enclosure of e
        enc = target.arb(*X) - (a0 * (X[0] - arb(c[0])) + a1 * (X[1] - arb(c[1])) + b) + arb(0, 1) * r
        if not enc.is_finite():
            return None
        low, up = arb(enc.abs_lower()), arb(enc.abs_upper())
        return {p: (lower_float(area * low**p), upper_float(area * up**p)) for p in ps}
    s_lo = [arb(lo[i]) - C[i] for i in range(2)]
    s_hi = [arb(hi[i]) - C[i] for i in range(2)]
    s_max = [max(abs(s_lo[i]).upper(), abs(s_hi[i]).upper()) for i in range(2)]
    # e(x) = a + g . (x - c) + R with g the midpoint of grad f(B) - A (any g would do):
    # |R| <= rho = G's radius + rad(a) + sum_i max|grad_i f(B) - A_i - g_i| h_i (mean value)
    a_ball = target.arb(*C) - b
    slope_ball = [grad_box[0] - a0, grad_box[1] - a1]
    a = arb(a_ball.mid())
    g = [arb(v.mid()) for v in slope_ball]
    dev = sum(abs(slope_ball[i] - g[i]) * s_max[i] for i in range(2))
    rho = arb((r + a_ball.rad() + dev).upper())
    slope = abs(g[0]) * s_max[0] + abs(g[1]) * s_max[1]
    M = abs(a) + slope  # max |L| on the box
    out = {}
    kmax = max((int(p) for p in ps if float(p).is_integer()), default=0)
    mom = [_moments(s_lo[i], s_hi[i], kmax) for i in range(2)] if area > 0 and kmax else None
    for p in ps:
        if mom is not None and float(p).is_integer():
            q = int(p)
            total = arb(0)
            for i in range(q + 1):
                for j in range(q - i + 1):
                    k = q - i - j
                    coef = math.comb(q, i) * math.comb(q - i, j)
                    total += coef * a**i * g[0] ** j * g[1] ** k * mom[0][j] * mom[1][k]
            if q % 2 == 0:
                IL = area * total
            elif abs(a) > slope:  # L has one sign on the box
                IL = area * abs(total)
            else:
                IL = arb(0).union(area * M**q)
        else:  # first order: |L| between its extremes
            m = abs(a) - slope
            low = m**p if m > 0 else arb(0)
            IL = (area * low).union(area * M**p)
        rem = area * p * (M + rho) ** (p - 1) * rho
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
    :meth:`refine` splits the boxes with the widest contribution first.
    """

    def __init__(self, layers, target, domain, grade: int, ps):
        self.layers, self.target, self.grade, self.ps = layers, target, grade, tuple(ps)
        root = (domain[0][0], domain[1][0], domain[0][1], domain[1][1])
        ((_, res),) = self._evaluate([root])
        self.scale = {p: res[p][1] if 0 < res[p][1] < math.inf else 1.0 for p in self.ps}  # priority only
        self.totals = {p: [arb(0), arb(0)] for p in self.ps}
        self.unbounded = 0
        self._add(res, 1)
        self.heap, self.counter, self.boxes = [], 0, 1
        self._push(root, res)

    def _evaluate(self, batch):
        on_box, _, c, _, arr = _evaluate(self.layers, batch, {self.grade})
        found = []
        for i, box in enumerate(batch):
            res = _box_lp(self.target, _arb_form(on_box[self.grade], i), c[i], arr[i, :2], arr[i, 2:], self.ps)
            found.append((box, res if res is not None else {p: (0.0, math.inf) for p in self.ps}))
        return found

    def _add(self, res, sign: int) -> None:
        """Add (sign 1) or remove (-1) a box's contribution; unbounded boxes are counted apart."""
        if any(res[p][1] == math.inf for p in self.ps):
            self.unbounded += sign
            return
        for p in self.ps:
            self.totals[p][0] += sign * res[p][0]
            self.totals[p][1] += sign * res[p][1]

    def _push(self, box, res):
        self.counter += 1
        key = max((res[p][1] - res[p][0]) / self.scale[p] if res[p][1] < math.inf else math.inf for p in self.ps)
        heapq.heappush(self.heap, (-key, self.counter, box, res))

    def enclosure(self, p) -> tuple[float, float]:
        lo, hi = self.totals[p]
        return max(lower_float(lo), 0.0), (upper_float(hi) if not self.unbounded else math.inf)

    def converged(self, rtol: float) -> bool:
        return all(self.enclosure(p)[1] - self.enclosure(p)[0] <= rtol * self.enclosure(p)[0] for p in self.ps)

    def refine(self, max_boxes: int, rtol: float = 0.0) -> None:
        """Split until ``max_boxes`` boxes have been evaluated or every p meets ``rtol``."""
        while self.boxes < max_boxes and self.heap and not self.converged(rtol):
            parents = [heapq.heappop(self.heap) for _ in range(min(BATCH, len(self.heap)))]
            for _, _, _, res in parents:
                self._add(res, -1)
            children = [child for parent in parents for child in _split(parent[2])]
            for child, res in self._evaluate(children):
                self._add(res, 1)
                self._push(child, res)
                self.boxes += 1
            emit("L^p (2-D): %d boxes", self.boxes)


def lp_integrals_2d(layers, target, domain, grade: int, ps, rtol: float = 1e-3, max_boxes: int = 50_000):
    """``({p: (lower, upper)}, converged, boxes)`` of ``int_Omega |e_grade|^p`` (:class:`LpEnclosure2D`)."""
    enc = LpEnclosure2D(layers, target, domain, grade, ps)
    enc.refine(max_boxes, rtol)
    return {p: enc.enclosure(p) for p in ps}, enc.converged(rtol), enc.boxes
