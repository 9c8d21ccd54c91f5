"""Rigorous bounds for 1-D residuals in ball arithmetic (python-flint / Arb).

On a piece ``[a, b]`` the residual after grade k is ``e(x) = f(x) - (S x + T)`` with exact
rational S, T (:mod:`proofs_check.pieces`).  On a box I with midpoint m and half-width r the
mean-value form encloses it::

    e(I)  in  e(m) + e'(I) [-r, r],      e'(I) = f'(I) - S

and where ``f'`` is not bounded on I (a cusp such as ``sqrt|x - 0.3|``) the natural extension
``f(I) - (S I + T)`` is used instead; it is also used throughout for a target not declared
continuous (a jump is invisible to its derivative, :func:`mean_value_valid`).  Three branch-and-bound searches use it:

* :func:`sup_abs`: an enclosure of ``sup |e_k|`` over the domain, with one global lower bound
  shared by all pieces (else pieces where ``|e| ~ 0`` never meet a relative tolerance).
* :func:`prove_monotone`: ``|e_k| <= |e_(k-1)|`` on a piece.  With ``g = e_(k-1) - e_k``
  affine, split at its root; where g has sign s the claim is ``s (e_(k-1) + e_k) >= 0``
  (``|e_k|^2 - |e_(k-1)|^2 = -g (e_(k-1) + e_k)``).  Boxes are proved, or a float point where
  the excess ``|e_k| - |e_(k-1)|`` is certified positive is a counterexample.
* :func:`lp_integrals`: enclosures of ``int |e_k|^p`` (second order, see its docstring).

Failing closed: a ball that is NaN or infinite on a box (a target whose ball form cannot bound
it there) gives that box an infinite upper bound, the highest priority, so it is split first;
if it still cannot be bounded when the budget runs out, the enclosure is unbounded and says
why.  Every float leaving these searches goes through :mod:`proofs_check.balls`.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

from flint import arb, fmpq

from .balls import Enclosure, abs_ball, hull, lower_float, pow_ball, to_fmpq, upper_float
from .progress import emit
from .searches import Counterexample, MonotoneSearch, SupSearch

__all__ = ["Residual", "mean_value_valid", "sup_abs", "prove_monotone", "lp_integrals", "LpIntegrals"]


def mean_value_valid(target) -> bool:
    """Whether the mean-value form ``e(c) + e'(B) (B - c)`` may enclose the target on a box.

    It needs f continuous on the box (a jump is invisible to a gradient that is 0 wherever it
    exists), so only a target declared ``continuous is True`` gets it; False or None (unknown)
    get the natural extension ``f(B) - G(B)``, which is valid for any ball form.
    """
    return getattr(target, "continuous", None) is True

MIN_WIDTH = 1e-13  # relative: boxes narrower than this are not split


@dataclass(frozen=True)
class Residual:
    """``e(x) = f(x) - (S x + T)`` for a target with ball-arithmetic value and derivative."""

    target: object
    S: fmpq
    T: fmpq

    def at(self, x) -> arb:
        x = arb(x)
        return self.target.arb(x) - (arb(self.S) * x + arb(self.T))

    def on(self, c: fmpq, d: fmpq, m: fmpq | None = None) -> tuple[arb, arb | None, arb]:
        """Enclosures of e and e' on [c, d] (e' is None where it is not finite), and of e at the centre m.

        m (in [c, d]) defaults to the midpoint; the mean-value form is taken around it, for a target
        declared continuous only (:func:`mean_value_valid`); otherwise e' is None and e is enclosed by
        the natural extension.
        """
        m = (c + d) / 2 if m is None else m
        r = arb(max(d - m, m - c))
        box = hull(arb(c), arb(d))
        e_m = self.at(m)
        if mean_value_valid(self.target):
            slope = self.target.arb_gradient(box)[0] - arb(self.S)
            if slope.is_finite() and e_m.is_finite():
                return e_m + slope * arb(0, 1) * r, slope, e_m
        natural = self.target.arb(box) - (arb(self.S) * box + arb(self.T))
        return natural, None, e_m


def float_centre(c: fmpq, d: fmpq) -> fmpq:
    """The float nearest the midpoint of [c, d] (an exact rational) if it lies in [c, d], else the midpoint.

    The points the searches report are floats, and every value reported at one is certified there.
    """
    m = (c + d) / 2
    x = to_fmpq(float(m))
    return x if c <= x <= d else m


def _too_narrow(c: fmpq, d: fmpq) -> bool:
    return float(d - c) < MIN_WIDTH * max(1.0, abs(float(d)))


def _box(c: fmpq, d: fmpq) -> tuple[tuple[float, float]]:
    """[c, d] rounded outward to floats (a box that contains it)."""
    return ((lower_float(arb(c)), upper_float(arb(d))),)


def _inner_box(c: fmpq, d: fmpq) -> tuple[tuple[float, float]] | None:
    """[c, d] rounded inward to floats (a box inside it: what holds on [c, d] holds there), or None
    when no two floats lie in it."""
    lo, hi = upper_float(arb(c)), lower_float(arb(d))
    return ((lo, hi),) if lo < hi else None


def sup_abs(residuals, rtol: float = 1e-6, max_boxes: int = 200_000) -> SupSearch:
    """Enclosure of ``sup |e|`` over the union of pieces; ``residuals``: ``[(c, d, Residual)]``."""
    L, worst = 0.0, None
    heap: list = []
    stuck: list = []  # boxes too narrow to split: their bounds are final
    counter = 0

    def push(c, d, res):
        nonlocal L, worst, counter
        x = float_centre(c, d)
        enc, _, e_x = res.on(c, d, x)
        low = lower_float(abs_ball(e_x))
        if low > L or worst is None:
            L, worst = max(low, L), x
        counter += 1
        heapq.heappush(heap, (-upper_float(abs_ball(enc)), counter, c, d, res))

    for c, d, res in residuals:
        push(c, d, res)
    boxes = len(heap)
    while heap and -heap[0][0] > L * (1 + rtol) and boxes < max_boxes:
        key, _, c, d, res = heapq.heappop(heap)
        if _too_narrow(c, d):
            stuck.append(-key)
            continue
        m = (c + d) / 2
        push(c, m, res)
        push(m, d, res)
        boxes += 2
        emit("sup |e|: %d boxes", boxes)
    point = None if worst is None else (float(worst),)
    return SupSearch.finish(L, (item[0] for item in heap), stuck, point, boxes, rtol, max_boxes)


def _anchored(prev: Residual, cur: Residual, u: fmpq, v: fmpq, sign: int, sp, sc) -> bool:
    """``h = sign (e_(k-1) + e_k) >= 0`` on [u, v] from an end point: ``h(u) >= 0`` and ``h' >= 0``, or the mirror.

    Where h vanishes at an end of the box (both residuals 0 there, e.g. a target the grade
    reproduces exactly), the centred form cannot show ``h >= 0``; the one-sided form can.
    """
    if sp is None or sc is None:
        return False
    slope = sign * (sp + sc)
    if slope >= 0:
        return sign * (prev.at(u) + cur.at(u)) >= 0
    if slope <= 0:
        return sign * (prev.at(v) + cur.at(v)) >= 0
    return False


def prove_monotone(
    prev: Residual, cur: Residual, c: fmpq, d: fmpq, max_boxes: int = 2000, stop_at_first: bool = True
) -> MonotoneSearch:
    """Prove ``|cur| <= |prev|`` on [c, d], or find certified counterexamples.

    A box whose centre (the float nearest its midpoint) violates the claim yields one
    counterexample there, with a certified lower bound of the excess, and is not split further;
    with ``stop_at_first`` the search ends there.  Boxes that exhaust the budget or reach the minimum width are returned
    as unresolved.  The result's ``grade`` is 0: the caller names it.
    """
    gs, gt = cur.S - prev.S, cur.T - prev.T  # g = G_k - G_(k-1) = e_(k-1) - e_k
    if gs == 0 and gt == 0:
        return MonotoneSearch(0, (), (), 0)
    ends = [c, d]
    if gs != 0 and c < -gt / gs < d:
        ends = [c, -gt / gs, d]
    found, unresolved, boxes, strict, margin = [], [], 0, None, -1.0
    for lo, hi in zip(ends[:-1], ends[1:]):
        m = (lo + hi) / 2
        sign = 1 if gs * m + gt > 0 else -1  # sign g on (lo, hi): g is affine and vanishes at most at an end
        stack = [(lo, hi)]
        while stack:
            u, v = stack.pop()
            boxes += 1
            emit("C1: %d boxes (this piece)", boxes)
            x = float_centre(u, v)
            ep, sp, ep_x = prev.on(u, v, x)
            ec, sc, ec_x = cur.on(u, v, x)
            excess = abs_ball(ec_x) - abs_ball(ep_x)
            if excess > 0:  # certified at the float x
                found.append(Counterexample((float(x),), lower_float(excess)))
                if stop_at_first:
                    return MonotoneSearch(0, tuple(found), (), boxes)
                continue
            if sign * (ep + ec) >= 0 or _anchored(prev, cur, u, v, sign, sp, sc):
                # e_(k-1)^2 - e_k^2 = g (e_(k-1) + e_k) > 0 on the open box where sign (e_(k-1) + e_k) > 0;
                # |g| >= its smaller end value there (affine, no zero inside)
                if sign * (ep + ec) > 0:
                    low = lower_float(arb(min(abs(gs * u + gt), abs(gs * v + gt))) * (sign * (ep + ec)))
                    inner = _inner_box(u, v)
                    if low > margin and inner is not None:
                        strict, margin = inner, low
                continue
            if boxes >= max_boxes or _too_narrow(u, v):
                unresolved.append(_box(u, v))
                continue
            w = (u + v) / 2
            stack += [(w, v), (u, w)]
    return MonotoneSearch(0, tuple(found), tuple(unresolved), boxes, strict, max(margin, 0.0))


def _box_integrals(c: fmpq, d: fmpq, res: Residual, ps) -> dict:
    """``{p: (lower, upper)}`` floats enclosing ``int_c^d |e|^p`` (see :func:`lp_integrals`)."""
    r = arb((d - c) / 2)
    enc, slope, e_m = res.on(c, d)
    abs_e = abs_ball(enc)
    inf_e, sup_e = arb(max(lower_float(abs_e), 0.0)), arb(upper_float(abs_e))
    second = None
    if slope is not None:
        # second order: e = a + g (x - m) + R, g the midpoint of e'(B), |R(x)| <= rad(a) + delta |x - m|
        a, g = arb(e_m.mid()), arb(slope.mid())
        delta = abs_ball(slope - g)
        rho = arb(upper_float(arb(e_m.rad()) + delta * r))  # max |R|
        mean_R = arb(upper_float(arb(e_m.rad()) + delta * r / 2))  # mean |R|: |x - m| averages r / 2
        if math.isfinite(upper_float(rho)):
            second = _AffineIntegrals(a, g, r), rho, 2 * r * mean_R
    out = {}
    width = 2 * r
    for p in ps:
        lo = lower_float(width * pow_ball(inf_e, p))
        hi = upper_float(width * pow_ball(sup_e, p))
        if second is not None:  # each end: the tighter of two valid bounds
            L, rho, int_R = second
            IL = L.integral(p)
            rem = p * pow_ball(L.peak + rho, p - 1) * int_R  # | |L + R|^p - |L|^p | <= p (|L| + rho)^(p-1) |R|
            lo = max(lo, lower_float(IL - rem))
            hi = min(hi, upper_float(IL + rem))
        out[p] = (max(lo, 0.0), hi)
    return out


class _AffineIntegrals:
    """``int_{-r}^{r} |a + g s|^p ds`` for exact a, g (balls with radius 0) and a ball r > 0, any p > 0.

    Where ``a + g s`` keeps its sign (``|a| >= |g| r``) and p is an integer, by the moments of s
    (odd ones vanish); otherwise in closed form: with ``u = a + g s`` running over ``[lo, hi] =
    [a - |g| r, a + |g| r]``, the integral is ``(|lo|^(p+1) + |hi|^(p+1)) / ((p + 1) |g|)`` when
    0 lies between them and ``| hi^(p+1) - lo^(p+1) | / ((p + 1) |g|)`` when it does not.
    Where the ball comparison cannot decide which case holds, the hull of both.
    """

    def __init__(self, a: arb, g: arb, r: arb):
        self.a, self.g, self.r = a, g, r
        spread = abs_ball(g) * r
        self.lo, self.hi = a - spread, a + spread
        self.peak = abs_ball(a) + spread  # max |a + g s| for |s| <= r
        self.signed = bool(self.lo >= 0 or self.hi <= 0)  # certainly no sign change
        self.crossing = bool(self.lo < 0 < self.hi)  # certainly a sign change
        self.powers = {}

    def _mean_power(self, q: int) -> arb:
        """Mean of ``(a + g s)^q`` for s uniform on [-r, r]: ``E s^k = r^k / (k + 1)`` for even k."""
        if not self.powers:
            self.powers = {"a": [arb(1)], "gr": [arb(1)]}
        pa, pg = self.powers["a"], self.powers["gr"]
        while len(pa) <= q:  # products of balls: rigorous, and never NaN (python-flint's ** can be)
            pa.append(pa[-1] * self.a)
            pg.append(pg[-1] * self.g * self.r)
        return sum((math.comb(q, k) * pa[q - k] * pg[k] / (k + 1) for k in range(0, q + 1, 2)), arb(0))

    def integral(self, p) -> arb:
        if self.g == 0:
            return 2 * self.r * pow_ball(abs_ball(self.a), p)
        options = []
        if not self.crossing:  # possibly signed
            if float(p).is_integer():
                options.append(2 * self.r * abs_ball(self._mean_power(int(p))))
            else:
                ends = abs_ball(pow_ball(abs_ball(self.hi), p + 1) - pow_ball(abs_ball(self.lo), p + 1))
                options.append(ends / ((p + 1) * abs_ball(self.g)))
        if not self.signed:  # possibly crossing 0
            ends = pow_ball(abs_ball(self.lo), p + 1) + pow_ball(abs_ball(self.hi), p + 1)
            options.append(ends / ((p + 1) * abs_ball(self.g)))
        return options[0] if len(options) == 1 else options[0].union(options[1])


def lp_integrals(residuals, ps, rtol: float = 1e-3, max_boxes: int = 30_000) -> tuple[dict, bool]:
    """Enclosures of ``int |e|^p`` over the union of pieces for each p in ``ps``.

    On a sub-interval B = [m - r, m + r], ``e = a + g (x - m) + R`` (``a = e(m)``, g the midpoint of
    the enclosure of e' on B, ``|R(x)| <= rad(a) + delta |x - m|`` with ``delta = max|e'(B) - g|``,
    so ``|R| <= rho``, O(r^2)).  The integral of ``|L|^p``, ``L = a + g (x - m)``, is exact
    (:class:`_AffineIntegrals`), and ``| |L + R|^p - |L|^p | <= p (max|L| + rho)^(p-1) |R|`` (p >= 1)
    integrates |R| exactly as far as its bound goes: ``2 r (rad(a) + delta r / 2)``.
    So a box's width is O(r^3) and N boxes give O(1/N^2); the first-order bounds
    ``2 r [min|e|^p, max|e|^p]`` are kept where they are tighter.  A box whose bounds are not
    finite is refined first; if some remain when the budget is spent the upper end is infinite.

    Returns ``({p: Enclosure}, converged)``; :class:`LpIntegrals` is the same search, resumable.
    """
    return LpIntegrals(residuals, ps, max_boxes).refine(rtol)


class LpIntegrals:
    """The search of :func:`lp_integrals`, kept between calls: :meth:`refine` to a smaller ``rtol``
    goes on splitting the boxes of the last call instead of starting again from the pieces."""

    def __init__(self, residuals, ps, max_boxes: int = 30_000):
        self.ps, self.max_boxes = tuple(ps), max_boxes
        self.heap, self.final, self.counter = [], [], 0  # final: boxes too narrow to split
        self.approx = {p: [0.0, 0.0] for p in self.ps}  # float running sums, for the stopping test only
        self.best: dict = {}  # per p, the tightest enclosure so far (each call's is intersected with it)
        for c, d, res in residuals:
            self._push(c, d, res)

    def _push(self, c, d, res) -> None:
        b = _box_integrals(c, d, res, self.ps)
        for p in self.ps:
            self.approx[p][0] += b[p][0]
            self.approx[p][1] += b[p][1]
        self.counter += 1
        key = max(b[p][1] - b[p][0] for p in self.ps)
        heapq.heappush(self.heap, (-key, self.counter, c, d, res, b))

    def _done(self, rtol: float) -> bool:
        return all(self.approx[p][1] - self.approx[p][0] <= rtol * self.approx[p][0] for p in self.ps)

    def refine(self, rtol: float) -> tuple[dict, bool]:
        """Split the widest boxes until every p meets ``rtol`` (or the budget); the enclosures then."""
        heap, ps = self.heap, self.ps
        while heap and len(heap) < self.max_boxes and not self._done(rtol):
            emit("L^p: %d boxes", len(heap))
            for _ in range(min(len(heap), 64)):
                _, _, c, d, res, b = heapq.heappop(heap)
                if _too_narrow(c, d):
                    self.final.append(b)
                    continue
                for p in ps:
                    self.approx[p][0] -= b[p][0]
                    self.approx[p][1] -= b[p][1]
                m = (c + d) / 2
                self._push(c, m, res)
                self._push(m, d, res)
        result = self.enclosures()
        converged = all(
            result[p].bounded and result[p].upper - result[p].lower <= rtol * result[p].lower for p in ps
        )
        return result, converged

    def enclosures(self) -> dict:
        """``{p: Enclosure}``: a sum of balls over the current boxes, rigorous whatever the float
        bookkeeping did, intersected with the previous calls' (each encloses the same integral, and
        splitting a box does not always tighten its bounds, so this keeps refinement monotone)."""
        result = {}
        boxes = [item[5] for item in self.heap] + self.final
        for p in self.ps:
            unbounded = sum(1 for b in boxes if b[p][1] == math.inf)
            lo = sum((arb(b[p][0]) for b in boxes), arb(0))
            hi = sum((arb(b[p][1]) for b in boxes if b[p][1] < math.inf), arb(0))
            reason = None
            if unbounded:
                hi, reason = arb(math.inf), f"{unbounded} box(es) could not be bounded within {self.max_boxes} boxes"
            new = Enclosure.of(arb(lo.lower()), hi, reason)
            old = self.best.get(p)
            if old is not None:
                both = max(old.lower, new.lower), min(old.upper, new.upper)
                new = Enclosure.of(*both, reason=None if math.isfinite(both[1]) else new.reason)
            result[p] = self.best[p] = new
        return result
