"""Float weights for a grade that vanishes *exactly* on given zones.

Theorem mode (:mod:`mgdl_convex.pointwise`) asks a grade g to be identically zero on
zones around the zeros of the residual.  The convex program says so up to the solver's
tolerance (``g ~ 1e-11`` there), but the rigorous check evaluates the float weights in
exact arithmetic, where ``|e - g| <= |e|`` at a zero of e needs ``g = 0`` exactly.  This
module turns the solver's blocks into weights for which that holds exactly.

On a zone Z with points ``p`` (its ends, and the kinks of the grade's input inside it)
every block b (weight ``U_b``, sign ``s_b``) is on at all points or off at all points
(the patterns were chosen so).  Write ``m_p = [z(p), 1]`` (exact rationals).  Then

* an *off* block contributes 0 on Z exactly iff ``m_p . U_b <= 0`` at every point of Z
  (the pre-activation is affine between consecutive points, so it stays <= 0);
* the *on* blocks contribute ``(sum_on s_b U_b) . [z(x), 1]`` on Z, exactly 0 if
  ``W_Z = sum_on s_b U_b = 0`` as a vector, provided ``m_p . U_b >= 0`` at every point.

So we need exact sign conditions and the linear equations ``W_Z = 0``.  Steps:

1. round every weight to a dyadic grid ``2^(E - 40)`` (E the exponent of the largest);
2. fix signs by moving each block's bias (the last weight) just far enough, rounded
   outward to the grid; a block that would need to move both ways fails;
3. solve ``W_Z = 0`` exactly: the incidence matrix ``M[Z, b] = s_b [b on at Z]`` is
   reduced to row echelon form over the rationals (blocks of largest sign margin first,
   they become the pivots), and each pivot block is set to minus the combination of the
   free blocks (a pivot whose sign this breaks is moved to the end and the step
   redone); with the integer (or dyadic) coefficients that 0/+-1 incidence matrices
   give here, the result lies on a grid a few bits finer, hence is a float exactly (this
   is checked, not assumed);
4. check every condition again, exactly.

The read-out of a block is ``s_b 2^k`` and its hidden weights ``U_b / 2^k`` (k with
``4^k ~ ||U_b||``): the product is ``s_b U_b`` exactly, and the weight decay is within 6%
of the balanced ``||U_b||``.  Anything that cannot be made exact is reported, never
rounded away: the caller then falls back to a grade that is proved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from flint import fmpq, fmpq_mat

from .network import GradeLayer

__all__ = ["Zone", "exact_layer"]

GRID_BITS = 40


@dataclass(frozen=True)
class Zone:
    """The exact input rows ``[z(p), 1]`` (lists of fmpq) at the zone's points, and which blocks are on there."""

    rows: tuple
    on: np.ndarray  # (B,) bool


def _q(v: float) -> fmpq:
    num, den = float(v).as_integer_ratio()
    return fmpq(num, den)


def _float_exact(v: fmpq) -> float | None:
    f = float(v)
    return f if math.isfinite(f) and _q(f) == v else None


def _dot(row, u) -> fmpq:
    return sum((a * b for a, b in zip(row, u)), fmpq(0))


def _grid(U: np.ndarray) -> float:
    big = float(np.max(np.abs(U), initial=0.0))
    return 2.0 ** (math.frexp(big)[1] - GRID_BITS) if big > 0 else 1.0


def _fix_signs(u: list, zones, b: int, step: fmpq) -> str | None:
    """Move block b's bias (last entry of u, in place) so its sign is exact on every zone; a reason if impossible."""
    up = down = fmpq(0)
    for z in zones:
        values = [_dot(r, u) for r in z.rows]
        if z.on[b]:
            up = max(up, -min(values))
        else:
            down = max(down, max(values))
    if up > 0 and down > 0:
        return f"block {b} is on at one zone and off at another, and its bias cannot serve both"
    for need, sgn in ((up, 1), (down, -1)):
        if need > 0:
            u[-1] += sgn * step * (need / step).ceil()
    return None


def _signs_hold(u: list, zones, b: int) -> bool:
    for z in zones:
        values = [_dot(r, u) for r in z.rows]
        if (z.on[b] and min(values) < 0) or (not z.on[b] and max(values) > 0):
            return False
    return True


