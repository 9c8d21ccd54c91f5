"""The cone of a pattern, the rows that define it, and the correlation kappa.

Pattern ``D_i`` comes with the polyhedral cone ``K_i = {u : s_j Zb_j u >= 0 for all j}``
(``s_j = 2 D_ij - 1``).  Two facts make grades cheap:

**Few rows suffice.**  Since ``Zb_j = (z_j, 1)``, the rows of one side of the split
generate the same cone as the vertices of the convex hull of their ``z_j``: a
row whose point is a convex combination of other points on the same side is
implied.  When the samples lie along a curve (1-D input ``x``, features ``z(x)``
piecewise linear in ``x``, every grade of a 1-D scheme) a sample strictly
inside a straight stretch of the curve, with both neighbours on its side, is
such a point.  :func:`interior_samples` finds those samples once per grade and
:func:`pattern_rows` drops them per pattern; in practice it keeps a few rows
per pattern out of n.  The solution is still checked against every row.

**Pricing.**  For a residual ``r`` the largest correlation of a unit neuron on
pattern ``i`` is (Moreau's decomposition)::

    kappa_i^{+-}(r) = max_{u in K_i, ||u|| <= 1}  +-r^T D_i Zb u / n  =  || P_{K_i}(+-c_i) ||,
    c_i = Zb^T D_i r / n,

and ``P_K(c) = c + G^T lam``, ``lam = argmin_{lam >= 0} ||c + G^T lam||`` (a
non-negative least-squares problem on the q x rows matrix ``G^T``).
``||c_i||`` is an upper bound used to skip patterns cheaply.  kappa is the
quantity of THEORY section 3: the zero block (i, sign) is optimal iff its
kappa is at most beta.

Every pattern of a 1-D input (a :class:`~mgdl_convex.thresholds.ThresholdPatterns`)
has its cone rows and kappa in closed form, in O(n) for all of them together; the
functions below hand those over to it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from .thresholds import ThresholdPatterns

__all__ = ["interior_samples", "pattern_rows", "cone_rows", "project_to_cone", "pattern_kappa"]


def interior_samples(Zb: np.ndarray, order: np.ndarray | None, rtol: float = 1e-10) -> np.ndarray:
    """Boolean mask: samples whose row lies on the segment between their two neighbours.

    ``order`` sorts the samples along the input curve (``argsort(x)`` for 1-D ``x``);
    with ``order=None`` no sample is declared interior.
    """
    n = Zb.shape[0]
    interior = np.zeros(n, dtype=bool)
    if order is None or n < 3:
        return interior
    a, b, c = Zb[order[:-2]], Zb[order[1:-1]], Zb[order[2:]]
    ac, ab = c - a, b - a
    t = np.einsum("ij,ij->i", ab, ac) / np.maximum(np.einsum("ij,ij->i", ac, ac), 1e-300)
    off = np.linalg.norm(ab - t[:, None] * ac, axis=1)
    scale = np.maximum(np.linalg.norm(b, axis=1), 1.0)
    inside = (t > 0) & (t < 1) & (off <= rtol * scale)
    interior[order[1:-1]] = inside
    return interior


def pattern_rows(D_col: np.ndarray, interior: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """Row indices that define the cone of one pattern (all rows if no order is known)."""
    if order is None:
        return np.arange(D_col.size)
    d = D_col[order]
    same = np.zeros(d.size, dtype=bool)
    same[1:-1] = (d[1:-1] == d[:-2]) & (d[1:-1] == d[2:])
    drop = np.zeros(D_col.size, dtype=bool)
    drop[order] = same
    return np.flatnonzero(~(drop & interior))


def cone_rows(Zb: np.ndarray, D: np.ndarray | ThresholdPatterns, order: np.ndarray | None):
    """:func:`pattern_rows` for every pattern (columns of D): a list, or a lazy sequence for threshold patterns."""
    if isinstance(D, ThresholdPatterns):
        D.check_input(Zb)
        return D.cone_rows()
    interior = interior_samples(Zb, order)
    return [pattern_rows(D[:, i], interior, order) for i in range(D.shape[1])]


def project_to_cone(c: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``c`` onto ``{u : G u >= 0}``."""
    if G.shape[0] == 0:
        return c
    if np.all(G @ c >= 0):
        return c
    lam, _ = nnls(G.T, -c, maxiter=50 * max(G.shape))
    return c + G.T @ lam


#: bytes of the float copy of D's columns that pricing holds at a time
PRICING_CHUNK_BYTES = 2**26


def pattern_kappa(
    Zb: np.ndarray,
    D: np.ndarray | ThresholdPatterns,
    r: np.ndarray,
    rows,
    threshold: float = 0.0,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """kappa_i^{+} and kappa_i^{-} for the patterns (columns of D), shape (P, 2).

    Patterns whose cheap bound ``||c_i||`` is at most ``threshold`` are not
    projected: their entries hold that bound instead (an upper bound of kappa,
    enough to show they are at most ``threshold``).  ``candidates`` restricts
    the work to some patterns; the others get ``nan``.  Threshold patterns
    get the exact kappa everywhere (it costs O(n) for all of them).
    """
    n, P = D.shape
    if isinstance(D, ThresholdPatterns):
        D.check_input(Zb)
        kap = D.kappa(r)
        if candidates is not None:
            out = np.full((P, 2), np.nan)
            out[candidates] = kap[candidates]
            return out
        return kap
    out = np.full((P, 2), np.nan)
    idx = np.arange(P) if candidates is None else np.asarray(candidates)
    if idx.size == 0:
        return out
    # c_i = Zb' D_i r / n for all candidates, a few columns of D at a time in float
    # (a bool operand would send the product to numpy's slow mixed-type loop; D' Zr, not Zr' D,
    # measured 25x faster here)
    C = np.empty((Zb.shape[1], idx.size))
    Zr = Zb * r[:, None]
    step = max(1, min(4096, PRICING_CHUNK_BYTES // (8 * n)))
    for start in range(0, idx.size, step):
        cols = idx[start : start + step]
        C[:, start : start + cols.size] = (D[:, cols].astype(np.float64).T @ Zr).T / n
    bound = np.linalg.norm(C, axis=0)
    out[idx, :] = bound[:, None]
    for k in np.flatnonzero(bound > threshold):
        i = idx[k]
        G = (2.0 * D[rows[i], i] - 1.0)[:, None] * Zb[rows[i]]
        for col, sgn in ((0, 1.0), (1, -1.0)):
            out[i, col] = np.linalg.norm(project_to_cone(sgn * C[:, k], G))
    return out
