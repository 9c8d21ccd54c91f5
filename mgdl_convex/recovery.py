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
"""

from __future__ import annotations

import numpy as np

from .network import GradeLayer
from .program import BlockSolution

__all__ = ["prune", "recover_neurons"]


def prune(sol: BlockSolution, prune_rtol: float, floor: float = 0.0) -> BlockSolution:
    """Drop blocks whose norm is at most ``prune_rtol`` times the largest, or at most ``floor``."""
    norms = sol.block_norms()
    if norms.size == 0:
        return sol
    return sol.select(norms > max(prune_rtol * norms.max(), floor))


def recover_neurons(sol: BlockSolution) -> GradeLayer:
    """The ReLU layer of the module docstring (blocks with zero norm are skipped)."""
    norms = sol.block_norms()
    keep = norms > 0
    root = np.sqrt(norms[keep])
    return GradeLayer(hidden=sol.U[:, keep] / root, readout=sol.sign[keep] * root)
