"""The three ways the residuals are bounded, each returning one :class:`GradeBounds` per grade.

* :func:`rigorous_1d`: the exact linear pieces of the network (:mod:`proofs_check.pieces`) and
  ball-arithmetic branch and bound on each (:mod:`proofs_check.bounds1d`);
* :func:`rigorous_boxes`: in 2-D and 3-D, input splitting with certified affine forms
  (:mod:`proofs_check.boundsnd`), L^p enclosures refined until consecutive grades separate;
* :func:`grids`: two tensor grids (heuristic), beyond 3-D and for targets without a
  ball-arithmetic form; :func:`grid_lp_norms` is its L^p part alone.

The verdicts (:mod:`proofs_check.verdicts`) read only these records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .balls import Enclosure
from .bounds1d import LpIntegrals, Residual, prove_monotone, sup_abs
from .boundsnd import LpEnclosureND, prove_monotone_nd, sup_abs_nd
from .claims import HEURISTIC, RIGOROUS
from .network import dead_on_boxes, staged_outputs
from .pieces import merged, partitions, zero_grades
from .searches import PROVED, MonotoneSearch, SupSearch

__all__ = [
    "GradeBounds",
    "GridGrade",
    "Bounds",
    "BoxBudget",
    "box_budget",
    "rigorous_1d",
    "rigorous_boxes",
    "lp_norms_boxes",
    "grids",
    "grid_lp_norms",
]

RIGOROUS_DIMENSIONS = (1, 2, 3)  # beyond 3-D the box counts grow too fast: grids (heuristic)


@dataclass(frozen=True)
class GridGrade:
    """Grid values of one grade (heuristic): maxima on the coarse and fine grid and where, C1 excesses."""

    sup_coarse: float
    sup_fine: float
    point: list
    excess_coarse: float | None = None  # max (|e_k| - |e_(k-1)|) on the grid, grade >= 1
    excess_fine: float | None = None
    excess_point: list | None = None


@dataclass(frozen=True)
class GradeBounds:
    """Everything the verdicts read about grade k (k = 0: the target itself)."""

    grade: int
    sup: SupSearch  # heuristic: lower = the grid maximum, upper unbounded
    lp: dict  # p -> Enclosure of ||e_k||_p (heuristic: a grid estimate with its error)
    monotone: MonotoneSearch | None = None  # rigorous C1 search, grade >= 1
    zero: bool | None = None  # g_k identically 0 on Omega, proved (grade >= 1); False: not shown
    grid: GridGrade | None = None


@dataclass(frozen=True)
class Bounds:
    trust: str
    method: str
    grades: tuple[GradeBounds, ...]
    pieces: list | None = None  # 1-D: each grade's exact partition (for the Sollya cross-check)
    lp_unresolved: tuple[int, ...] = ()  # grades whose L^p enclosures still overlap their predecessor's
    details: dict = field(default_factory=dict)


def _zero_grades(scheme) -> list[bool]:
    """g_k = 0 on Omega proved when every neuron with a non-zero read-out is certainly off on the domain box."""
    lo, hi = scheme.domain[:, 0][None], scheme.domain[:, 1][None]
    return [bool(dead_on_boxes(scheme.layers, lo, hi, k)[0]) for k in range(1, scheme.n_grades + 1)]


def rigorous_1d(scheme, target, s) -> Bounds:
    """Grade k is searched on its own exact partition (its residual is affine on each piece), not the whole scheme's."""
    lo, hi = scheme.domain[0]
    parts = partitions(scheme.layers, lo, hi)
    zero = zero_grades(parts[-1])
    own = [merged(part, (k,)) for k, part in enumerate(parts)]  # e_k affine on each piece
    residuals = [[(p.a, p.b, Residual(target, p.S[k], p.T[k])) for p in own[k]] for k in range(len(parts))]
    monotone = [None]
    for k in range(1, len(parts)):
        both = merged(parts[k], (k - 1, k))  # where g_k = 0 on a piece, prove_monotone returns at once
        monotone.append(MonotoneSearch.merge(k, (_monotone_piece(target, p, k, s.c1_boxes) for p in both)))
    lps = _lp_until_separated(residuals, s, contracted(monotone))
    out = []
    for k in range(len(parts)):
        sup = sup_abs(residuals[k], rtol=s.sup_rtol, max_boxes=s.sup_boxes)
        out.append(GradeBounds(k, sup, lps[k], monotone[k], zero[k - 1] if k else None))
    details = {"pieces": len(parts[-1]), "pieces_per_grade": [len(p) for p in own]}
    return Bounds(RIGOROUS, "exact pieces + ball arithmetic", tuple(out), own, details=details)


#: the 1-D L^p enclosures are first taken to this relative tolerance; grades whose enclosure
#: then overlaps a neighbour's are refined step by step (:data:`LP_STEP`) towards
#: ``CheckSettings.lp_rtol``, each step going on from the last, until the neighbours separate
#: (C3 needs separation only)
LP_COARSE_RTOL = 3e-2
LP_STEP = 10**-0.5
LP_MAX_STEPS = 6  # then straight to lp_rtol (each level re-sums the boxes of the grades it refines)


