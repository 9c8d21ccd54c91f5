"""Rigorous bounds for 2-D residuals by input splitting (THEORY section 4, "2-D").

On an axis-aligned box B with centre c and half-widths h, every quantity of the
network is kept as an *affine form* ``v(x) in a . (x - c) + b + [-r, r]``:

* the inputs are exact forms (``a = e_i``, ``b = c_i``, ``r = 0``);
* a neuron's pre-activation is an affine combination of forms, hence a form;
  its range on B is ``b +- (|a_1| h_1 + |a_2| h_2 + r)``;
* a neuron that is on over all of B passes its form on unchanged, one that is
  off gives 0, and only an *unstable* one (range straddling 0) is replaced by
  the interval ``[0, upper]``.

So the neurons with a fixed sign are folded into one exact affine map and only
the unstable ones cost width, which shrinks as boxes shrink (bounding boxes
of linear regions are avoided: slivers make them loose).  The residual is
``e = f - G`` with ``G in a . (x - c) + b +- r``; ``f - a . (x - c) - b`` is
bounded by its mean-value form ``phi(c) + (grad f(B) - a) . (B - c)``.
All arithmetic is in arb balls; every decision is certified.  (L^p norms in
2-D use grid quadrature with a stated error instead: see ``checker``.)
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from flint import arb

from .bounds1d import lower_float, upper_float

__all__ = ["Box", "sup_abs_2d", "prove_monotone_2d", "forms_on_box", "point_values"]


@dataclass(frozen=True)
class Box:
    lo: tuple[float, float]
    hi: tuple[float, float]

    def split(self):
        w = [self.hi[i] - self.lo[i] for i in range(2)]
        i = 0 if w[0] >= w[1] else 1
        mid = (self.lo[i] + self.hi[i]) / 2
        left_hi = list(self.hi)
        left_hi[i] = mid
        right_lo = list(self.lo)
        right_lo[i] = mid
        return Box(self.lo, tuple(left_hi)), Box(tuple(right_lo), self.hi)

    @property
    def centre(self):
        return tuple((self.lo[i] + self.hi[i]) / 2 for i in range(2))

    @property
    def half(self):
        return tuple((self.hi[i] - self.lo[i]) / 2 for i in range(2))

    def balls(self):
        return [arb(self.lo[i]).union(arb(self.hi[i])) for i in range(2)]

    def area(self) -> arb:
        return (arb(self.hi[0]) - arb(self.lo[0])) * (arb(self.hi[1]) - arb(self.lo[1]))


def _range(form, h):
    a, b, r = form
    spread = abs(a[0]) * h[0] + abs(a[1]) * h[1] + r
    return b - spread, b + spread  # balls containing the end points


def forms_on_box(layers, box: Box):
    """Affine forms of the approximant after each grade (k = 0..K) on the box."""
    c, h = box.centre, tuple(arb(v) for v in box.half)
    zero = arb(0)
    feats = [((arb(1), zero), arb(c[0]), zero), ((zero, arb(1)), arb(c[1]), zero)]
    total = ((zero, zero), zero, zero)
    out = [total]
    for layer in layers:
        H, A = layer.hidden, layer.readout
        q, W = H.shape
        new = []
        for j in range(W):
            a0 = sum((arb(H[i, j]) * feats[i][0][0] for i in range(q - 1)), zero)
            a1 = sum((arb(H[i, j]) * feats[i][0][1] for i in range(q - 1)), zero)
            b = sum((arb(H[i, j]) * feats[i][1] for i in range(q - 1)), zero) + arb(H[q - 1, j])
            r = sum((abs(arb(H[i, j])) * feats[i][2] for i in range(q - 1)), zero)
            lo, hi = _range(((a0, a1), b, r), h)
            if lo >= 0:
                new.append(((a0, a1), b, r))
            elif hi <= 0:
                new.append(((zero, zero), zero, zero))
            else:
                up = arb(hi.upper())
                new.append(((zero, zero), up / 2, up / 2))
        (ta0, ta1), tb, tr = total
        for j in range(W):
            w = arb(A[j])
            (na0, na1), nb, nr = new[j]
            ta0, ta1, tb, tr = ta0 + w * na0, ta1 + w * na1, tb + w * nb, tr + abs(w) * nr
        total = ((ta0, ta1), tb, tr)
        out.append(total)
        feats = new
    return out


def point_values(layers, point):
    """The approximant after each grade at a point, as balls (exact up to ball rounding)."""
    return [form[1] for form in forms_on_box(layers, Box(tuple(point), tuple(point)))]


def _residual_enclosure(target, form, box: Box):
    """Ball containing e = f - G over the box, and a ball for f - G at the centre."""
    c = box.centre
    (a0, a1), b, r = form
    fc = target.arb(arb(c[0]), arb(c[1]))
    grad = target.arb_gradient(*box.balls())
    phi_c = fc - b
    h = box.half
    slope0, slope1 = grad[0] - a0, grad[1] - a1
    if slope0.is_finite() and slope1.is_finite():
        enc = phi_c + slope0 * arb(0, h[0]) + slope1 * arb(0, h[1])
    else:
        X = box.balls()
        enc = target.arb(*X) - (a0 * (X[0] - arb(c[0])) + a1 * (X[1] - arb(c[1])) + b)
    return enc + arb(0, 1) * r, phi_c


def sup_abs_2d(layers, target, domain, grade: int, rtol: float = 1e-4, max_boxes: int = 20_000):
    """Enclosure (L, U) of sup |e_grade| over the domain, the worst point, and convergence."""
    root = Box((domain[0][0], domain[1][0]), (domain[0][1], domain[1][1]))
    L, worst = arb(0), None
    heap, counter = [], 0

    def push(box):
        nonlocal L, worst, counter
        form = forms_on_box(layers, box)[grade]
        enc, _ = _residual_enclosure(target, form, box)
        centre_val = target.arb(*(arb(v) for v in box.centre)) - point_values(layers, box.centre)[grade]
        low = arb(centre_val.abs_lower())
        if worst is None or lower_float(low) > lower_float(L):
            L, worst = low, box.centre
        up = arb(enc.abs_upper())
        counter += 1
        heapq.heappush(heap, (-upper_float(up), counter, box, up))

    push(root)
    boxes = 1
    while heap and not heap[0][3] <= L * (1 + rtol) and boxes < max_boxes:
        _, _, box, _ = heapq.heappop(heap)
        for child in box.split():
            push(child)
        boxes += 2
    U = heap[0][3]
    return L, U, worst, bool(U <= L * (1 + rtol)), boxes


def prove_monotone_2d(layers, target, domain, grade: int, max_boxes: int = 20_000, min_width: float = 1e-9):
    """Prove |e_k| <= |e_(k-1)| on the domain, or find a certified counterexample.

    Returns (status, point, excess, boxes).  On a box, with ``g = G_k - G_(k-1)``
    enclosed: if g is identically 0 the claim holds; otherwise it holds where
    ``h = g (g - 2 e_(k-1)) <= 0`` is certified by interval products.
    """
    root = Box((domain[0][0], domain[1][0]), (domain[0][1], domain[1][1]))
    stack, boxes, unresolved = [root], 0, False
    while stack:
        box = stack.pop()
        boxes += 1
        forms = forms_on_box(layers, box)
        prev, cur = forms[grade - 1], forms[grade]
        c = box.centre
        vals = point_values(layers, c)
        fc = target.arb(arb(c[0]), arb(c[1]))
        excess = abs(fc - vals[grade]) - abs(fc - vals[grade - 1])
        if excess > 0:
            return "counterexample", c, upper_float(excess), boxes
        g_form = ((cur[0][0] - prev[0][0], cur[0][1] - prev[0][1]), cur[1] - prev[1], cur[2] + prev[2])
        g_lo, g_hi = _range(g_form, tuple(arb(v) for v in box.half))
        g = g_lo.union(g_hi)
        e_prev, _ = _residual_enclosure(target, prev, box)
        if (g_lo >= 0 and g_hi <= 0) or g * (g - 2 * e_prev) <= 0:
            continue
        if boxes >= max_boxes or max(box.half) * 2 < min_width:
            unresolved = True
            continue
        stack.extend(box.split())
    return ("unresolved" if unresolved else "proved"), None, 0.0, boxes
