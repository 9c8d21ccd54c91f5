"""A certified enclosure of ``sup |e_K|`` for the scheme so far, for a trainer that runs to eps.

1-D: the exact linear pieces of the network (:mod:`proofs_check.pieces`) and the ball-arithmetic
branch and bound of :func:`proofs_check.bounds1d.sup_abs`; 2-D and 3-D: input splitting with affine
forms (:func:`proofs_check.boundsnd.sup_abs_nd`).  Beyond 3-D there is no certified enclosure: the
maximum over a grid is returned, marked heuristic.  The same searches the checker's C2 uses, on
the current scheme only (no other claim is run).
"""

from __future__ import annotations

import numpy as np

from .balls import Enclosure
from .bounds1d import Residual, sup_abs
from .boundsnd import sup_abs_nd
from .network import staged_outputs
from .pieces import exact_pieces
from .searches import SupSearch

__all__ = ["residual_sup"]


def residual_sup(layers, target, domain, rtol: float = 1e-6, max_boxes: int = 200_000) -> tuple[SupSearch, bool]:
    """``(search, rigorous)``: an enclosure of ``sup |f - G_K|`` over the domain, K = len(layers)."""
    domain = np.asarray(domain, dtype=float)
    rigorous = bool(getattr(target, "rigorous", False))
    if domain.shape == (1, 2) and rigorous:
        K = len(layers)
        pieces = exact_pieces(layers, domain[0, 0], domain[0, 1])
        return sup_abs([(p.a, p.b, Residual(target, p.S[K], p.T[K])) for p in pieces], rtol, max_boxes), True
    if domain.shape[0] in (2, 3) and rigorous:
        return sup_abs_nd(layers, target, domain, len(layers), max(rtol, 1e-4), max_boxes), True
    d = domain.shape[0]
    per_axis = max(2, int(round(200_000 ** (1 / d))))
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in domain]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    err = np.abs(target(X) - staged_outputs(layers, X)[-1])
    i = int(np.argmax(err))
    top = float(err[i])
    return SupSearch(Enclosure.of(top, top), tuple(float(v) for v in X[i]), len(X), True), False
