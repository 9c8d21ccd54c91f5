"""Weak-duality certificate of a grade (docs/theory.md, section 3).

For the program of :mod:`mgdl_convex.program` with optional bounds
``lower <= g <= upper`` on the prediction g (on training rows T, constraint
points and virtual rows alike), write ``nu = n (mu_upper - mu_lower)`` with
``mu >= 0`` the bounds' multipliers and ``w`` (on T) the loss's.  Minimising the
Lagrangian over the residual gives ``(w'e_T - ||w||^2 / 2) / n``, and over each
block a finite value (zero) iff ``kappa_i^{+-}(lam) <= beta`` for the
*effective* multiplier ``lam = (w on T, 0 elsewhere) - nu``.  So every such pair
gives the lower bound::

    D = (w'e_T - ||w||^2 / 2) / n  -  mu_upper' upper  +  mu_lower' lower.

Without bounds and extra rows this is ``D(lam) = (lam'e - ||lam||^2 / 2) / n``.

We take ``lam`` = the effective residual ``r - nu`` of ``sol`` (r = e - g on T,
0 elsewhere) scaled by ``s = min(1, beta / kappa)`` with kappa computed over
every pattern of the program (exactly, by cone projection,
:func:`mgdl_convex.cones.pattern_kappa`; for a 1-D grade input over all 2n - 1
threshold patterns in O(n), :mod:`mgdl_convex.thresholds`), and the multipliers
the solver returned: ``w = lam + nu`` on T, and ``nu`` scaled by s on the other rows
(there ``lam = -nu``).  ``P - D >= 0`` then bounds how far the solution is from the
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

from .compression import LossAtoms, loss_atoms
from .cones import EntryRows, cone_rows, pattern_kappa
from .pattern_runs import PatternRuns, pattern_runs
from .program import BlockSolution, GradeProgram, effective_residual

__all__ = ["GradeCertificate", "PatternRows", "certify", "entry_rows", "max_kappa", "program_kappa", "program_rows"]


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


class PatternRows(list):
    """What every solve of one program reuses, computed once along the samples' order: the cone
    rows of every pattern (a list of index arrays, as :func:`~mgdl_convex.cones.cone_rows` gives
    them), ``runs``, the patterns as runs, which price them in O(n q)
    (:mod:`mgdl_convex.pattern_runs`), and ``atoms``, the training rows reduced on the stretches
    where every pattern is constant (:func:`mgdl_convex.compression.loss_atoms`).  Each of
    ``runs`` and ``atoms`` is ``None`` where it would not pay (scattered samples); both are
    used only for the arrays they were computed from.  ``entry``: the rows a block of each pattern
    enters a restricted program with (:class:`~mgdl_convex.cones.EntryRows`; ``None``: all of them).
    ``supports``: where each pattern's cone projection starts the next time it is priced (filled
    by :func:`~mgdl_convex.cones.pattern_kappa`; it changes the work, never a price)."""

    def __init__(self, rows, runs: PatternRuns | None, atoms: LossAtoms | None = None, entry: EntryRows | None = None):
        super().__init__(rows)
        self.runs = runs
        self.atoms = atoms
        self.entry = entry
        self.supports: dict = {}


def entry_rows(rows, i: int) -> np.ndarray:
    """The cone rows a block of pattern i enters a restricted program with (all of ``rows[i]`` by default)."""
    entry = rows.entry if isinstance(rows, PatternRows) else None
    return rows[i] if entry is None else entry[i]


def program_rows(program: GradeProgram, order: np.ndarray | None):
    """Cone rows of every pattern, over the program's real rows only (virtual rows have no cone).

    For explicit patterns where every row is a real point, a :class:`PatternRows` with the
    patterns' runs and (unbounded programs only: bounds are per sample) the loss atoms; without
    them for other explicit programs; the lazy rows of threshold patterns for those.
    """
    m = program.n_cone
    if m < program.n_points:
        return cone_rows(program.Zb[:m], program.D[:m], order)
    rows = cone_rows(program.Zb, program.D, order)
    if not isinstance(program.D, np.ndarray):
        return rows
    runs = pattern_runs(program.D, order)
    atoms = None if program.bounded or program.extra_rows else loss_atoms(program.Zb, program.e, runs)
    entry = EntryRows(program.D, rows, order) if order is not None and np.ndim(order) == 2 else None
    return PatternRows(rows, runs, atoms, entry)


def program_kappa(
    program: GradeProgram, r: np.ndarray, rows, threshold: float = 0.0, candidates: np.ndarray | None = None
) -> np.ndarray:
    """:func:`~mgdl_convex.cones.pattern_kappa` of ``r`` (one value per row of the program), normalised by
    the program's n training rows, whatever its other rows."""
    scale = program.n_points / program.n
    runs, supports = (rows.runs, rows.supports) if isinstance(rows, PatternRows) else (None, None)
    return pattern_kappa(
        program.Zb, program.D, r * scale, rows, threshold=threshold, candidates=candidates, runs=runs,
        supports=supports,
    )


