"""Weak-duality certificate of a grade (THEORY sections 3 and 4).

For the program of :mod:`mgdl_convex.program` with optional bounds
``lower <= p <= upper`` on the prediction p, any ``lam`` with
``kappa(lam) <= beta`` and any ``mu_upper, mu_lower >= 0`` give the lower bound::

    D = (w'e - ||w||^2 / 2) / n  -  mu_upper' upper  +  mu_lower' lower,
    w = lam + n (mu_upper - mu_lower)

(minimise the Lagrangian over p, which gives ``p = e - w``, and over each block,
which is bounded below iff ``kappa_i^{+-}(lam) <= beta``).  Without bounds this
is THEORY's ``D(lam) = (lam'e - ||lam||^2 / 2) / n``.

We take ``lam`` = the effective residual ``r - nu`` of ``sol`` scaled by ``min(1, beta / kappa)``
with kappa computed over every pattern of the program (exactly, by cone
projection, :func:`mgdl_convex.cones.pattern_kappa`; for a 1-D grade input over
all 2n - 1 threshold patterns in O(n), :mod:`mgdl_convex.thresholds`), and the
multipliers the solver returned.  ``P - D >= 0`` then bounds how far the solution is from the
program's optimum, whatever the solver claims.  With every pattern enumerated
(1-D and 2-D grade inputs) the program's optimum is the global optimum of the
non-convex grade, so the certificate covers that; with sampled patterns it
covers the sampled program only.

This is a float64 computation ("solver-trusted" in proofs_check's terms); the
rigorous versions live in ``proofs_check``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .cones import cone_rows, pattern_kappa
from .program import BlockSolution, GradeProgram

__all__ = ["GradeCertificate", "certify", "max_kappa"]


@dataclass(frozen=True)
class GradeCertificate:
    primal: float
    dual: float
    gap: float
    relative_gap: float
    kappa: float
    beta: float
    scope: str

    def to_dict(self) -> dict:
        return asdict(self)


def max_kappa(
    program: GradeProgram, r: np.ndarray, order: np.ndarray | None, threshold: float = 0.0, rows=None
) -> float:
    """``max_i kappa_i^{+-}(r)`` over all patterns (exact where it exceeds ``threshold``).

    ``rows``: the patterns' cone rows if already computed (:func:`mgdl_convex.cones.cone_rows`).
    """
    rows = rows if rows is not None else cone_rows(program.Zb, program.D, order)
    kap = pattern_kappa(program.Zb, program.D, r, rows, threshold=threshold)
    return float(kap.max()) if kap.size else 0.0


def certify(
    program: GradeProgram,
    sol: BlockSolution,
    nu: np.ndarray,
    complete: bool,
    order: np.ndarray | None = None,
    dual_point: BlockSolution | None = None,
    rows=None,
) -> GradeCertificate:
    """Certificate for ``sol`` given the bound multipliers ``nu`` of its solve (module docstring).

    ``lam`` is built from the residual of ``dual_point`` (default ``sol``): pass
    the solver's own solution when ``sol`` is a pruned copy of it, whose residual
    is a slightly worse dual point.  Any point gives a valid bound.
    """
    n = program.n
    primal = sol.objective(program)
    r_eff = program.e - (dual_point or sol).prediction(program) - nu
    kappa = max_kappa(program, r_eff, order, threshold=program.beta, rows=rows)
    lam = r_eff * min(1.0, program.beta / kappa) if kappa > 0 else r_eff
    w = lam + nu
    dual = float((w @ program.e - w @ w / 2) / n)
    if program.bounded:
        mu_upper, mu_lower = np.maximum(nu, 0) / n, np.maximum(-nu, 0) / n
        dual += float(-mu_upper @ program.upper + mu_lower @ program.lower)
    gap = primal - dual
    scope = "all patterns: global optimum of the non-convex grade" if complete else "sampled patterns only"
    return GradeCertificate(
        primal=primal,
        dual=dual,
        gap=gap,
        relative_gap=gap / max(abs(primal), 1e-300),
        kappa=kappa,
        beta=program.beta,
        scope=scope,
    )
