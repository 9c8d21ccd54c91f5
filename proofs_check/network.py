"""The scheme as a function: its float64 forward pass, and certified affine forms of it on boxes.

**Forward pass** (:func:`forward`): grade k's input is ``Zb = [z_(k-1), 1]``, its features
``z_k = relu(Zb hidden)`` and its output ``g_k = z_k . readout``; the approximant after k grades
is ``G_k = g_1 + ... + g_k`` and the residual ``e_k = f - G_k``.  Grids (heuristic checks), the
grade inputs of the optimality checks and the plots all use this one pass.

**Affine forms** (:func:`approximant_forms`): on an axis-aligned box B with centre c and
half-widths h, every quantity of the network is kept as ``v(x) in a . (x - c) + b + [-r, r]``:

* the inputs are exact forms (``a = e_i``, ``b = c_i``, ``r = 0``);
* a neuron's pre-activation is an affine combination of forms, hence a form; its range on B
  is ``b +- (|a| . h + r)``;
* a neuron that is on over all of B passes its form on unchanged, one that is off gives 0,
  and only an *unstable* one (range ``[l, u]`` straddling 0) is relaxed: ``lam v + [0, m]`` with
  ``lam = u / (u - l)`` and ``m = -lam l`` (:func:`_relu`), which keeps part of its dependence on x;
* the ``[0, m]`` is not an interval but ``m/2 + (m/2) eps`` with an error symbol eps in [-1, 1]
  of that neuron's own, carried like a coordinate through the later grades (a zonotope), so what
  two paths from one relaxed neuron add can cancel; the symbols go into the radius only at the
  end (:func:`_propagate`).

So neurons of fixed sign fold into one exact affine map and only unstable ones cost width,
which shrinks with the box (bounding boxes of linear regions are avoided: slivers make them
loose).  The forms are computed in float64 for a batch of boxes at once and made rigorous by
an a-priori rounding-error bound: every combination ``sum_i w_i v_i + w_0`` adds
``gamma_m (sum_i |w_i| (|a_i| . h + |b_i| + r_i) + |w_0|)`` to the radius (Higham, *Accuracy
and Stability of Numerical Algorithms*, ch. 3: ``gamma_m = m u / (1 - m u)``), radii and spreads
are rounded up, and a sign decision ``b - spread >= 0`` is exact in floating point.  Underflow
is an absolute error that no relative bound covers (a product of two tiny floats can round to
0), so every radius also gets ``2^-1073 (1 + sum_j h_j)`` per product whose factors are both
non-zero (:func:`_underflow`).  With
``lo == hi`` the forms are certified point values: the network at a float point, enclosed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "forward",
    "staged_outputs",
    "grade_input",
    "Forms",
    "GradeForms",
    "approximant_forms",
    "box_forms",
    "dead_on_boxes",
    "grade_output_bounds",
]

U = 2.0**-53
ETA = 2.0**-1074  # the smallest subnormal: a product's absolute error from underflow is at most ETA / 2


def forward(layers: Sequence, X: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(Zb, g)`` per grade: its input with the bias column, and its output (float64)."""
    Z = np.asarray(X, dtype=float)
    for layer in layers:
        Zb = np.column_stack([Z, np.ones(len(Z))])
        Z = np.maximum(Zb @ layer.hidden, 0.0)
        yield Zb, Z @ layer.readout


def staged_outputs(layers: Sequence, X: np.ndarray) -> list[np.ndarray]:
    """``[G_0, G_1, ..., G_K]`` on X (``G_0 = 0``)."""
    out = [np.zeros(len(X))]
    for _, g in forward(layers, X):
        out.append(out[-1] + g)
    return out


