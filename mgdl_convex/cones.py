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
per pattern out of n.  On a tensor grid in d dimensions the same test runs
along the grid lines and diagonals (:func:`sample_orders`: one ordering per
direction) and a sample is dropped if it is implied along any of them.  Any ordering
is safe: a dropped point lies strictly between two points of its own side, so
it is not a vertex of their hull, and every vertex is kept.  The solution is
still checked against every row.

**Pricing.**  For a residual ``r`` the largest correlation of a unit neuron on
pattern ``i`` is (Moreau's decomposition)::

    kappa_i^{+-}(r) = max_{u in K_i, ||u|| <= 1}  +-r^T D_i Zb u / n  =  || P_{K_i}(+-c_i) ||,
    c_i = Zb^T D_i r / n,

and ``P_K(c) = c + G^T lam``, ``lam = argmin_{lam >= 0} ||c + G^T lam||`` (a
non-negative least-squares problem on the q x rows matrix ``G^T``).
``||c_i||`` is an upper bound used to skip patterns cheaply.  kappa is the
quantity of docs/theory.md, section 3: the zero block (i, sign) is optimal iff its
kappa is at most beta.

Every pattern of a 1-D input (a :class:`~mgdl_convex.thresholds.ThresholdPatterns`)
has its cone rows and kappa in closed form, in O(n) for all of them together; the
functions below hand those over to it.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from .pattern_runs import PatternRuns
from .thresholds import ThresholdPatterns

__all__ = [
    "sample_orders",
    "interior_samples",
    "pattern_rows",
    "boundary_rows",
    "EntryRows",
    "cone_rows",
    "project_to_cone",
    "pattern_kappa",
]


def sample_orders(X: np.ndarray) -> np.ndarray:
    """Orderings of the samples ``X`` (n x d) whose neighbours the row reduction compares.

    1-D: ``argsort(x)``, shape (n,).  d-D: on a tensor grid, its lines along every axis and,
    up to d = 3, along the diagonals of every pair of axes (near a kink of the features one of
    them usually runs alongside it), shape (k, n).  On scattered samples they are harmless.
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    if d == 1:
        return np.argsort(X[:, 0], kind="stable")
    ranks = [np.unique(X[:, k], return_inverse=True)[1].ravel() for k in range(d)]
    orders = []
    for k in range(d):  # the other coordinates fixed, coordinate k increasing
        orders.append(np.lexsort([ranks[k], *(ranks[j] for j in range(d) if j != k)]))
    if d <= 3:
        for k in range(d):
            for m in range(k + 1, d):
                rest = [ranks[j] for j in range(d) if j not in (k, m)]
                for s in (1, -1):  # along e_k + s e_m: r_m - s r_k and the rest fixed
                    orders.append(np.lexsort([ranks[k], ranks[m] - s * ranks[k], *rest]))
    return np.array(orders)


def _orders(order: np.ndarray | None) -> np.ndarray | None:
    return None if order is None else np.atleast_2d(order)


def interior_samples(Zb: np.ndarray, order: np.ndarray | None, rtol: float = 1e-10) -> np.ndarray:
    """Boolean (k, n): sample j's row lies on the segment between its two neighbours in ordering i.

    ``order`` is one ordering (``argsort(x)`` for 1-D ``x``) or k of them (:func:`sample_orders`);
    with ``order=None`` no sample is declared interior.
    """
    n = Zb.shape[0]
    orders = _orders(order)
    interior = np.zeros((0 if orders is None else len(orders), n), dtype=bool)
    if orders is None or n < 3:
        return interior
    scale = np.maximum(np.linalg.norm(Zb, axis=1), 1.0)
    for i, o in enumerate(orders):
        a, b, c = Zb[o[:-2]], Zb[o[1:-1]], Zb[o[2:]]
        ac, ab = c - a, b - a
        t = np.einsum("ij,ij->i", ab, ac) / np.maximum(np.einsum("ij,ij->i", ac, ac), 1e-300)
        off = np.linalg.norm(ab - t[:, None] * ac, axis=1)
        interior[i, o[1:-1]] = (t > 0) & (t < 1) & (off <= rtol * scale[o[1:-1]])
    return interior


def pattern_rows(D_col: np.ndarray, interior: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """Row indices that define the cone of one pattern (all rows if no order is known)."""
    orders = _orders(order)
    if orders is None:
        return np.arange(D_col.size)
    drop = np.zeros(D_col.size, dtype=bool)
    for o, inside in zip(orders, interior):
        d = D_col[o]
        same = np.zeros(d.size, dtype=bool)
        same[1:-1] = (d[1:-1] == d[:-2]) & (d[1:-1] == d[2:])
        drop[o[same]] |= inside[o[same]]
    return np.flatnonzero(~drop)


def boundary_rows(D_col: np.ndarray, rows: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Those of a pattern's ``rows`` whose sample has a neighbour on the other side of the split along
    one of the orderings (:func:`sample_orders`)."""
    near = np.zeros(D_col.size, dtype=bool)
    for o in _orders(order):
        d = D_col[o]
        change = d[1:] != d[:-1]
        near[o[1:][change]] = True
        near[o[:-1][change]] = True
    return np.asarray(rows)[near[rows]]


class EntryRows:
    """Per pattern, the cone rows a block of it enters a restricted program with (computed on first use).

    On a grid in two or more dimensions a pattern keeps thousands of rows that no neighbouring
    sample implies, but at a restricted optimum a block's gate is tight only next to the split
    (at the samples with a neighbour on the other side: every tight row seen on a 128 x 128 grid
    was one).  A block therefore enters with those rows (:func:`boundary_rows`), about a tenth of
    its cone rows, and the working set adds the others that its solution violates
    (:mod:`mgdl_convex.working_set`, step 2): the restricted program is a relaxation until no row
    is violated, and the same program after that.  Along a 1-D curve a pattern's rows are already
    few, and entering with fewer was measured slower: there a block enters with all of them.
    """

    def __init__(self, D: np.ndarray, rows, order: np.ndarray):
        self.D, self.rows, self.order = D, rows, order
        self._cache: dict[int, np.ndarray] = {}

    def __getitem__(self, i: int) -> np.ndarray:
        i = int(i)
        if i not in self._cache:
            self._cache[i] = boundary_rows(self.D[:, i], self.rows[i], self.order)
        return self._cache[i]


def cone_rows(Zb: np.ndarray, D: np.ndarray | ThresholdPatterns, order: np.ndarray | None):
    """:func:`pattern_rows` for every pattern (columns of D): a list, or a lazy sequence for threshold patterns."""
    if isinstance(D, ThresholdPatterns):
        D.check_input(Zb)
        return D.cone_rows()
    interior = interior_samples(Zb, order)
    return [pattern_rows(D[:, i], interior, order) for i in range(D.shape[1])]


#: the rows a projection starts from (the most violated by c); more join while violated
PROJECTION_ROWS = 16


def project_to_cone(c: np.ndarray, G: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Euclidean projection of ``c`` onto ``{u : G u >= 0}``, by row generation.

    NNLS on a subset S of the rows projects onto the looser cone ``K_S`` of those rows; if the
    result meets every row it is the projection onto K as well (K is inside K_S).  S starts with
    the rows c violates most (and the rows ``start``, say those that supported an earlier
    projection onto the same cone) and grows by the rows the result violates.  Either way the norm
    is never below the exact ``||P_K(c)||`` (K_S contains K), so a row missed by rounding can only
    make kappa larger: a pricing or a certificate built on it stays valid.
    """
    return _project(c, G, start)[0]


def _project(c: np.ndarray, G: np.ndarray, start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`project_to_cone` and its support: the rows of the last NNLS with a positive multiplier."""
    if G.shape[0] == 0:
        return c, None
    g = G @ c
    if np.all(g >= 0):
        return c, None
    if G.shape[0] <= 2 * PROJECTION_ROWS:
        lam, _ = nnls(G.T, -c, maxiter=50 * max(G.shape))
        return c + G.T @ lam, None
    tol = 1e-12 * np.linalg.norm(G, axis=1) * np.linalg.norm(c)
    active = np.argsort(g, kind="stable")[:PROJECTION_ROWS]
    if start is not None and start.size:
        active = np.union1d(active, start[start < G.shape[0]])
    while True:
        S = G[active]
        lam, _ = nnls(S.T, -c, maxiter=50 * max(S.shape))
        p = c + S.T @ lam
        excess = -(G @ p) - tol
        excess[active] = -np.inf
        bad = np.flatnonzero(excess > 0)
        if bad.size == 0:
            return p, active[lam > 0]
        active = np.concatenate([active, bad[np.argsort(-excess[bad], kind="stable")[:PROJECTION_ROWS]]])


#: bytes of the float copy of D's columns that pricing holds at a time
PRICING_CHUNK_BYTES = 2**26


def pattern_kappa(
    Zb: np.ndarray,
    D: np.ndarray | ThresholdPatterns,
    r: np.ndarray,
    rows,
    threshold: float = 0.0,
    candidates: np.ndarray | None = None,
    runs: PatternRuns | None = None,
    supports: dict | None = None,
) -> np.ndarray:
    """kappa_i^{+} and kappa_i^{-} for the patterns (columns of D), shape (P, 2).

    Patterns whose cheap bound ``||c_i||`` is at most ``threshold`` are not
    projected: their entries hold that bound instead (an upper bound of kappa,
    enough to show they are at most ``threshold``).  ``candidates`` restricts
    the work to some patterns; the others get ``nan``.  Threshold patterns
    get the exact kappa everywhere (it costs O(n) for all of them).  ``runs``: D's columns as
    runs along the samples' order (:func:`mgdl_convex.pattern_runs.pattern_runs`), which give
    the correlations of all patterns in O(n q) instead of a product with D (only if they are the
    runs of this very D).  ``supports``: per ``(pattern, sign)``, the rows (positions in ``rows[i]``)
    that supported the last projection, kept between calls on the same rows (later prices of one
    program move little, and a projection that starts from them needs one or two NNLS solves
    instead of about nine); it only chooses where the row generation starts.
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
    # c_i = Zb' D_i r / n for all candidates
    Zr = Zb * r[:, None]
    if runs is not None and runs.describe(D):
        C = runs.correlations(Zr)[idx].T / n
    else:
        C = _correlations(D, Zr, idx)
    bound = np.linalg.norm(C, axis=0)
    out[idx, :] = bound[:, None]
    for k in np.flatnonzero(bound > threshold):
        i = idx[k]
        G = (2.0 * D[rows[i], i] - 1.0)[:, None] * Zb[rows[i]]
        for col, sgn in ((0, 1.0), (1, -1.0)):
            p, used = _project(sgn * C[:, k], G, None if supports is None else supports.get((i, col)))
            out[i, col] = np.linalg.norm(p)
            if supports is not None and used is not None:
                supports[(i, col)] = used
    return out


def _correlations(D: np.ndarray, Zr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``Zr' D[:, idx] / n`` (q x len(idx)), a few columns of D at a time in float.

    (A bool operand would send the product to numpy's slow mixed-type loop; D' Zr, not Zr' D,
    measured 25x faster here.)
    """
    n = D.shape[0]
    C = np.empty((Zr.shape[1], idx.size))
    step = max(1, min(4096, PRICING_CHUNK_BYTES // (8 * n)))
    for start in range(0, idx.size, step):
        cols = idx[start : start + step]
        C[:, start : start + cols.size] = (D[:, cols].astype(np.float64).T @ Zr).T / n
    return C
