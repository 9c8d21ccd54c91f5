"""Sampled activation patterns as runs along the samples' order, for pricing in O(n q).

Pricing a pattern needs its correlation ``c_i = Zb' D_i r / n`` with the current residual
r, for every pattern i.  As a product of the n x P boolean matrix D with ``Zb * r`` that is
O(n P q) work (and a float copy of D), repeated at every pricing round of every solve.

Along a curve (the samples of a 1-D target, in order; a line of a grid) the activation of
a gate changes only where its pre-activation crosses zero, a few times per pattern.  So
column i of D, read in the samples' order, is a union of a few runs ``[s, t)`` of
consecutive samples, and with the prefix sums ``S_k = sum_{j < k} (Zb r)_j`` (one
cumulative sum, O(n q))::

    n c_i = sum over runs [s, t) of column i of (S_t - S_s).

That is O(n q + R q) for all P patterns together, R the number of runs, against O(n P q).
:func:`pattern_runs` encodes D once per grade program (its patterns do not change along
the regularization path) and returns ``None`` where the runs would not pay, so callers
fall back to the product.  The sums are the same numbers up to rounding: a prefix sum
adds the same terms in a different order (relative differences of order 1e-14 at n =
2^18).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PatternRuns", "pattern_runs"]

#: the runs are used when they number at most this share of D's entries
MAX_RUN_SHARE = 1 / 8


@dataclass(frozen=True)
class PatternRuns:
    """Column i of D is the union of the runs ``[starts, ends)`` listed with ``column == i``,
    as positions in ``perm`` (the samples' order; ``None``: their index order).  ``source`` is
    the matrix D itself: the runs are used for that very array only (:meth:`describe`)."""

    perm: np.ndarray | None
    column: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    source: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.source.shape

    def describe(self, D) -> bool:
        """Whether these are the runs of exactly this array (identity, not equality)."""
        return D is self.source

    @property
    def n_runs(self) -> int:
        return int(self.column.size)

    def correlations(self, Zr: np.ndarray) -> np.ndarray:
        """``D' Zr`` (P x q) for ``Zr`` with one row per row of D."""
        n, P = self.shape
        if Zr.shape[0] != n:
            raise ValueError(f"the runs describe {n} rows, got {Zr.shape[0]}")
        S = np.zeros((n + 1, Zr.shape[1]))
        np.cumsum(Zr if self.perm is None else Zr[self.perm], axis=0, out=S[1:])
        out = np.zeros((P, Zr.shape[1]))
        np.add.at(out, self.column, S[self.ends] - S[self.starts])
        return out


def pattern_runs(D: np.ndarray, order: np.ndarray | None = None) -> PatternRuns | None:
    """The runs of the columns of the boolean matrix ``D`` along ``order`` (module docstring).

    ``order``: one ordering of D's rows (``argsort(x)`` for 1-D x), or several (the first is
    used); ``None``: the rows' index order.  Returns ``None`` when the runs number more than
    ``MAX_RUN_SHARE`` of D's entries (scattered samples), where the product is cheaper.
    """
    D = np.asarray(D)
    if D.ndim != 2 or D.dtype != bool:
        raise ValueError(f"pattern runs need a 2-D boolean matrix, got {D.dtype} of shape {D.shape}")
    n, P = D.shape
    if n == 0 or P == 0:
        return None
    perm = None
    if order is not None:
        perm = np.asarray(order)
        perm = perm[0] if perm.ndim == 2 else perm
        if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
            raise ValueError(f"the order must be a permutation of the {n} rows of D")
        if np.array_equal(perm, np.arange(n)):
            perm = None
    cols = np.ascontiguousarray((D if perm is None else D[perm]).T)  # (P, n): each column contiguous
    edges = np.zeros((P, n + 1), dtype=bool)  # edges[i, k]: column i changes between rows k - 1 and k
    edges[:, 0], edges[:, n] = cols[:, 0], cols[:, n - 1]
    np.not_equal(cols[:, 1:], cols[:, :-1], out=edges[:, 1:n])
    column, position = np.nonzero(edges)  # by column, then position: a run's start, then its end
    if column.size // 2 > MAX_RUN_SHARE * n * P:
        return None
    return PatternRuns(perm, column[0::2], position[0::2], position[1::2], D)