def grade_input(layers: Sequence, X: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Grade k+1's input ``[z_k, 1]`` on X (0-based k < K) and the residual ``y - G_k`` there (float64)."""
    e = np.array(y, dtype=float)
    for j, (Zb, g) in enumerate(forward(layers, X)):
        if j == k:
            return Zb, e
        e -= g
    raise ValueError(f"grade_input: k = {k} but the scheme has {len(layers)} grades")


def _gamma(m: int) -> float:
    return m * U / (1 - m * U)


def _underflow(n: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Per box and output: a bound on the absolute error that underflow adds through n products.

    Relative bounds such as ``gamma_m`` miss it: a product of two non-zero floats can round to 0.
    Each product (of a coefficient, times ``|x_j - c_j| <= h_j``, of the constant term or of the
    radius) loses at most ETA / 2; ``2 n ETA (1 + sum_j h_j)`` covers them and the float radius
    computation.  Products with an exact 0 factor are exact and not counted, so a form that is
    exactly 0 keeps radius 0 (grades proved zero stay so).
    """
    return 2 * n * ETA * (1 + h.sum(axis=1, keepdims=True))


@dataclass(frozen=True)
class Forms:
    """Affine forms over a batch of boxes: value in ``A . (x - c) + b +- r`` (A: B x m x d)."""

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
    g = _gamma(2 * m + 8 + h.shape[1])
    live = (np.any(F.A != 0, axis=2) | (F.b != 0) | (F.r != 0)).astype(float)  # B x m: terms not exactly 0
    products = (live @ (W != 0)) * (h.shape[1] + 2)  # non-zero products per output (coefficients, b, r)
    r = (F.r @ aW + g * (mag @ aW + np.abs(bias)) + _underflow(products, h)) * (1 + g)
    return Forms(A, b, r)


def _spread(F: Forms, h: np.ndarray) -> np.ndarray:
    """Upper bound of ``|A . (x - c)| + r`` over the box."""
    tiny = _underflow(np.count_nonzero(F.A, axis=2), h)
    return (np.einsum("bmd,bd->bm", np.abs(F.A), h) + F.r + tiny) * (1 + (8 + h.shape[1]) * U)


def _relu(F: Forms, h: np.ndarray) -> tuple[Forms, np.ndarray]:
    """Forms of relu(F): passed on where certainly on, 0 where certainly off, a relaxation where unstable.

    Returns the forms without the relaxation's gap, and the gap's half (B x m, 0 where the neuron is
    stable): ``relu(v)`` lies within that half of the form, the coefficient of the neuron's own
    error symbol (see :func:`_propagate`).

    An unstable neuron (pre-activation v with range ``[l, u]``, l < 0 < u) keeps a multiple of its
    form: for any ``lam`` in [0, 1], ``relu(v) - lam v`` lies in ``[0, m]``, ``m = max(-lam l,
    (1 - lam) u)`` (it is convex in v, 0 at v = 0); ``lam = u / (u - l)`` makes both ends equal
    (the zonotope relaxation of Singh et al., NeurIPS 2018).  So ``relu(v) in lam v + m/2 +- m/2``,
    and the dependence on x survives into the next grade instead of becoming an interval.
    """
    spread = _spread(F, h)
    on = F.b - spread >= 0  # exact sign of a float difference: certified
    off = F.b + spread <= 0
    unstable = ~(on | off)
    with np.errstate(all="ignore"):  # inf or NaN forms stay non-finite: the searches then fail closed
        lo = np.nextafter(F.b - spread, -np.inf)  # <= the pre-activation on the box
        up = np.nextafter(F.b + spread, np.inf)  # >= it
        lam = np.where(unstable, up / (up - lo), 0.0)
        lam = np.where(np.isfinite(lam), np.clip(lam, 0.0, 1.0), 0.0)  # any lam in [0, 1] is sound
        gap = np.nextafter(np.maximum(np.nextafter(-lam * lo, np.inf), np.nextafter((1 - lam) * up, np.inf)), np.inf)
        A_unstable = lam[:, :, None] * F.A
        b_unstable = lam * F.b + gap / 2
        g = _gamma(8 + h.shape[1])
        mag = np.einsum("bmd,bd->bm", np.abs(A_unstable), h) + np.abs(F.b) + gap
        r_unstable = (lam * F.r + g * mag + _underflow(h.shape[1] + 3, h)) * (1 + g)
        symbol = np.where(unstable, np.nextafter(gap / 2, np.inf), 0.0)
    A = np.where(on[:, :, None], F.A, np.where(unstable[:, :, None], A_unstable, 0.0))
    b = np.where(on, F.b, np.where(unstable, b_unstable, 0.0))
    r = np.where(on, F.r, np.where(unstable, r_unstable, 0.0))
    return Forms(A, b, r), symbol


def approximant_forms(layers: Sequence, lo: np.ndarray, hi: np.ndarray, grades) -> tuple[dict, np.ndarray, np.ndarray]:
    """Forms of the approximant ``G_k`` (k in ``grades``) on boxes ``[lo, hi]`` (B x d each).

    Returns ``({k: Forms with m = 1}, c, h)``: centres and (rounded-up) half-widths.
    """
    forms, c, h = box_forms(layers, lo, hi, grades)
    return {k: f.approximant for k, f in forms.items()}, c, h


@dataclass(frozen=True)
class GradeForms:
    """On each box, forms (m = 1, over x only) of the approximant ``G_k`` and of grade k's output ``g_k``.

    Both come from one propagation, so ``g_k`` keeps what it shares with ``G_(k-1)`` out of its
    radius: ``G_k - G_(k-1)`` as a difference of two forms would carry both radii.
    """

    approximant: Forms
    increment: Forms


def box_forms(layers: Sequence, lo: np.ndarray, hi: np.ndarray, grades) -> tuple[dict, np.ndarray, np.ndarray]:
    """``({k: GradeForms}, c, h)`` on boxes ``[lo, hi]`` for k in ``grades`` (for k = 0 both forms are 0)."""
    forms, c, h, _ = _propagate(layers, lo, hi, grades)
    return forms, c, h


def dead_on_boxes(layers: Sequence, lo: np.ndarray, hi: np.ndarray, k: int) -> np.ndarray:
    """Per box: True when every neuron of grade k with a non-zero read-out is certainly off (g_k = 0 there)."""
    _, _, _, pre = _propagate(layers, lo, hi, {k})
    b, spread = pre[k]
    used = np.asarray(layers[k - 1].readout) != 0
    return np.all((b + spread <= 0)[:, used], axis=1)


def grade_output_bounds(layers: Sequence, lo: np.ndarray, hi: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per box, floats ``g_lo <= g_k(x) <= g_hi`` from interval bounds of grade k's neurons.

    Each neuron's output lies in ``[max(0, p_lo), max(0, p_hi)]`` for its pre-activation range
    ``[p_lo, p_hi]``: the lower end 0 of an unstable or dead neuron is exact, so a grade whose
    non-zero terms are all non-negative gets ``g_lo = 0`` exactly (the affine forms of ``G_k -
    G_(k-1)`` lose that to rounding, which matters where g touches 0 on the edge of a dead region).
    A term whose factors are both non-zero may underflow to 0: each adds ETA to the rounding bound,
    so the ends stay exactly 0 only where every term is exactly 0.
    """
    _, _, _, pre = _propagate(layers, lo, hi, {k})
    b, spread = pre[k]
    p_lo = np.maximum(np.nextafter(b - spread, -np.inf), 0.0)
    p_hi = np.maximum(np.nextafter(b + spread, np.inf), 0.0)
    a = np.asarray(layers[k - 1].readout, float)
    t_lo, t_hi = np.minimum(a * p_lo, a * p_hi), np.maximum(a * p_lo, a * p_hi)
    g = _gamma(len(a) + 2)
    tiny_lo = ETA * np.count_nonzero((a != 0) & (np.where(a > 0, p_lo, p_hi) != 0), axis=1)  # may underflow
    tiny_hi = ETA * np.count_nonzero((a != 0) & (np.where(a > 0, p_hi, p_lo) != 0), axis=1)
    g_lo = t_lo.sum(axis=1) - (g * np.abs(t_lo).sum(axis=1) + tiny_lo) * (1 + g)
    g_hi = t_hi.sum(axis=1) + (g * np.abs(t_hi).sum(axis=1) + tiny_hi) * (1 + g)
    return np.nextafter(g_lo, -np.inf) * (g_lo != 0), np.nextafter(g_hi, np.inf) * (g_hi != 0)


def _collapse(F: Forms, d: int) -> Forms:
    """F over x alone: the error symbols' coefficients (each symbol in [-1, 1]) added to the radius, rounded up."""
    E = F.A.shape[2] - d
    if E == 0:
        return F
    r = (F.r + np.abs(F.A[:, :, d:]).sum(axis=2)) * (1 + (E + 4) * U)  # a sum of E + 1 non-negative floats
    return Forms(np.ascontiguousarray(F.A[:, :, :d]), F.b, np.nextafter(r, np.inf))


def _zero_forms(B: int, d: int) -> Forms:
    return Forms(np.zeros((B, 1, d)), np.zeros((B, 1)), np.zeros((B, 1)))


def _propagate(layers, lo, hi, grades):
    """Forms of ``G_k`` and ``g_k`` and grade k's pre-activations ``(b, spread)`` (for k in grades) on the boxes.

    The forms run over extended coordinates: x (centre c, half-widths h), then one *error symbol*
    in [-1, 1] per relaxed neuron, whose coefficient is half the relaxation's gap (zonotopes, as in
    DeepZ).  At each x the symbols take one value for every quantity downstream, so two paths from
    one relaxed neuron can cancel in a later grade, where an interval radius could only add up:
    on small boxes of a 4-grade 3-D scheme the radius of ``G_4`` is 50-150 times smaller this way.
    A neuron gets a symbol only if it is unstable on some box of the batch.  The reported forms
    are over x alone (:func:`_collapse`).
    """
    lo, hi = np.atleast_2d(np.asarray(lo, float)), np.atleast_2d(np.asarray(hi, float))
    B, d = lo.shape
    c = (lo + hi) / 2
    h = np.maximum(hi - c, c - lo) * (1 + 2 * U)
    coords = h  # half-widths of the extended coordinates
    feats = Forms(np.broadcast_to(np.eye(d), (B, d, d)).copy(), c.copy(), np.zeros((B, d)))
    total = _zero_forms(B, d)
    out = {0: GradeForms(total, total)} if 0 in grades else {}
    pre = {}
    for k, layer in enumerate(layers[: max(grades)], start=1):
        H = np.asarray(layer.hidden, float)
        P = _combine(feats, coords, H[:-1], H[-1])
        spread = _spread(P, coords)
        R, symbol = _relu(P, coords)
        relaxed = np.flatnonzero(symbol.any(axis=0))  # neurons unstable on some box: each gets a symbol
        D = coords.shape[1]
        A = np.zeros((B, R.A.shape[1], D + len(relaxed)))
        A[:, :, :D] = R.A
        A[:, relaxed, D + np.arange(len(relaxed))] = symbol[:, relaxed]
        feats = Forms(A, R.b, R.r)
        coords = np.concatenate([coords, np.ones((B, len(relaxed)))], axis=1)
        padded = np.concatenate([total.A, np.zeros(total.A.shape[:2] + (len(relaxed),))], axis=2)
        total = Forms(padded, total.b, total.r)
        readout = np.asarray(layer.readout, float)
        stacked = Forms(
            np.concatenate([total.A, feats.A], axis=1),
            np.concatenate([total.b, feats.b], axis=1),
            np.concatenate([total.r, feats.r], axis=1),
        )
        total = _combine(stacked, coords, np.append(1.0, readout)[:, None], np.zeros(1))
        if k in grades:
            increment = _combine(feats, coords, readout[:, None], np.zeros(1))
            out[k] = GradeForms(_collapse(total, d), _collapse(increment, d))
            pre[k] = (P.b, spread)
    return out, c, h, pre
