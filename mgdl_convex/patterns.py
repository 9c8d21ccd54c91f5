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
  ``{x >= t}`` and ``{x <= t}``: at most ``2n - 1`` non-zero patterns.
* **all, 2-D input**: every closed half-plane split of a finite planar point
  set can be moved, without changing it, until its boundary line passes
  through two samples; the samples *on* that line are then assigned by a
  threshold along the line (this is where degenerate, collinear data are
  handled: assuming general position loses patterns).  O(n^2) lines, O(n^2)
  patterns, O(n^3) work: practical up to a few hundred samples.

Patterns are stored as a boolean matrix ``D`` of shape (n, P), one column per
pattern, with the gates that realise them where they are known (q x P).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Patterns", "sample_patterns", "enumerate_patterns", "make_patterns"]


@dataclass(frozen=True)
class Patterns:
    """Distinct non-zero activation patterns of one grade.

    Attributes
    ----------
    D : (n, P) bool array, ``D[j, i] = 1[Zb_j u_i >= 0]``.
    gates : (q, P) float array, a gate realising each pattern; None for the 2-D
        enumeration (its patterns come from lines, not from stored gates).
    complete : True when ``D`` holds every pattern the input admits.
    method : "sampled" or "all".
    """

    D: np.ndarray
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
    D = Zb @ gates >= 0
    keep = _unique_columns(D)
    D, gates = D[:, keep], gates[:, keep]
    return Patterns(D=D, gates=gates, complete=False, method="sampled")


def _enumerate_1d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.unique(x)
    mids = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    # {x >= t} for t below every value (all ones) and between consecutive values
    upper = [np.array([1.0, -t]) for t in mids[:-1]]
    # {x <= t} for t between consecutive values (t above all values is all ones again)
    lower = [np.array([-1.0, t]) for t in mids[1:-1]]
    gates = np.array(upper + lower).T
    # compare directly (a float n x 2n product would cost 8x the memory of the boolean result)
    D = np.hstack([x[:, None] >= mids[None, :-1], x[:, None] <= mids[None, 1:-1]])
    return gates, D


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
        gates, D = _enumerate_1d(Zb[:, 0])
    elif q == 3:
        D = _enumerate_2d(Zb[:, :2])
        gates = None
    else:
        raise ValueError(
            f"patterns='all' needs a grade input of dimension 1 or 2, got {q - 1}; "
            "use patterns='sampled' (or 'auto', which enumerates only where possible)"
        )
    keep = _unique_columns(D)
    return Patterns(D=D[:, keep], gates=None if gates is None else gates[:, keep], complete=True, method="all")


#: "auto" enumerates only up to this many samples (1-D: 2n - 1 patterns; 2-D: O(n^2))
AUTO_MAX_SAMPLES = {2: 4096, 3: 200}


def make_patterns(Zb: np.ndarray, method: str, n_gates: int, rng: np.random.Generator) -> Patterns:
    """Patterns by ``method``: "sampled", "all", or "auto".

    "auto" enumerates all patterns where the input is 1-D (up to 4096 samples) or 2-D
    (up to 200 samples) and samples ``n_gates`` gates otherwise: pricing every one of
    2n - 1 patterns in every working-set round dominates the solve beyond that.
    The grade records which it was (``patterns_complete``).
    """
    if method == "auto":
        limit = AUTO_MAX_SAMPLES.get(Zb.shape[1], 0)
        method = "all" if Zb.shape[0] <= limit else "sampled"
    if method == "all":
        return enumerate_patterns(Zb)
    if method == "sampled":
        return sample_patterns(Zb, n_gates, rng)
    raise ValueError(f"patterns must be 'sampled', 'all' or 'auto', got {method!r}")