def _margins(U: np.ndarray, zones) -> np.ndarray:
    """How far each block is from changing sign on the zones where it is on (float, for pivot order)."""
    B = U.shape[1]
    out = np.full(B, np.inf)
    norms = np.maximum(np.linalg.norm(U, axis=0), 1e-300)
    for z in zones:
        rows = np.array([[float(v) for v in r] for r in z.rows])
        vals = (rows @ U) / norms
        out = np.where(z.on, np.minimum(out, vals.min(axis=0)), out)
    return out


def _solve_equations(Uq: list, sign: np.ndarray, zones, rigid: set) -> tuple[str | None, list]:
    """Set the pivot blocks so that every zone's on-blocks sum to zero exactly (in place).

    Returns a reason (None: solved) and the pivot blocks.  ``rigid`` blocks are pivots last.
    """
    active = [z for z in zones if z.on.any()]
    if not active:
        return None, []
    B = len(Uq)
    Ufl = np.array([[float(v) for v in u] for u in Uq]).T
    margin = _margins(Ufl, active)
    margin[list(rigid)] = -np.inf
    order = np.argsort(-margin, kind="stable")
    M = fmpq_mat(len(active), B, [fmpq(int(sign[b])) if z.on[b] else fmpq(0) for z in active for b in order])
    R, rank = M.rref()
    pivots = []
    for i in range(rank):
        row = [R[i, j] for j in range(B)]
        pivot = next(j for j in range(B) if row[j] != 0)
        free = [j for j in range(pivot + 1, B) if row[j] != 0]
        if any(not _power_of_two(row[j].q) for j in free):
            return "the zone equations have non-dyadic coefficients: no exact float solution", pivots
        target = Uq[order[pivot]]
        for c in range(len(target)):
            target[c] = -sum((row[j] * Uq[order[j]][c] for j in free), fmpq(0))
        pivots.append(int(order[pivot]))
    return None, pivots


def _power_of_two(n) -> bool:
    n = int(n)
    return n > 0 and n & (n - 1) == 0


def exact_layer(
    U: np.ndarray, sign: np.ndarray, zones: list[Zone]
) -> tuple[GradeLayer | None, str]:
    """Weights of the blocks ``(U, sign)`` that vanish exactly on the zones (module docstring).

    Returns ``(layer, "")`` or ``(None, reason)``.
    """
    U = np.array(U, dtype=float)
    sign = np.asarray(sign, dtype=float)
    q, B = U.shape
    if B == 0:
        return GradeLayer(np.zeros((q, 0)), np.zeros(0)), ""
    step = _grid(U)
    U = np.round(U / step) * step
    Uq = [[_q(v) for v in U[:, b]] for b in range(B)]
    step_q = _q(step)
    for b in range(B):
        reason = _fix_signs(Uq[b], zones, b, step_q)
        if reason:
            return None, reason
    fixed, rigid = Uq, set()
    for _ in range(B + 1):  # a pivot whose sign breaks becomes rigid (a pivot only where nothing else can be)
        Uq = [list(u) for u in fixed]
        reason, pivots = _solve_equations(Uq, sign, zones, rigid)
        if reason:
            return None, reason
        broken = {b for b in pivots if not _signs_hold(Uq[b], zones, b)}
        if not broken:
            break
        if broken <= rigid:
            return None, f"blocks {sorted(broken)} change sign on a zone whichever blocks absorb the zone equations"
        rigid |= broken
    for z in zones:
        total = [sum((int(sign[b]) * Uq[b][c] for b in range(B) if z.on[b]), fmpq(0)) for c in range(q)]
        if any(v != 0 for v in total):
            return None, "a zone's blocks do not sum to zero exactly"
    hidden, readout = np.zeros((q, B)), np.zeros(B)
    for b in range(B):
        col = [_float_exact(v) for v in Uq[b]]
        if any(v is None for v in col):
            return None, f"block {b}'s exact weights are not floats"
        col = np.array(col)
        norm = float(np.linalg.norm(col))
        if norm == 0:
            continue
        k = round(math.log2(norm) / 2)
        hidden[:, b], readout[b] = col / 2.0**k, sign[b] * 2.0**k
    keep = readout != 0
    return GradeLayer(hidden[:, keep], readout[keep]), ""
