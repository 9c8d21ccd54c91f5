"""Where floats meet ball arithmetic: outward rounding, exact rationals, and enclosures that fail closed.

Every rigorous bound of proofs_check is a python-flint ``arb`` ball (a midpoint and a radius)
until it is reported, and every report is a float.  This module is the only crossing:

* :func:`lower_float` / :func:`upper_float` round a ball's end points outward to floats.  A ball
  that is not finite (NaN, or infinite radius) becomes ``-inf`` / ``+inf``: a NaN never reaches
  a comparison, a heap key or a ``max``, where it would silently compare False.
* :func:`to_fmpq` is the one float -> rational conversion (every float is a dyadic rational, so
  it is exact), :func:`fmpq_matrix` its matrix form.
* :func:`abs_ball`, :func:`sqrt_ball`, :func:`pow_ball`: python-flint 0.9 returns ``[-r, r]``
  for ``|x|`` when x straddles 0, and NaN for ``sqrt`` or ``x**n`` (n >= 2) of a ball that
  contains 0 (or reaches below it by a rounding error: a ball's radius is rounded up, so the ball
  of ``[0, 1]`` starts at about -1e-9).  These three clip |x| at 0 and take roots and powers on
  the ball's non-negative part, from its exact end points.
* :class:`Enclosure` is a reported enclosure ``[lower, upper]`` with its invariant written once:
  both ends are floats, never NaN, ``lower <= upper``, and an infinite end (an unbounded
  enclosure) carries the reason.  :meth:`Enclosure.of` builds one from any pair of bounds and
  turns NaN, infinities and contradictions (``lower > upper``, which only a wrong ball form
  can produce) into an unbounded enclosure with the reason, so the claims built on it are at
  best inconclusive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from flint import arb, fmpq, fmpq_mat

__all__ = [
    "lower_float",
    "upper_float",
    "to_fmpq",
    "fmpq_matrix",
    "hull",
    "abs_ball",
    "sqrt_ball",
    "pow_ball",
    "Enclosure",
    "EnclosureError",
]


_UNBOUNDED = arb(0, math.inf)  # the ball of every real number


def lower_float(x) -> float:
    """A float <= every point of the ball x (``-inf`` when x is not finite)."""
    x = x if isinstance(x, arb) else arb(x)
    if not x.is_finite():
        return -math.inf
    return math.nextafter(float(x.lower()), -math.inf)


def upper_float(x) -> float:
    """A float >= every point of the ball x (``+inf`` when x is not finite)."""
    x = x if isinstance(x, arb) else arb(x)
    if not x.is_finite():
        return math.inf
    return math.nextafter(float(x.upper()), math.inf)


def to_fmpq(v) -> fmpq:
    """The float as the exact rational it is."""
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"cannot convert {v} to an exact rational: not a finite number")
    num, den = v.as_integer_ratio()
    return fmpq(num, den)


def fmpq_matrix(M) -> fmpq_mat:
    """A float array (1-D: one column) as an exact rational matrix."""
    M = np.asarray(M, dtype=float)
    M = M[:, None] if M.ndim == 1 else M
    return fmpq_mat(M.shape[0], M.shape[1], [to_fmpq(v) for v in M.ravel()])


def hull(lo, hi) -> arb:
    """A ball containing ``[lo, hi]`` (arb or float ends)."""
    return arb(lo).union(arb(hi))


def abs_ball(x: arb) -> arb:
    """``{|t| : t in x}``, clipped at 0 (NaN stays NaN)."""
    if not x.is_finite():
        return x if x.is_nan() else _UNBOUNDED
    if x >= 0:
        return x
    if x <= 0:
        return -x
    return hull(0, x.abs_upper())


def _ends(x: arb) -> tuple[arb, arb]:
    return x.lower(), x.upper()


def sqrt_ball(x: arb) -> arb:
    """``{sqrt(t) : t in x, t >= 0}``; NaN when x is NaN or has no non-negative point."""
    if x.is_nan() or x < 0:
        return arb("nan")
    if not x.is_finite():
        return _UNBOUNDED
    lo, hi = _ends(x)
    lo = lo if lo > 0 else arb(0)
    return hull(lo.sqrt(), hi.sqrt())


def pow_ball(x: arb, p) -> arb:
    """``{t^p : t in x}`` for an integer p >= 0; for other real p on the non-negative part of x.

    The result is the hull of the powers of the two (exact) end points, with 0 added where an
    even power crosses it; a negative p on a ball that reaches 0 gives an unbounded ball.
    """
    if isinstance(p, int) and p >= 2 and x.is_exact():
        return x**p  # a point: python-flint's power is safe there (and fast)
    if x.is_nan():
        return x
    if float(p).is_integer() and p >= 0:
        n = int(p)
        if n == 0:
            return arb(1)
        if n == 1:
            return x
        if not x.is_finite():
            return _UNBOUNDED
        lo, hi = _ends(x)
        a, b = lo**n, hi**n
        if n % 2 == 0 and lo < 0 < hi:
            return hull(0, a.union(b).upper())
        return a.union(b)
    if x < 0:
        return arb("nan")
    if not x.is_finite():
        return _UNBOUNDED
    lo, hi = _ends(x)
    lo = lo if lo > 0 else arb(0)
    q = arb(p)
    if p < 0:
        return _UNBOUNDED if lo == 0 else hull(hi**q, lo**q)
    return hull(lo**q if lo > 0 else arb(0), hi**q)


class EnclosureError(RuntimeError):
    """An enclosure broke its invariant: a bug in proofs_check, never a property of the input."""


@dataclass(frozen=True)
class Enclosure:
    """``[lower, upper]`` as floats; an infinite end means unbounded, and ``reason`` says why.

    Invariant (checked at construction): no NaN, ``lower <= upper``, and a reason whenever an
    end is infinite.  ``reason`` may also note why a bounded enclosure is wider than asked.
    """

    lower: float
    upper: float
    reason: str | None = None

    def __post_init__(self):
        lo, hi = self.lower, self.upper
        if not (isinstance(lo, float) and isinstance(hi, float)):
            raise EnclosureError(f"enclosure ends must be floats, got {type(lo).__name__}, {type(hi).__name__}")
        if math.isnan(lo) or math.isnan(hi) or lo > hi or lo == math.inf or hi == -math.inf:
            raise EnclosureError(f"invalid enclosure [{lo}, {hi}]")
        if not (math.isfinite(lo) and math.isfinite(hi)) and not self.reason:
            raise EnclosureError(f"unbounded enclosure [{lo}, {hi}] without a reason")

    @classmethod
    def of(cls, lower, upper, reason: str | None = None) -> Enclosure:
        """From balls or floats, failing closed: NaN -> unbounded, ``lower > upper`` -> (-inf, inf)."""
        lo = lower_float(lower) if isinstance(lower, arb) else _float(lower, -math.inf)
        hi = upper_float(upper) if isinstance(upper, arb) else _float(upper, math.inf)
        if lo > hi:
            why = f"contradictory bounds (lower {lo:.17g} > upper {hi:.17g}): a ball form is wrong"
            return cls(-math.inf, math.inf, why if reason is None else f"{reason}; {why}")
        if not (math.isfinite(lo) and math.isfinite(hi)) and not reason:
            reason = "a bound is NaN or infinite"
        return cls(lo, hi, reason)

    @classmethod
    def unbounded(cls, reason: str, lower: float = -math.inf) -> Enclosure:
        return cls.of(lower, math.inf, reason)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lower) and math.isfinite(self.upper)

    def root(self, p) -> Enclosure:
        """The enclosure of ``t^(1/p)`` for t in this one (a non-negative quantity: an integral of |e|^p)."""
        lo = max(self.lower, 0.0)
        inv = arb(1) / p
        low = lower_float(arb(lo) ** inv) if lo > 0 else 0.0
        high = upper_float(arb(self.upper) ** inv) if math.isfinite(self.upper) else math.inf
        return Enclosure.of(low, high, self.reason)

    def to_dict(self) -> dict:
        """JSON-safe: an infinite end becomes None (the reason says why)."""
        return {
            "lower": self.lower if math.isfinite(self.lower) else None,
            "upper": self.upper if math.isfinite(self.upper) else None,
            "reason": self.reason,
        }


def _float(v, nan_as: float) -> float:
    v = float(v)
    return nan_as if math.isnan(v) else v
