"""Verdicts C1, C1_train, C2 and C3 from the drivers' bounds and the recomputed training facts.

Each verdict reads only :class:`~proofs_check.drivers.GradeBounds` (and, for C1_train, the
:class:`~proofs_check.training.TrainingFacts` recomputed from the weights and samples), never a
record of the fit.  An enclosure that is unbounded never supports a pass; its reason goes into
the summary.
"""

from __future__ import annotations

import math

import numpy as np

from .claims import FAIL, HEURISTIC, INCONCLUSIVE, PASS, RIGOROUS, ClaimResult, not_run, worst_outcome
from .training import TRAIN_TOL

__all__ = ["c1_verdict", "c1_train_verdict", "c2_verdict", "c3_verdict", "TRAIN_TOL"]


def _fmt_point(p) -> str:
    return ", ".join(f"{v:.6g}" for v in p)


def c1_verdict(bounds) -> ClaimResult:
    """C1 from the rigorous searches (counterexample: fail; unresolved box: inconclusive) or from grids."""
    if len(bounds.grades) == 1:
        return not_run("C1", "the scheme has no grades")
    if bounds.trust == HEURISTIC:
        return _c1_grids(bounds.grades)
    grades = bounds.grades[1:]
    rows = [g.monotone.to_dict() for g in grades]
    outcomes = [{"counterexample": FAIL, "unresolved": INCONCLUSIVE, "proved": PASS}[r["status"]] for r in rows]
    outcome = worst_outcome(outcomes)
    worst_point = None
    if outcome == FAIL:
        failing = [g.monotone for g in grades if g.monotone.counterexamples]
        search = max(failing, key=lambda m: m.worst.excess)
        worst = search.worst
        worst_point = list(worst.point)
        line = (
            f"|e_k| > |e_(k-1)| proved at {len(failing)} grade(s); worst at grade {search.grade}, "
            f"x = {_fmt_point(worst.point)} (excess >= {worst.excess:.3g}). Use monotone=True to enforce it "
            "on the samples, and finer samples between them."
        )
    elif outcome == PASS:
        line = "proved on all of Omega at every grade (ball arithmetic)"
    else:
        bad = [r["grade"] for r in rows if r["status"] == "unresolved"]
        line = f"neither proved nor refuted on some boxes at grade(s) {bad}: raise the box budget (c1_boxes)"
    return ClaimResult("C1", outcome, RIGOROUS, line, rows, None, worst_point)


def _c1_grids(grades) -> ClaimResult:
    """Heuristic C1: a violation on either grid (float64) refutes; none is evidence only."""
    scale = max(grades[0].grid.sup_coarse, 1e-300)
    tol = 1e-12 * scale
    rows, fails, broken = [], [], []
    for g in grades[1:]:
        ec, ef = g.grid.excess_coarse, g.grid.excess_fine
        rows.append({"grade": g.grade, "max_excess_coarse": ec, "max_excess_fine": ef})
        if not (math.isfinite(ec) and math.isfinite(ef)):
            broken.append(g.grade)
        elif max(ec, ef) > tol:
            fails.append((max(ec, ef), g.grade, g.grid.excess_point))
    if fails:
        ex, k, pt = max(fails, key=lambda t: t[0])
        line = f"|e_k| > |e_(k-1)| at grid points (worst grade {k}, excess {ex:.3g}); float64 evaluation"
        return ClaimResult("C1", FAIL, HEURISTIC, line, rows, tol, pt)
    if broken:
        line = f"the network or the target is not finite on the grid at grade(s) {broken}"
        return ClaimResult("C1", INCONCLUSIVE, HEURISTIC, line, rows, tol)
    line = "no violation on two grids: evidence, not proof (grids miss narrow violations)"
    return ClaimResult("C1", PASS, HEURISTIC, line, rows, tol)


def c1_train_verdict(facts, n_grades: int, why_no_samples: str = "") -> ClaimResult:
    """C1 at the training points, recomputed from the weights at the regenerated samples.

    The tolerance is ``TRAIN_TOL max |e_(k-1)|`` over grade k's samples: relative to the residual
    the grade was fit to, whatever the target's scale (0 when that residual is exactly 0: then
    only a proved non-positive excess passes).
    """
    if n_grades == 0:
        return not_run("C1_train", "the scheme has no grades")
    if facts is None:
        unknown = "the grades' samples cannot be regenerated (a data set, or random samples without a seed)"
        return not_run("C1_train", why_no_samples or unknown)
    rows, outcomes = [], []
    for f in facts:
        tol = TRAIN_TOL * f.max_abs_before
        if f.excess.lower > tol:
            v = FAIL
        elif f.excess.upper <= tol:
            v = PASS
        else:
            v = INCONCLUSIVE
        outcomes.append(v)
        rows.append({**f.to_dict(), "tolerance": tol, "verdict": v})
    outcome = worst_outcome(outcomes)
    if outcome == FAIL:
        bad = [r for r in rows if r["verdict"] == FAIL]
        w = max(bad, key=lambda r: r["excess"]["lower"])
        line = (
            f"|e_k| > |e_(k-1)| at training points of grade(s) {[r['grade'] for r in bad]} (worst excess >= "
            f"{w['excess']['lower']:.3g} at grade {w['grade']}, x = {_fmt_point(w['worst_point'])}); "
            "fit with monotone=True to enforce it"
        )
    elif outcome == PASS:
        line = "holds at every training point (recomputed from the weights, certified evaluation)"
    else:
        line = "some training-point excesses are within rounding of the tolerance, or could not be bounded"
    return ClaimResult("C1_train", outcome, RIGOROUS, line, rows, TRAIN_TOL)