def max_kappa(
    program: GradeProgram, r: np.ndarray, order: np.ndarray | None, threshold: float = 0.0, rows=None
) -> float:
    """``max_i kappa_i^{+-}(r)`` over all patterns (exact where it exceeds ``threshold``).

    ``rows``: the patterns' cone rows if already computed (:func:`mgdl_convex.cones.cone_rows`).
    """
    rows = rows if rows is not None else program_rows(program, order)
    kap = program_kappa(program, r, rows, threshold=threshold)
    return float(kap.max()) if kap.size else 0.0


def certify(
    program: GradeProgram,
    sol: BlockSolution,
    nu: np.ndarray,
    complete: bool,
    order: np.ndarray | None = None,
    dual_point: BlockSolution | None = None,
    rows=None,
    candidates: np.ndarray | None = None,
) -> GradeCertificate:
    """Certificate for ``sol`` given the bound multipliers ``nu`` of its solve (module docstring).

    ``lam`` is built from the residual of ``dual_point`` (default ``sol``): pass
    the solver's own solution when ``sol`` is a pruned copy of it, whose residual
    is a slightly worse dual point.  Any point gives a valid bound.
    ``candidates`` (block indices ``2 i`` for ``v_i``, ``2 i + 1`` for ``w_i``) restricts the
    program to those blocks: the certificate of a width-capped grade over its kept blocks.
    """
    n = program.n
    primal = sol.objective(program)
    nu = np.asarray(nu, dtype=float)
    r_eff = effective_residual(program, (dual_point or sol).prediction(program), nu)
    if candidates is None:
        kappa = max_kappa(program, r_eff, order, threshold=program.beta, rows=rows)
    else:
        rows = rows if rows is not None else program_rows(program, order)
        cand = np.asarray(candidates)
        kap = program_kappa(program, r_eff, rows, candidates=np.unique(cand // 2))
        kappa = float(kap.ravel()[cand].max(initial=0.0))
    scale = min(1.0, program.beta / kappa) if kappa > 0 else 1.0
    lam = r_eff * scale
    nu_dual = nu.copy()
    nu_dual[n:] *= scale  # off the training rows lam = -nu: scale them together
    w = lam[:n] + nu_dual[:n]
    dual = float((w @ program.e[:n] - w @ w / 2) / n)
    if program.bounded:
        up, lo = np.maximum(nu_dual, 0) / n, np.maximum(-nu_dual, 0) / n
        fin_up, fin_lo = np.isfinite(program.upper), np.isfinite(program.lower)
        if np.any(up[~fin_up] > 0) or np.any(lo[~fin_lo] > 0):
            dual = -np.inf  # a multiplier on a bound that does not exist: no certificate (fail closed)
        else:
            dual += float(-up[fin_up] @ program.upper[fin_up] + lo[fin_lo] @ program.lower[fin_lo])
    gap = primal - dual
    scope = "all patterns: global optimum of the non-convex grade" if complete else "sampled patterns only"
    if candidates is not None:
        scope = "kept blocks only (width cap)"
    return GradeCertificate(
        primal=primal,
        dual=dual,
        gap=gap,
        relative_gap=gap / max(abs(primal), 1e-300),
        kappa=kappa,
        beta=program.beta,
        scope=scope,
    )
