"""From a convex solution to explicit ReLU weights (docs/theory.md, section 2, "Recovery").

Every non-zero block ``U_b`` (a ``v_i`` when ``sign_b = +1``, a ``w_i`` when -1)
becomes one neuron::

    u = U_b / sqrt(||U_b||),      a = sign_b sqrt(||U_b||)

so ``a relu(Zb u) = sign_b relu(Zb U_b)``, which equals ``sign_b D_i Zb U_b`` on
the training points because ``U_b`` lies in the cone of pattern ``i``.  Hence the
recovered network reproduces the convex prediction there, and its weight-decay
penalty ``(||u||^2 + a^2) / 2 = ||U_b||`` equals the group penalty: the convex and
the non-convex objectives agree at every feasible point.  Blocks whose norm is
below ``prune_rtol`` times the largest (or below an absolute floor: a block that cannot
move the prediction by 1e-7 max |e|) are solver noise and are dropped first.

**Near-duplicate blocks.**  On dense samples an optimum is rarely unique: two blocks whose
patterns differ on one sample (neighbouring thresholds of a 1-D input, the ReLU kink on the
sample between them) are the same neuron on every other sample, and an interior-point solver
returns the centre of the optimal face, spreading one neuron over several such blocks.
:func:`duplicate_groups` groups blocks of one sign whose patterns differ on at most ``m``
samples (single linkage); keeping one block per group and re-solving the program on those gives
an equally good optimum with fewer neurons *when* its certificate against the whole program says
so; the caller (:mod:`mgdl_convex.grade`) checks that and otherwise keeps the spread solution.
For the same reason the working set's overflow test (:mod:`mgdl_convex.working_set`) counts
groups, not blocks.
"""

from __future__ import annotations

import numpy as np

from .network import GradeLayer
from .program import BlockSolution
from .thresholds import ThresholdPatterns

__all__ = ["prune", "pattern_differences", "duplicate_groups", "recover_neurons", "MERGE_DIFFER"]

#: near-duplicate blocks: patterns that differ on at most this many samples, the coarsest grouping first
MERGE_DIFFER = (16, 4, 1)


def prune(sol: BlockSolution, prune_rtol: float, floor: float = 0.0) -> BlockSolution:
    """Drop blocks whose norm is at most ``prune_rtol`` times the largest, or at most ``floor``."""
    norms = sol.block_norms()
    if norms.size == 0:
        return sol
    return sol.select(norms > max(prune_rtol * norms.max(), floor))


def pattern_differences(D, cols) -> np.ndarray:
    """(B, B): on how many rows the columns ``cols`` of ``D`` differ pairwise."""
    if isinstance(D, ThresholdPatterns):  # in closed form
        return D.differences(cols)
    M = np.asarray(D[:, cols], dtype=np.float32)
    ones = M.sum(axis=0)
    return ones[:, None] + ones[None, :] - 2 * (M.T @ M)  # exact: integers below 2^24


def duplicate_groups(differ: np.ndarray, sign: np.ndarray, max_differ: int) -> np.ndarray:
    """A group label per block: blocks of one sign whose patterns differ on at most ``max_differ``
    rows (``differ``: :func:`pattern_differences`) are linked, and groups are the linked components
    (module docstring)."""
    k = sign.size
    parent = np.arange(k)

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(differ <= max_differ, 1))):
        if sign[i] == sign[j]:
            parent[root(i)] = root(j)
    return np.array([root(i) for i in range(k)])


def recover_neurons(sol: BlockSolution) -> GradeLayer:
    """The ReLU layer of the module docstring (blocks with zero norm are skipped)."""
    norms = sol.block_norms()
    keep = norms > 0
    root = np.sqrt(norms[keep])
    return GradeLayer(hidden=sol.U[:, keep] / root, readout=sol.sign[keep] * root)