def _c2_rows(bounds, records, domain) -> list[dict]:
    rows = []
    for k, g in enumerate(bounds.grades):
        e = g.sup.enclosure
        row = {"grade": k, **e.to_dict(), "point": list(g.sup.point) if g.sup.point else None}
        row["converged"] = g.sup.converged
        if g.grid is not None:
            row.update(grid_coarse=g.grid.sup_coarse, grid_fine=g.grid.sup_fine)
        if k:
            prev = bounds.grades[k - 1].sup.enclosure
            if e.bounded and prev.bounded:
                row["ratio_lower"] = e.lower / prev.upper if prev.upper > 0 else None
                row["ratio_upper"] = e.upper / prev.lower if prev.lower > 0 else None
            if records is not None:
                rec = records[k - 1]
                n_prev = records[k - 2].n_samples if k > 1 else None
                if n_prev and rec.n_samples != n_prev and e.bounded and prev.bounded and prev.lower > 0 and e.lower > 0:
                    rate = math.log(rec.n_samples / n_prev)
                    row["eoc_lower"] = math.log(prev.lower / e.upper) / rate
                    row["eoc_upper"] = math.log(prev.upper / e.lower) / rate
                row["floor_beta"] = rec.beta
                per_axis = max(round(rec.n_samples ** (1 / len(domain))), 2)  # grid samples
                row["floor_spacing"] = float(np.min(np.diff(domain, axis=1))) / (per_axis - 1)
        rows.append(row)
    return rows


def c2_verdict(bounds, target, records, domain, s) -> ClaimResult:
    """C2 as eps-attainment: ``sup |e_K| <= eps`` certified (rigorous) or on two grids (heuristic)."""
    rows = _c2_rows(bounds, records, domain)
    f_sup, final = bounds.grades[0], bounds.grades[-1]
    eps = s.eps if s.eps is not None else s.eps_rel * max(f_sup.sup.enclosure.lower, 0.0)  # a lower bound of sup|f|
    heuristic = bounds.trust == HEURISTIC
    if heuristic:
        ratios = [r["grid_fine"] / p["grid_fine"] if p["grid_fine"] > 0 else 0.0 for p, r in zip(rows, rows[1:])]
    else:
        ratios = [r.get("ratio_lower") or 0.0 for r in rows[1:]]
    plateau = [k for k, ratio in enumerate(ratios, start=1) if ratio >= s.plateau_ratio]
    details = {"eps": eps, "plateau_grades": plateau, "float_floor": 2.2e-16 * max(f_sup.sup.enclosure.lower, 0.0)}
    e = final.sup.enclosure
    if heuristic:
        measured = f"grid maximum of |e_K| {final.grid.sup_fine:.3g} (fine), {final.grid.sup_coarse:.3g} (coarse)"
    elif e.bounded:
        measured = f"sup |e_K| in [{e.lower:.3g}, {e.upper:.3g}]"
    else:
        measured = f"sup |e_K| >= {e.lower:.3g}, no upper bound ({e.reason})"
    point = list(final.sup.point) if final.sup.point else None
    continuous = getattr(target, "continuous", None)
    if continuous is False:
        line = (
            "hypothesis violated: the target is declared discontinuous, so no continuous network converges to it "
            f"uniformly ({measured})"
        )
        return ClaimResult("C2", FAIL, bounds.trust, line, rows, eps, point, details)
    if continuous is None:
        line = (
            f"the target's continuity is unknown (continuous=None): nothing is claimed ({measured}); declare "
            "continuous=True on a Target to allow a verdict"
        )
        return ClaimResult("C2", INCONCLUSIVE, bounds.trust, line, rows, eps, point, details)
    if heuristic:
        coarse_ok, fine_ok = final.grid.sup_coarse <= eps, final.grid.sup_fine <= eps
        if coarse_ok != fine_ok:
            outcome, line = INCONCLUSIVE, f"the grid verdict changes when the grid is refined: unresolved ({measured})"
        elif fine_ok:
            outcome, line = PASS, f"{measured} <= eps = {eps:.3g} on both grids: evidence, not a bound"
        else:
            outcome, line = INCONCLUSIVE, f"eps-attainment not shown: {measured} vs eps {eps:.3g}"
    elif e.bounded and e.upper <= eps:
        outcome = PASS
        line = f"sup |e_K| <= {e.upper:.3g} <= eps = {eps:.3g} (certified); convergence itself is not decidable"
    else:
        outcome, line = INCONCLUSIVE, f"eps-attainment not shown: {measured} vs eps {eps:.3g}"
    if outcome == INCONCLUSIVE and plateau:
        line += (
            f"; plateau at grade(s) {plateau}: lower beta_ratio or refine the samples (with a fixed sample the "
            "scheme stalls once kappa(e) <= beta)"
        )
    return ClaimResult("C2", outcome, bounds.trust, line, rows, eps, point, details)


