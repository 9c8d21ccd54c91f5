"""Every activation pattern of a 1-D grade input, without the n x (2n - 1) matrix.

On a line every split of the samples by a gate is a threshold.  With the distinct sample
values ``v_0 < ... < v_{m-1}`` and a *cut* ``k`` between ``v_k`` and ``v_{k+1}``, the
non-zero patterns are the all-ones pattern (no cut), ``{x >= v_{k+1}}`` ("upper") and
``{x <= v_k}`` ("lower") for each cut: ``2m - 1`` of them.  As a dense boolean matrix that
is n (2m - 1) bytes, 64 GiB at n = 2^18.  :class:`ThresholdPatterns` keeps the sorted
samples instead and answers what the solver asks, each in O(n) or less:

* **entries** ``D[:, cols]`` and ``D[rows, col]``, computed on demand; a prediction
  ``sum_b D[:, cols_b] (w_b x + c_b)`` (:meth:`ThresholdPatterns.combine`) and the pairwise
  differences of columns (:meth:`ThresholdPatterns.differences`) without them, since every
  column is a prefix or a suffix of the sorted samples;
* **cone rows** (:meth:`ThresholdPatterns.rows`): ``u -> (x, 1) . u`` is affine in x, so
  its sign is constant on a set of samples iff it is at the set's two ends; the cone of
  a pattern is defined by its extreme samples, at most four rows;
* **kappa of every pattern in O(n)** (:meth:`ThresholdPatterns.kappa`).  With the samples
  sorted once, ``c = Zb' D r / n`` of an upper pattern is a suffix sum of
  ``r_j (x_j, 1) / n`` and that of a lower pattern a prefix sum.  The cone of a pattern is
  a sector of R^2: with ``a = v_k``, ``b = v_{k+1}`` it is spanned by the gates
  ``(1, -a)`` and ``(1, -b)`` for an upper pattern (the ReLU kink anywhere in [a, b]), by
  ``(-1, a)`` and ``(-1, b)`` for a lower one, and by ``(1, -v_0)`` and ``(-1, v_{m-1})``
  for the all-ones pattern (an angle of at most pi).  The projection onto a sector K
  with unit edge rays ``rho_1, rho_2`` has norm ``||c||`` if c lies in K, else
  ``max(0, c . rho_1, c . rho_2)``; so kappa^{+-} = ||P_K(+-c)|| of all 2m - 1 patterns
  takes a few vector operations.

**Restricted cuts.**  ``allowed`` (one boolean per cut, ``m - 1`` of them) keeps only the
patterns of the allowed cuts, plus the all-ones pattern.  The samples may include points
that carry no loss weight (constraint points): the patterns are those of the whole point
set.  :attr:`ThresholdPatterns.cut_points` are the cut positions, to build such a mask
from intervals of the line.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ThresholdPatterns", "ThresholdRows"]

_ALL, _UPPER, _LOWER = 0, 1, 2


class ThresholdPatterns:
    """The threshold patterns of the points ``x``, as an implicit boolean matrix (module docstring).

    Columns: the all-ones pattern, then the upper pattern of each allowed cut, then the
    lower pattern of each allowed cut (the order of the dense enumeration).
    """

    dtype = np.dtype(bool)
    ndim = 2

    def __init__(self, x: np.ndarray, allowed: np.ndarray | None = None):
        x = np.asarray(x, dtype=float)
        if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
            raise ValueError(f"threshold patterns need a non-empty 1-D array of finite points, got shape {x.shape}")
        self.x = x
        self.order = np.argsort(x, kind="stable")
        self.values, self.starts = np.unique(x[self.order], return_index=True)
        m = self.values.size
        if allowed is None:
            cuts = np.arange(m - 1)
        else:
            allowed = np.asarray(allowed, dtype=bool)
            if allowed.shape != (m - 1,):
                raise ValueError(
                    f"allowed must hold one boolean per cut between distinct points ({m - 1}), got {allowed.shape}"
                )
            cuts = np.flatnonzero(allowed)
        self.cuts = cuts
        self._kind = np.concatenate([[_ALL], np.full(cuts.size, _UPPER), np.full(cuts.size, _LOWER)])
        self._cut = np.concatenate([[-1], cuts, cuts])
        # D[:, i] = (x >= v_(k+1)) for an upper pattern, its negation (x <= v_k) for a lower one
        self._from = np.concatenate([self.values[:1], self.values[cuts + 1], self.values[cuts + 1]])
        self._negate = self._kind == _LOWER

    @property
    def shape(self) -> tuple[int, int]:
        return (self.x.size, self._kind.size)

    @property
    def n_patterns(self) -> int:
        return int(self._kind.size)

    @property
    def cut_points(self) -> np.ndarray:
        """Position of every cut (allowed or not): the midpoints of consecutive distinct values."""
        return (self.values[:-1] + self.values[1:]) / 2

    @property
    def gates(self) -> np.ndarray:
        """(2, P): a gate ``(w, b)`` realising each pattern, ``D[:, i] = (w x + b >= 0)``."""
        mids = self.cut_points
        t = np.concatenate([self.values[:1] - 1.0, mids[self.cuts], mids[self.cuts]])
        w = np.where(self._kind == _LOWER, -1.0, 1.0)
        return np.vstack([w, -w * t])

    def __getitem__(self, key):
        """``D[rows, cols]`` with a slice, an index or an index array on either side (not both arrays)."""
        if not (isinstance(key, tuple) and len(key) == 2):
            raise TypeError("index threshold patterns as D[rows, cols]")
        rows, cols = key
        if np.ndim(rows) > 0 and np.ndim(cols) > 0:
            raise TypeError("D[rows, cols] with index arrays on both sides is not supported; use a slice on one side")
        return np.greater_equal.outer(self.x[rows], self._from[cols]) ^ self._negate[cols]

    def toarray(self) -> np.ndarray:
        """The dense boolean matrix (n x P bytes: small inputs only)."""
        return self[:, :]

    def __array__(self, dtype=None, copy=None):
        out = self.toarray()
        return out if dtype is None else out.astype(dtype)

    def astype(self, dtype) -> np.ndarray:
        return self.toarray().astype(dtype)

    def _intervals(self, cols) -> tuple[np.ndarray, np.ndarray]:
        """Column ``i`` is the sorted samples ``[s_i:]`` (``suffix``) or ``[:s_i]`` (lower patterns)."""
        cols = np.asarray(cols, dtype=int)
        xs = self.x[self.order]
        return np.searchsorted(xs, self._from[cols], side="left"), ~self._negate[cols]

    def combine(self, cols, W: np.ndarray) -> np.ndarray:
        """``sum_b D[:, cols_b] (W[0, b] x + W[1, b])`` in O(n + B): every column is a prefix or a
        suffix of the sorted samples, so the gates add up by difference arrays along them."""
        n = self.x.size
        start, suffix = self._intervals(cols)
        W = np.asarray(W, dtype=float).reshape(2, -1)
        coef = np.zeros((2, n + 1))
        np.add.at(coef, (slice(None), np.where(suffix, start, 0)), W)
        np.add.at(coef, (slice(None), np.where(suffix, n, start)), -W)
        a, c = np.cumsum(coef[:, :n], axis=1)
        out = np.empty(n)
        out[self.order] = a * self.x[self.order] + c
        return out

    def differences(self, cols) -> np.ndarray:
        """(B, B): on how many samples columns ``cols`` differ pairwise, in closed form (intervals)."""
        n = self.x.size
        start, suffix = self._intervals(cols)
        s1, s2 = start[:, None], start[None, :]
        same = suffix[:, None] == suffix[None, :]
        # a suffix [s1:] against a prefix [:s2]: |A| + |B| - 2 |A and B|
        cross = np.where(
            suffix[:, None], (n - s1) + s2 - 2 * np.maximum(0, s2 - s1), (n - s2) + s1 - 2 * np.maximum(0, s1 - s2)
        )
        return np.where(same, np.abs(s1 - s2), cross)

    def rows(self, i: int) -> np.ndarray:
        """Sample indices of the rows that define the cone of pattern ``i``: its extreme samples."""
        first, last = self.order[0], self.order[-1]
        k = self._cut[i]
        if k < 0:
            return np.unique([first, last])
        s = self.starts[k + 1]  # first sample (in sorted order) above the cut
        return np.unique([first, self.order[s - 1], self.order[s], last])

    def check_input(self, Zb: np.ndarray) -> None:
        """Raise unless ``Zb`` is ``[x, 1]`` for this object's points."""
        if Zb.shape != (self.x.size, 2) or not (np.array_equal(Zb[:, 0], self.x) and np.all(Zb[:, 1] == 1)):
            raise ValueError(
                f"threshold patterns of {self.x.size} points were paired with a grade input of shape {Zb.shape} "
                "that is not [x, 1] for those points"
            )

    def correlations(self, r: np.ndarray) -> np.ndarray:
        """(2, P): ``c_i = Zb' D_i r / n`` for every pattern, by prefix and suffix sums."""
        n = self.x.size
        xs, rs = self.x[self.order], np.asarray(r, dtype=float)[self.order]
        g = np.vstack([np.add.reduceat(rs * xs, self.starts), np.add.reduceat(rs, self.starts)])
        prefix = np.cumsum(g, axis=1)  # groups 0..k
        suffix = np.cumsum(g[:, ::-1], axis=1)[:, ::-1]  # groups k..m-1
        return np.hstack([suffix[:, :1], suffix[:, self.cuts + 1], prefix[:, self.cuts]]) / n

    def kappa(self, r: np.ndarray) -> np.ndarray:
        """(P, 2): kappa_i^+ and kappa_i^- of every pattern for the residual ``r`` (module docstring)."""
        c1, c2 = self.correlations(r)
        kind = self._kind
        # edge rays rho_1 = s1 (1, -t1), rho_2 = s2 (1, -t2), normalised; t1 < t2 unless m = 1
        v = self.values
        t1 = np.concatenate([v[:1], v[self.cuts], v[self.cuts]])
        t2 = np.concatenate([v[-1:], v[self.cuts + 1], v[self.cuts + 1]])
        s1 = np.where(kind == _LOWER, -1.0, 1.0)
        s2 = np.where(kind == _UPPER, 1.0, -1.0)
        d1 = s1 * (c1 - c2 * t1) / np.sqrt(1.0 + t1 * t1)
        d2 = s2 * (c1 - c2 * t2) / np.sqrt(1.0 + t2 * t2)
        # c in the cone: the sign of (t, 1) . c at both ends, as the pattern prescribes
        h1, h2 = c1 * t1 + c2, c1 * t2 + c2
        norm = np.hypot(c1, c2)
        out = np.empty((kind.size, 2))
        for col, sgn in ((0, 1.0), (1, -1.0)):
            a, b = sgn * h1, sgn * h2
            inside = np.where(
                kind == _ALL, (a >= 0) & (b >= 0), np.where(kind == _UPPER, (a <= 0) & (b >= 0), (a >= 0) & (b <= 0))
            )
            out[:, col] = np.where(inside, norm, np.maximum(0.0, np.maximum(sgn * d1, sgn * d2)))
        return out

    def cone_rows(self) -> ThresholdRows:
        return ThresholdRows(self)


class ThresholdRows:
    """The cone rows of every threshold pattern, as a sequence computed on access."""

    def __init__(self, patterns: ThresholdPatterns):
        self.patterns = patterns

    def __len__(self) -> int:
        return self.patterns.n_patterns

    def __getitem__(self, i) -> np.ndarray:
        return self.patterns.rows(int(i))
