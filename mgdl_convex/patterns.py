"""Activation patterns of one grade: the sets D_i = diag(1[Zb u_i >= 0]).

A grade's input is ``Zb = [Z, 1]`` (n x q, bias column last).  Every gate
u in R^q splits the n samples into the closed half-space ``Zb u >= 0`` and the
rest; the convex program of a grade has one pair of weight blocks per distinct
split (THEORY section 3).  This module produces those splits:

* **sampled**: gates through random samples.  A gate is ``u = (w, -w . z_j)``
  with ``w ~ N(0, I_m)`` and ``z_j`` a sample chosen at random, so every
  hyperplane passes through the data (plain Gaussian gates mostly give the
  all-ones or all-zero split when the features are large).  Duplicates and the
  all-zero pattern are dropped.  ``complete = False``.
* **all, 1-D input**: the splits of points on a line are the thresholds
  ``{x >= t}`` and ``{x <= t}``: at most ``2n - 1`` non-zero patterns, held implicitly
  (:class:`mgdl_convex.thresholds.ThresholdPatterns`: sorted samples, not an n x (2n - 1)
  matrix, and kappa of all of them in O(n)), so every 1-D grade input gets all its
  patterns at any n.
* **all, 2-D input**: every closed half-plane split of a finite planar point
  set can be moved, without changing it, until its boundary line passes
  through two samples; the samples *on* that line are then assigned by a
  threshold along the line (this is where degenerate, collinear data are
  handled: assuming general position loses patterns).  O(n^2) lines, O(n^2)
  patterns, O(n^3) work: practical up to a few hundred samples.

Patterns are stored as a boolean matrix ``D`` of shape (n, P), one column per
pattern (for 1-D input an object that behaves like one where the solver reads it), with
the gates that realise them where they are known (q x P).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .thresholds import ThresholdPatterns

__all__ = ["Patterns", "sample_patterns", "enumerate_patterns", "make_patterns"]


@dataclass(frozen=True)
class Patterns:
    """Distinct non-zero activation patterns of one grade.

    Attributes
    ----------
    D : (n, P) bool array, ``D[j, i] = 1[Zb_j u_i >= 0]``; for every pattern of a 1-D input a
        :class:`~mgdl_convex.thresholds.ThresholdPatterns` (the same entries, never stored).
    gates : (q, P) float array, a gate realising each pattern; None for the 2-D
        enumeration (its patterns come from lines, not from stored gates).
    complete : True when ``D`` holds every pattern the input admits.
    method : "sampled" or "all".
    """

    D: np.ndarray | ThresholdPatterns
    gates: np.ndarray | None
    complete: bool
    method: str

    @property
    def n_patterns(self) -> int:
        return int(self.D.shape[1])


def _unique_columns(D: np.ndarray) -> np.ndarray:
    """Indices of the distinct non-zero columns of ``D``, first occurrences in order."""
    nonzero = np.flatnonzero(D.any(axis=0))
    if nonzero.size == 0:
        return nonzero
    _, first = np.unique(np.packbits(D[:, nonzero], axis=0), axis=1, return_index=True)
    return nonzero[np.sort(first)]


def sample_patterns(Zb: np.ndarray, n_gates: int, rng: np.random.Generator) -> Patterns:
    """Patterns of ``n_gates`` random gates through random samples (see module docstring)."""
    n, q = Zb.shape
    W = rng.standard_normal((q - 1, n_gates))
    anchors = rng.integers(0, n, size=n_gates)
    bias = -np.einsum("ij,ji->i", Zb[anchors, :-1], W)
    gates = np.vstack([W, bias[None, :]])
    D = np.empty((n, n_gates), dtype=bool)
    step = max(1, 2**22 // max(n_gates, 1))  # rows per chunk: the float product stays small
    for start in range(0, n, step):
        D[start : start + step] = Zb[start : start + step] @ gates >= 0
    keep = _unique_columns(D)
    D, gates = D[:, keep], gates[:, keep]
    return Patterns(D=D, gates=gates, complete=False, method="sampled")


def _enumerate_2d(P: np.ndarray) -> np.ndarray:
    pts = np.unique(P, axis=0)
    cols: list[np.ndarray] = [np.ones(len(P), dtype=bool)]
    tol = 1e-12 * max(1.0, float(np.abs(pts).max())) ** 2
    for j in range(len(pts)):
        for k in range(j + 1, len(pts)):
            d = pts[k] - pts[j]
            side = (P - pts[j]) @ np.array([-d[1], d[0]])
            line_tol = tol * float(d @ d) ** 0.5
            on = np.abs(side) <= line_tol
            along = (P - pts[j]) @ d
            vals = np.unique(along[on])
            cuts = np.concatenate([[vals[0] - 1.0], (vals[:-1] + vals[1:]) / 2, [vals[-1] + 1.0]])
            for strict in (side > line_tol, side < -line_tol):
                for t in cuts:
                    cols.append(strict | (on & (along >= t)))
                    cols.append(strict | (on & (along <= t)))
    return np.array(cols).T


def enumerate_patterns(Zb: np.ndarray) -> Patterns:
    """All non-zero patterns of a 1-D or 2-D grade input (see module docstring)."""
    n, q = Zb.shape
    if q == 2:
        D = ThresholdPatterns(Zb[:, 0])
        return Patterns(D=D, gates=D.gates, complete=True, method="all")
    if q != 3:
        raise ValueError(
            f"patterns='all' needs a grade input of dimension 1 or 2, got {q - 1}; "
            "use patterns='sampled' (or 'auto', which enumerates only where possible)"
        )
    D = _enumerate_2d(Zb[:, :2])
    return Patterns(D=D[:, _unique_columns(D)], gates=None, complete=True, method="all")


#: "auto" enumerates 2-D inputs only up to this many samples (O(n^2) patterns); 1-D inputs always
AUTO_MAX_SAMPLES_2D = 200


def make_patterns(Zb: np.ndarray, method: str, n_gates: int, rng: np.random.Generator) -> Patterns:
    """Patterns by ``method``: "sampled", "all", or "auto".

    "auto" enumerates all patterns where the input is 1-D (any n: they are priced in O(n))
    or 2-D (up to 200 samples: O(n^2) patterns) and samples ``n_gates`` gates otherwise.
    The grade records which it was (``patterns_complete``).
    """
    if method == "auto":
        q = Zb.shape[1]
        method = "all" if q == 2 or (q == 3 and Zb.shape[0] <= AUTO_MAX_SAMPLES_2D) else "sampled"
    if method == "all":
        return enumerate_patterns(Zb)
    if method == "sampled":
        return sample_patterns(Zb, n_gates, rng)
    raise ValueError(f"patterns must be 'sampled', 'all' or 'auto', got {method!r}")