def lp_levels(lp_rtol: float) -> list[float]:
    """The tolerances the 1-D L^p searches go through: coarse, then down by LP_STEP (at most
    LP_MAX_STEPS times) and finally ``lp_rtol`` itself; strictly decreasing."""
    levels = [max(lp_rtol, LP_COARSE_RTOL)]
    while levels[-1] > lp_rtol and len(levels) <= LP_MAX_STEPS:
        levels.append(max(lp_rtol, levels[-1] * LP_STEP))
    if levels[-1] > lp_rtol:
        levels.append(lp_rtol)
    return levels


def contracted(monotone) -> set[int]:
    """The grades k whose C1 search proved ``|e_k| <= |e_(k-1)|`` everywhere and ``<`` on a box: their
    L^p norms fall strictly whatever the enclosures (:func:`proofs_check.verdicts.c3_verdict`), so the
    L^p searches need not refine them to separation."""
    return {k for k, m in enumerate(monotone) if m is not None and m.status == PROVED and m.strict is not None}


def _decided(lps, k: int, contraction: set[int]) -> bool:
    """C3 at grade k needs no finer enclosures: separated from grade k - 1's, or decided by contraction
    (which needs ``||e_(k-1)||_p`` finite, its enclosure bounded)."""
    if all(_separated(lps[k - 1][p], lps[k][p]) for p in lps[k]):
        return True
    return k in contraction and all(e.bounded for e in lps[k - 1].values())


def _lp_until_separated(residuals, s, contraction: set[int] = frozenset()) -> list[dict]:
    """``{p: Enclosure of ||e_k||_p}`` per grade: coarse first, refined where neighbours overlap (and C3 is
    not decided by contraction)."""
    levels = lp_levels(s.lp_rtol)
    searches = [LpIntegrals(res, s.ps) for res in residuals]

    def norms(k, rtol):
        integrals, _ = searches[k].refine(rtol)
        return {p: integrals[p].root(p) for p in s.ps}

    lps = [norms(k, levels[0]) for k in range(len(residuals))]
    for rtol in levels[1:]:
        overlap = set()
        for k in range(1, len(lps)):
            if not _decided(lps, k, contraction):
                overlap |= {k - 1, k}
        for k in range(len(searches)):  # a grade separated from both neighbours is final
            if k not in overlap:
                searches[k] = None
        if not overlap:
            break
        for k in sorted(overlap):
            # a final grade stays final: only a contradictory (unbounded) neighbour can overlap it
            # again, and that pair is then inconclusive, which refining this grade cannot change
            if searches[k] is not None:
                lps[k] = norms(k, rtol)
    return lps


def _monotone_piece(target, p, k: int, max_boxes: int) -> MonotoneSearch:
    prev, cur = Residual(target, p.S[k - 1], p.T[k - 1]), Residual(target, p.S[k], p.T[k])
    return prove_monotone(prev, cur, p.a, p.b, max_boxes)


def _separated(a: Enclosure, b: Enclosure) -> bool:
    return a.upper < b.lower or a.lower > b.upper


@dataclass(frozen=True)
class BoxBudget:
    """The input-splitting searches' tolerances and box budgets in one dimension (from CheckSettings)."""

    sup_rtol: float
    sup_boxes: int
    c1_boxes: int
    lp_boxes: int  # per grade


def box_budget(s, d: int) -> BoxBudget:
    if d == 2:
        return BoxBudget(s.sup_rtol_2d, s.sup_boxes_2d, s.c1_boxes_2d, s.lp_boxes_2d)
    if d == 3:
        return BoxBudget(s.sup_rtol_3d, s.sup_boxes_3d, s.c1_boxes_3d, s.lp_boxes_3d)
    raise ValueError(f"input splitting is rigorous in 2-D and 3-D only, not {d}-D")


def lp_norms_boxes(scheme, target, s, contraction: set[int] = frozenset()) -> tuple[list[dict], tuple[int, ...]]:
    """Rigorous ``||e_k||_p`` enclosures on boxes, refined (doubling budgets) until consecutive grades separate
    (or, for the grades in ``contraction``, C3 is decided by contraction: :func:`contracted`).

    Returns ``(norms, unresolved)``: ``norms[k][p]`` an Enclosure of ``||e_k||_p`` and the grades
    whose enclosures still overlap their predecessor's for some p and are not so decided.
    """
    limit = box_budget(s, scheme.dimension).lp_boxes
    encs = [LpEnclosureND(scheme.layers, target, scheme.domain, k, s.ps) for k in range(scheme.n_grades + 1)]

    def overlapping():
        lps = [{p: enc.enclosure(p) for p in s.ps} for enc in encs]
        return tuple(k for k in range(1, len(encs)) if not _decided(lps, k, contraction))

    budget = min(4096, limit)
    for enc in encs:
        enc.refine(budget, s.lp_rtol)
    while (unresolved := overlapping()) and budget < limit:
        budget = min(2 * budget, limit)
        for j in sorted({j for k in unresolved for j in (k - 1, k)}):
            encs[j].refine(budget, s.lp_rtol)
    return [{p: enc.enclosure(p).root(p) for p in s.ps} for enc in encs], unresolved