def _put_norms(row: dict, norms: dict, ps) -> None:
    """``p{p}: [lower, upper]`` per p (None for an infinite end) and ``p{p}_reason`` where there is one."""
    for p in ps:
        e = norms[p].to_dict()
        row[f"p{p}"] = [e["lower"], e["upper"]]
        if not norms[p].bounded:
            row[f"p{p}_reason"] = e["reason"]


def c3_verdict(norms, zero, s, trust: str, kappa=None, note: str = "", contraction=None) -> ClaimResult:
    """C3 from ``norms[k][p]`` (Enclosures of ``||e_k||_p``); ``zero[k-1]``: g_k proved identically 0.

    A grade is trivial only when its output is proved identically zero; every other grade must
    decrease every L^p norm strictly.  ``kappa`` (optional, per grade) is shown beside each row.

    ``contraction[k-1]`` (rigorous bounds only): ``(box, margin)``, a box on which ``|e_k| < |e_(k-1)|``
    is proved at every point and a certified lower bound of ``e_(k-1)^2 - e_k^2`` there, given only
    when C1 is proved for grade k on all of Omega (``|e_k| <= |e_(k-1)|`` everywhere), else None.
    Then ``|e_(k-1)|^p - |e_k|^p`` is >= 0 everywhere and > 0 on the box, a set of positive measure,
    so ``||e_k||_p < ||e_(k-1)||_p`` for every p whose ``||e_(k-1)||_p`` is finite (its enclosure
    bounded): a pass where the two enclosures still overlap.  The enclosures keep the last word
    where they are separated either way.
    """
    if len(norms) == 1:
        return not_run("C3", "the scheme has no grades")
    rows = [{"grade": 0, "nontrivial": None, **{f"p{p}_verdict": "-" for p in s.ps}}]
    _put_norms(rows[0], norms[0], s.ps)
    outcomes, unbounded, contracted = [], [], []
    for k in range(1, len(norms)):
        nontrivial = not zero[k - 1]
        strict = None if contraction is None or trust != RIGOROUS else contraction[k - 1]
        row = {"grade": k, "nontrivial": nontrivial}
        if kappa is not None and kappa[k - 1] is not None:
            row["kappa_before"] = kappa[k - 1]
        for p in s.ps:
            cur, prev = norms[k][p], norms[k - 1][p]
            if cur.upper < prev.lower:
                verdict = PASS
            elif cur.lower >= prev.upper:
                verdict = FAIL
            elif strict is not None and prev.bounded:
                verdict = PASS
                row["strict_box"], row["strict_margin"] = [list(b) for b in strict[0]], strict[1]
                if nontrivial and k not in contracted:
                    contracted.append(k)
            else:
                verdict = INCONCLUSIVE
                if not (cur.bounded and prev.bounded):
                    unbounded.append(k)
            row[f"p{p}_verdict"] = verdict if nontrivial else "-"
            if nontrivial:
                outcomes.append(verdict)
        _put_norms(row, norms[k], s.ps)
        rows.append(row)
    outcome = worst_outcome(outcomes) if outcomes else PASS
    if outcome == PASS:
        how = "proved (separated enclosures)" if trust == RIGOROUS else "on grid estimates (separated by their error)"
        line = f"||e_k||_p < ||e_(k-1)||_p {how} for p in {list(s.ps)} at every non-trivial grade"
        if contracted:
            line = (
                f"||e_k||_p < ||e_(k-1)||_p proved for p in {list(s.ps)} at every non-trivial grade: by separated "
                f"enclosures, and at grade(s) {contracted} (enclosures overlapping) by contraction: C1 proved "
                "|e_k| <= |e_(k-1)| on all of Omega and |e_k| < |e_(k-1)| on a box (rows: strict_box)"
            )
        if not outcomes:
            line = "every grade's output is identically zero: nothing to decrease"
    elif outcome == FAIL:
        bad = [r["grade"] for r in rows if any(r.get(f"p{p}_verdict") == FAIL for p in s.ps)]
        line = f"the L^p norm did not decrease at grade(s) {bad}: those grades make the approximation worse on Omega"
    elif unbounded:
        reasons = {norms[k][p].reason for k in unbounded for p in s.ps if norms[k][p].reason}
        line = f"some L^p enclosures are unbounded at grade(s) {sorted(set(unbounded))}: {'; '.join(sorted(reasons))}"
    else:
        line = "some enclosures overlap: tighten lp_rtol (or the decrease is too small to separate)"
    return ClaimResult("C3", outcome, trust, note + line, rows, s.lp_rtol)