def rigorous_boxes(scheme, target, s) -> Bounds:
    """2-D and 3-D: every search by input splitting, within the dimension's box budgets."""
    d, budget = scheme.dimension, box_budget(s, scheme.dimension)
    zero = _zero_grades(scheme)
    monotone = [None] + [
        prove_monotone_nd(scheme.layers, target, scheme.domain, k, budget.c1_boxes)
        for k in range(1, scheme.n_grades + 1)
    ]
    norms, unresolved = lp_norms_boxes(scheme, target, s, contracted(monotone))
    out = []
    for k in range(scheme.n_grades + 1):
        sup = sup_abs_nd(scheme.layers, target, scheme.domain, k, rtol=budget.sup_rtol, max_boxes=budget.sup_boxes)
        out.append(GradeBounds(k, sup, norms[k], monotone[k], zero[k - 1] if k else None))
    method = f"input splitting + ball arithmetic ({d}-D)"
    details = {"boxes": {"sup": [g.sup.boxes for g in out], "c1": [g.monotone.boxes for g in out[1:]]}}
    return Bounds(RIGOROUS, method, tuple(out), lp_unresolved=unresolved, details=details)


# --------------------------------------------------------------------------- heuristic grids
def _grid(domain: np.ndarray, points: int) -> np.ndarray:
    d = len(domain)
    per_axis = max(2, int(round(points ** (1 / d))))
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in domain]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)


def _grid_errors(scheme, target, points: int) -> tuple[np.ndarray, list[np.ndarray]]:
    X = _grid(scheme.domain, points)
    f = target(X)
    with np.errstate(all="ignore"):
        return X, [f - g for g in staged_outputs(scheme.layers, X)]


def _lp_estimates(scheme, errs, ps) -> list[dict]:
    vol = float(np.prod(np.diff(scheme.domain, axis=1)))
    with np.errstate(all="ignore"):
        return [{p: (vol * float(np.mean(np.abs(e) ** p))) ** (1 / p) for p in ps} for e in errs]


def _grid_lp(scheme, coarse, fine, ps) -> list[dict]:
    norms = []
    for lc, lf in zip(_lp_estimates(scheme, coarse, ps), _lp_estimates(scheme, fine, ps)):
        row = {}
        for p in ps:
            err = abs(lf[p] - lc[p])
            note = "grid quadrature estimate (error = coarse/fine difference), not certified"
            row[p] = Enclosure.of(max(lf[p] - err, 0.0), lf[p] + err, note)
        norms.append(row)
    return norms


def grid_lp_norms(scheme, target, s) -> list[dict]:
    """``||e_k||_p`` by grid quadrature on two grids: the fine value +- the coarse/fine difference (heuristic)."""
    _, coarse = _grid_errors(scheme, target, s.grid_points // 4)
    _, fine = _grid_errors(scheme, target, s.grid_points)
    return _grid_lp(scheme, coarse, fine, s.ps)


def grids(scheme, target, s) -> Bounds:
    Xc, coarse = _grid_errors(scheme, target, s.grid_points // 4)
    Xf, fine = _grid_errors(scheme, target, s.grid_points)
    norms = _grid_lp(scheme, coarse, fine, s.ps)
    zero = _zero_grades(scheme)
    out = []
    for k, (ec, ef) in enumerate(zip(coarse, fine)):
        sc, sf = float(np.max(np.abs(ec))), float(np.max(np.abs(ef)))
        point = Xf[int(np.argmax(np.abs(ef)))].tolist()
        grid = GridGrade(sc, sf, point)
        if k:
            xc, xf = np.abs(ec) - np.abs(coarse[k - 1]), np.abs(ef) - np.abs(fine[k - 1])
            ic, jf = int(np.argmax(xc)), int(np.argmax(xf))
            where = Xf[jf] if xf[jf] >= xc[ic] else Xc[ic]
            grid = GridGrade(sc, sf, point, float(xc[ic]), float(xf[jf]), where.tolist())
        low = max(sc, sf)
        why = "grid maximum: an estimate from below, no upper bound"
        sup = SupSearch(Enclosure.unbounded(why, low if math.isfinite(low) else -math.inf), tuple(point), 0, False)
        out.append(GradeBounds(k, sup, norms[k], None, zero[k - 1] if k else None, grid))
    return Bounds(HEURISTIC, "grids (heuristic)", tuple(out), details={"grid_points": [len(Xc), len(Xf)]})
