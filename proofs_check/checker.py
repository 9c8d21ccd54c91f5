"""Check C1-C4 on a trained scheme: rigorous in 1-D and 2-D, grids (heuristic) elsewhere.

The scheme is read through a small protocol (:class:`Scheme`): per-grade
``hidden`` / ``readout`` weights, the domain, and the per-grade records the fit
wrote (beta, kappa, status, certificate, ...).  ``mgdl_convex`` internals are
not used.  :func:`check_scheme` returns a :class:`~proofs_check.report.Report`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from flint import arb

from .bounds1d import Residual, lower_float, lp_integrals, prove_monotone, sup_abs, upper_float
from .bounds2d import LpEnclosure2D, prove_monotone_2d, sup_abs_2d
from .claims import FAIL, HEURISTIC, INCONCLUSIVE, PASS, RIGOROUS, SOLVER, ClaimResult, worst_outcome
from .kappa2d import MAX_POINTS_2D
from .optimality import first_grade_certificate, refute_optimality
from .pieces import exact_pieces
from .report import Report
from .sollya import sollya_binary, sollya_supnorms

__all__ = ["Scheme", "CheckSettings", "scheme_from_model", "check_scheme", "staged_outputs", "grade_input"]


@dataclass(frozen=True)
class Scheme:
    """What proofs_check reads of a trained scheme."""

    layers: list
    domain: np.ndarray
    grades: list[dict]
    grade_data: list | None = None  # per grade, the (X, f(X)) it was fit on: for C4's certificate / refutation
    monotone: bool = False


@dataclass(frozen=True)
class CheckSettings:
    ps: tuple = (1, 2, 4)
    eps: float | None = None  # eps-attainment level; default 1e-2 sup|f|
    sup_rtol: float = 1e-6
    lp_rtol: float = 1e-3
    c1_boxes: int = 2000
    sup_rtol_2d: float = 1e-4
    c1_boxes_2d: int = 200_000
    sup_boxes_2d: int = 200_000
    lp_boxes_2d: int = 100_000  # per grade: 2-D L^p enclosures are refined until neighbours separate
    grid_points: int = 200_000
    optimality_rtol: float = 1e-6  # 100 x Clarabel's default relative gap tolerance
    refutation_starts: int = 600  # gate searches per grade where kappa can only be bounded below
    sollya: str = "auto"  # "auto": cross-check 1-D sup norms with Sollya when installed; "off"
    plateau_ratio: float = 0.95


def scheme_from_model(model, target=None, sampling: str = "grid") -> Scheme:
    """The protocol of a fitted MultigradeRegressor.

    For a model fit with ``fit_target`` every grade's samples are regenerated (grid, or random
    with a seed) so that its optimality can be certified (first grade, 1-D or 2-D) or refuted
    (wider inputs) independently of the solver.  ``sampling`` matters only for model files that
    do not record how they were sampled.
    """
    grades = model.summary()
    target = target if target is not None else getattr(model, "target_", None)
    data = None
    if target is not None and grades:
        samples = model.training_samples(target, sampling)
        data = None if samples is None else [(X, target(X)) for X in samples]
    return Scheme(list(model.layers_), np.asarray(model.domain_), grades, data, bool(model.monotone))


def grade_input(scheme: Scheme, X: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Input ``[z_(k-1), 1]`` of grade k+1 (0-based k) on X and the residual there, as the fit formed them."""
    Zb, e = np.column_stack([X, np.ones(len(X))]), np.array(y, dtype=float)
    for layer in scheme.layers[:k]:
        Z = np.maximum(Zb @ layer.hidden, 0.0)
        e -= Z @ layer.readout
        Zb = np.column_stack([Z, np.ones(len(Z))])
    return Zb, e


def staged_outputs(scheme: Scheme, X: np.ndarray) -> list[np.ndarray]:
    """The approximant after grades 0..K on X (float64 forward pass of the protocol)."""
    Z, total, out = np.asarray(X, float), np.zeros(len(X)), [np.zeros(len(X))]
    for layer in scheme.layers:
        Z = np.maximum(np.column_stack([Z, np.ones(len(Z))]) @ layer.hidden, 0.0)
        total = total + Z @ layer.readout
        out.append(total)
    return out


def _pth_root(lo, hi, p) -> tuple[float, float]:
    """Floats enclosing ``[lo, hi]^(1/p)`` for an enclosure ``[lo, hi]`` of ``int |e|^p`` (arb or float)."""
    root = arb(1) / p
    lo = max(lower_float(arb(lo)), 0.0)
    return lower_float(arb(lo) ** root) if lo > 0 else 0.0, upper_float(arb(upper_float(arb(hi))) ** root)


# --------------------------------------------------------------------------- 1-D rigorous
def _rigorous_1d(scheme, target, s: CheckSettings):
    lo, hi = scheme.domain[0]
    pieces = exact_pieces(scheme.layers, lo, hi)
    K = len(scheme.layers)
    sups, lps, c1 = [], [], []
    for k in range(K + 1):
        res = [(p.a, p.b, Residual(target, p.S[k], p.T[k])) for p in pieces]
        L, U, worst, conv = sup_abs(res, rtol=s.sup_rtol)
        sups.append({"grade": k, "lower": lower_float(L), "upper": upper_float(U), "point": float(worst), "ok": conv})
        integrals, conv_p = lp_integrals(res, s.ps, rtol=s.lp_rtol)
        lps.append({p: (*_pth_root(*integrals[p], p), conv_p) for p in s.ps})
    for k in range(1, K + 1):
        counts = {"proved": 0, "counterexample": 0, "unresolved": 0}
        worst = (0.0, None)
        for p in pieces:
            status, point, excess = prove_monotone(
                Residual(target, p.S[k - 1], p.T[k - 1]), Residual(target, p.S[k], p.T[k]), p.a, p.b, s.c1_boxes
            )
            counts[status] += 1
            if status == "counterexample" and excess > worst[0]:
                worst = (excess, float(point))
        c1.append({"grade": k, **counts, "worst_excess": worst[0], "worst_point": worst[1]})
    return pieces, sups, lps, c1


def _c1_rigorous(c1) -> ClaimResult:
    outcomes = []
    for g in c1:
        if g["counterexample"]:
            outcomes.append(FAIL)
        elif g["unresolved"]:
            outcomes.append(INCONCLUSIVE)
        else:
            outcomes.append(PASS)
    outcome = worst_outcome(outcomes)
    fails = [g for g in c1 if g["counterexample"]]
    if outcome == FAIL:
        g = max(fails, key=lambda g: g["worst_excess"])
        line = (
            f"|e_k| > |e_(k-1)| proved at {len(fails)} grade(s); worst at grade {g['grade']}, "
            f"x = {_point(g['worst_point'])} (excess {g['worst_excess']:.3g}). Use monotone=True to enforce it on "
            "the samples, and finer samples between them."
        )
        worst_point = g["worst_point"] if isinstance(g["worst_point"], list) else [g["worst_point"]]
    elif outcome == PASS:
        line, worst_point = "proved on all of Omega at every grade (ball arithmetic)", None
    else:
        line, worst_point = "neither proved nor refuted on some boxes: raise c1_boxes", None
    return ClaimResult("C1 pointwise non-increase", outcome, RIGOROUS, line, c1, None, worst_point)


def _point(p) -> str:
    return ", ".join(f"{v:.6g}" for v in p) if isinstance(p, list) else f"{p:.6g}"


def _c2(sups, target, scheme, s: CheckSettings, trust: str, grid_changed: bool = False) -> ClaimResult:
    eps = s.eps if s.eps is not None else 1e-2 * sups[0]["upper"]
    per_grade = []
    for k, g in enumerate(sups):
        row = dict(g)
        if k:
            prev = sups[k - 1]
            row["ratio_lower"] = g["lower"] / prev["upper"] if prev["upper"] > 0 else math.nan
            row["ratio_upper"] = g["upper"] / prev["lower"] if prev["lower"] > 0 else math.inf
            rec = scheme.grades[k - 1]
            n_prev = scheme.grades[k - 2]["n_samples"] if k > 1 else None
            if n_prev and rec["n_samples"] != n_prev and prev["lower"] > 0 and g["lower"] > 0:
                rate = math.log(rec["n_samples"] / n_prev)
                row["eoc_lower"] = math.log(prev["lower"] / g["upper"]) / rate
                row["eoc_upper"] = math.log(prev["upper"] / g["lower"]) / rate
            row["floor_beta"] = rec["beta"]
            per_axis = max(round(rec["n_samples"] ** (1 / len(scheme.domain))), 2)  # grid samples
            row["floor_spacing"] = float(np.min(np.diff(scheme.domain, axis=1))) / (per_axis - 1)
        per_grade.append(row)
    plateau = [r["grade"] for r in per_grade[1:] if r.get("ratio_lower", 0) >= s.plateau_ratio]
    final = sups[-1]
    details = {"eps": eps, "plateau_grades": plateau, "float_floor": 2.2e-16 * sups[0]["upper"]}
    if not target.continuous:
        return ClaimResult(
            "C2 uniform convergence",
            FAIL,
            trust,
            "hypothesis violated: the target is discontinuous, so no continuous network converges to it uniformly "
            f"(sup |e_K| = {final['upper']:.3g})",
            per_grade,
            eps,
            None,
            details,
        )
    if grid_changed:
        outcome, line = INCONCLUSIVE, "the grid verdict changes when the grid is refined: unresolved"
    elif final["upper"] <= eps and final.get("ok", True):
        outcome = PASS
        line = f"sup |e_K| <= {final['upper']:.3g} <= eps = {eps:.3g} ({trust}); convergence itself is not decidable"
    else:
        outcome = INCONCLUSIVE
        line = f"eps-attainment not shown: sup |e_K| in [{final['lower']:.3g}, {final['upper']:.3g}] vs eps {eps:.3g}"
        if plateau:
            line += f"; plateau at grade(s) {plateau}: lower beta_ratio or refine the samples (THEORY 4, Stall)"
    return ClaimResult("C2 uniform convergence", outcome, trust, line, per_grade, eps, [final.get("point")], details)


def _sollya_cross_check(c2: ClaimResult, pieces, sups, target, s: CheckSettings) -> ClaimResult:
    """Compare the certified sup enclosures with Sollya's (module ``sollya``); disagreement blocks a pass."""
    expression = getattr(target, "sollya", None)
    if s.sollya == "off":
        return c2
    reason = None
    if sollya_binary() is None:
        reason = "sollya is not installed (Debian package sollya)"
    elif expression is None:
        reason = f"target {target.name!r} has no Sollya expression"
    if reason is None:
        try:
            enclosures = sollya_supnorms(pieces, len(sups) - 1, expression)
        except RuntimeError as e:
            reason = str(e)
    if reason is not None:
        return replace(c2, details={**c2.details, "sollya": {"ran": False, "reason": reason}})
    rows, disagree = [], []
    for k, (ours, theirs) in enumerate(zip(sups, enclosures)):
        row = {"grade": k, "sollya_lower": None, "sollya_upper": None, "agrees": None}
        if theirs is not None:
            row.update(sollya_lower=theirs[0], sollya_upper=theirs[1])
            row["agrees"] = theirs[0] <= ours["upper"] and ours["lower"] <= theirs[1]
            if not row["agrees"]:
                disagree.append(k)
        rows.append(row)
    details = {**c2.details, "sollya": {"ran": True, "per_grade": rows}}
    if disagree:
        line = (
            f"Sollya's supnorm does not meet our certified enclosure at grade(s) {disagree}: one of the two is "
            f"wrong, so nothing is claimed (please report it). {c2.summary}"
        )
        return replace(c2, outcome=INCONCLUSIVE, summary=line, details=details)
    checked = sum(r["agrees"] is True for r in rows)
    return replace(c2, summary=f"{c2.summary}; Sollya's supnorm agrees ({checked}/{len(rows)} grades)", details=details)


def _c3(norms, scheme, s: CheckSettings, trust: str) -> ClaimResult:
    """norms[k][p] = (lower, upper, converged) of ||e_k||_p."""
    per_grade = [{"grade": 0, "nontrivial": None, **{f"p{p}": list(norms[0][p][:2]) for p in s.ps}}]
    per_grade[0].update({f"p{p}_verdict": "-" for p in s.ps})
    outcomes = []
    for k in range(1, len(norms)):
        rec = scheme.grades[k - 1]
        nontrivial = rec["kappa_before"] > rec["beta"]
        row = {"grade": k, "nontrivial": nontrivial}
        for p in s.ps:
            lo_k, hi_k, _ = norms[k][p]
            lo_prev, hi_prev, _ = norms[k - 1][p]
            row[f"p{p}"] = [lo_k, hi_k]
            if hi_k < lo_prev:
                verdict = PASS
            elif lo_k >= hi_prev:
                verdict = FAIL
            else:
                verdict = INCONCLUSIVE
            row[f"p{p}_verdict"] = verdict
            if nontrivial:
                outcomes.append(verdict)
        per_grade.append(row)
    outcome = worst_outcome(outcomes)
    if outcome == PASS:
        how = "proved (separated enclosures)" if trust == RIGOROUS else "on grid estimates (separated by their error)"
        line = f"||e_k||_p < ||e_(k-1)||_p {how} for p in {list(s.ps)} at every grade"
    elif outcome == FAIL:
        bad = [r["grade"] for r in per_grade if any(r[f"p{p}_verdict"] == FAIL for p in s.ps)]
        line = f"the L^p norm did not decrease at grade(s) {bad}: those grades make the approximation worse on Omega"
    else:
        line = "some enclosures overlap: tighten lp_rtol (or the decrease is too small to separate)"
    return ClaimResult("C3 strict L^p decay", outcome, trust, line, per_grade, s.lp_rtol)


def _optimality_evidence(scheme, s: CheckSettings) -> tuple[list, str]:
    """Per grade, the solver-independent evidence: a certificate, a refutation search, or None."""
    K = len(scheme.grades)
    if scheme.monotone:
        return [None] * K, "monotone grades: their extra constraints make kappa <= beta no optimality test"
    if scheme.grade_data is None:
        return (
            [None] * K,
            "the grades' samples cannot be regenerated (a data set, or random samples without a seed): "
            "only the recorded certificates",
        )
    rng = np.random.default_rng(0)
    evidence = []
    for k, ((X, y), layer, g) in enumerate(zip(scheme.grade_data, scheme.layers, scheme.grades)):
        Zb, e = grade_input(scheme, X, y, k)
        if k == 0 and Zb.shape[1] - 1 in (1, 2) and len(np.unique(X, axis=0)) <= MAX_POINTS_2D:
            cert = first_grade_certificate(layer.hidden, layer.readout, X, e, g["beta"])
            evidence.append({"kind": "certificate", **cert})
        else:
            ref = refute_optimality(
                Zb, e, layer.hidden, layer.readout, g["beta"], s.optimality_rtol, rng, s.refutation_starts
            )
            ref.pop("best_gate")
            ref.pop("improving_gate")
            evidence.append({"kind": "refutation", **ref})
    return evidence, ""


def _c4(scheme, s: CheckSettings) -> ClaimResult:
    """Each grade the optimum of its grade problem: recorded status and gap, then independent evidence.

    Verdict per grade: ``fail`` when the solver failed, when the exact certificate's gap exceeds
    the tolerance, or when a sampled gate proves the objective can drop by more than the
    tolerance; ``inconclusive`` for width-capped grades and inaccurate solves; ``pass`` otherwise,
    rigorous only where the exact certificate covers every pattern.
    """
    evidence, why_none = _optimality_evidence(scheme, s)
    per_grade, outcomes = [], []
    for g, ev in zip(scheme.grades, evidence):
        keys = ("grade", "status", "relative_gap", "gap", "recovery_gap", "capped", "certificate_scope")
        row = {k: g[k] for k in keys}
        row.update(trust=SOLVER, independent="none", kappa_over_beta=None, suboptimality_lower=None)
        refuted = False
        if ev is not None and ev["kind"] == "certificate":
            row.update(trust=RIGOROUS, relative_gap=ev["relative_gap_upper"], gap=ev["gap_upper"])
            row["certificate_scope"] = f"all patterns ({ev['dimension']}-D, exact): independent certificate"
            ratio = ev["kappa_upper"] / ev["beta"] if ev["beta"] > 0 else math.inf
            row.update(independent="exact certificate", kappa_over_beta=ratio)
        elif ev is not None:
            refuted = ev["refuted"]
            row["independent"] = "gate search: " + ("refuted" if refuted else "not refuted")
            row.update(kappa_over_beta=ev["kappa_over_beta"], suboptimality_lower=ev["relative_suboptimality_lower"])
        if g["status"] not in ("optimal", "optimal_inaccurate"):
            v = FAIL
        elif g["capped"] or g["status"] == "optimal_inaccurate":
            v = INCONCLUSIVE
        elif refuted:
            v, row["trust"] = FAIL, RIGOROUS
        elif row["relative_gap"] <= s.optimality_rtol and g["recovery_gap"] <= 1e-6 * max(1.0, g["max_abs_before"]):
            v = PASS
        else:
            v = FAIL
        row["verdict"] = v
        outcomes.append(v)
        per_grade.append(row)
    outcome = worst_outcome(outcomes)
    deciding = [r for r in per_grade if r["verdict"] == outcome]
    trust = RIGOROUS if deciding and all(r["trust"] == RIGOROUS for r in deciding) else SOLVER
    capped = [g["grade"] for g in scheme.grades if g["capped"]]
    refuted = [r["grade"] for r in per_grade if r["independent"].endswith(": refuted") and not r["capped"]]
    if outcome == PASS:
        line = f"every grade optimal: certified relative gap <= {s.optimality_rtol:g}"
        if trust != RIGOROUS:
            line += " (sampled-pattern grades: over their patterns; a gate search found nothing better)"
    elif outcome == FAIL:
        parts = []
        solver_failed = [r["grade"] for r in per_grade if r["status"] not in ("optimal", "optimal_inaccurate")]
        gap = [g for g, r in zip(scheme.grades, per_grade) if r["verdict"] == FAIL and r["grade"] not in refuted]
        gap = [g for g in gap if g["grade"] not in solver_failed]
        if solver_failed:
            parts.append(f"grade(s) {solver_failed}: the solver did not return an optimal solution")
        if refuted:
            parts.append(
                f"grade(s) {refuted} are not the optimum of their grade problem: a sampled gate lowers the "
                f"objective by more than {s.optimality_rtol:g} (relative, certified); raise n_patterns"
            )
        if sampled := [g["grade"] for g in gap if not g.get("patterns_complete", True)]:
            parts.append(
                f"grade(s) {sampled}: the certified gap over all patterns exceeds the tolerance, so their sampled "
                "patterns miss better ones: raise n_patterns or use patterns='all'"
            )
        if complete := [g["grade"] for g in gap if g.get("patterns_complete", True)]:
            parts.append(
                f"grade(s) {complete}: the certified gap exceeds the tolerance: re-solve with tighter solver_options"
            )
        line = "; ".join(parts)
    else:
        line = (
            f"grade(s) {capped} hit the width cap: exact optimum over their kept blocks only; the certified "
            "gap to the full program bounds what the cap cost"
            if capped
            else "a solver returned an inaccurate solution"
        )
    details = {"independent": evidence}
    if why_none:
        details["independent_missing"] = why_none
    return ClaimResult("C4 grade optimality", outcome, trust, line, per_grade, s.optimality_rtol, None, details)


def _c1_train(scheme) -> ClaimResult:
    per_grade = [{"grade": g["grade"], "excess": g["monotone_violation"]} for g in scheme.grades]
    tol = 1e-7
    bad = [r for r in per_grade if r["excess"] > tol * max(1.0, scheme.grades[r["grade"] - 1]["max_abs_before"])]
    if bad:
        w = max(bad, key=lambda r: r["excess"])
        return ClaimResult(
            "C1 on training points",
            FAIL,
            SOLVER,
            f"|e_k| > |e_(k-1)| at training points of grade(s) {[r['grade'] for r in bad]} "
            f"(worst excess {w['excess']:.3g} at grade {w['grade']}); fit with monotone=True to enforce it",
            per_grade,
            tol,
        )
    return ClaimResult("C1 on training points", PASS, SOLVER, "holds on every training point", per_grade, tol)


# --------------------------------------------------------------------------- 2-D rigorous
def _rigorous_2d(scheme, target, s: CheckSettings):
    """Certified sup per grade and C1 per grade by input splitting (bounds2d)."""
    sups, c1 = [], []
    for k in range(len(scheme.layers) + 1):
        L, U, worst, ok, boxes = sup_abs_2d(
            scheme.layers, target, scheme.domain, k, rtol=s.sup_rtol_2d, max_boxes=s.sup_boxes_2d
        )
        sups.append(
            {
                "grade": k,
                "lower": lower_float(L),
                "upper": upper_float(U),
                "point": list(worst),
                "ok": ok,
                "boxes": boxes,
            }
        )
    for k in range(1, len(scheme.layers) + 1):
        status, point, excess, boxes = prove_monotone_2d(scheme.layers, target, scheme.domain, k, s.c1_boxes_2d)
        c1.append(
            {
                "grade": k,
                "proved": int(status == "proved"),
                "counterexample": int(status == "counterexample"),
                "unresolved": int(status == "unresolved"),
                "worst_excess": excess,
                "worst_point": None if point is None else list(point),
                "boxes": boxes,
            }
        )
    return sups, c1


def _lp_2d(scheme, target, s: CheckSettings):
    """Rigorous 2-D L^p enclosures, refined (doubling budgets) until consecutive grades separate.

    Returns ``(norms, unresolved)``: ``norms[k][p] = (lower, upper, converged)`` of ``||e_k||_p`` and
    the grades whose enclosures still overlap their predecessor's for some p.
    """
    encs = [LpEnclosure2D(scheme.layers, target, scheme.domain, k, s.ps) for k in range(len(scheme.layers) + 1)]

    def overlapping():
        return [
            k
            for k in range(1, len(encs))
            if any(
                not (encs[k].enclosure(p)[1] < encs[k - 1].enclosure(p)[0])
                and not (encs[k].enclosure(p)[0] > encs[k - 1].enclosure(p)[1])
                for p in s.ps
            )
        ]

    budget = min(4096, s.lp_boxes_2d)
    for enc in encs:
        enc.refine(budget, s.lp_rtol)
    while (unresolved := overlapping()) and budget < s.lp_boxes_2d:
        budget = min(2 * budget, s.lp_boxes_2d)
        for j in sorted({j for k in unresolved for j in (k - 1, k)}):
            encs[j].refine(budget, s.lp_rtol)
    norms = []
    for enc in encs:
        row = {}
        for p in s.ps:
            row[p] = (*_pth_root(*enc.enclosure(p), p), enc.converged(s.lp_rtol))
        norms.append(row)
    return norms, unresolved


# --------------------------------------------------------------------------- heuristic grids
def _grid(domain: np.ndarray, points: int) -> np.ndarray:
    d = len(domain)
    per_axis = max(2, int(round(points ** (1 / d))))
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in domain]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)


def _grid_stats(scheme, target, points, ps):
    X = _grid(scheme.domain, points)
    f = target(X)
    errs = [f - g for g in staged_outputs(scheme, X)]
    vol = float(np.prod(np.diff(scheme.domain, axis=1)))
    sups = [float(np.max(np.abs(e))) for e in errs]
    worst = [X[int(np.argmax(np.abs(e)))].tolist() for e in errs]
    lp = [{p: (vol * float(np.mean(np.abs(e) ** p))) ** (1 / p) for p in ps} for e in errs]
    c1 = []
    for k in range(1, len(errs)):
        excess = np.abs(errs[k]) - np.abs(errs[k - 1])
        i = int(np.argmax(excess))
        c1.append((float(excess[i]), X[i].tolist()))
    return sups, worst, lp, c1, len(X)


def _heuristic(scheme, target, s: CheckSettings):
    coarse = _grid_stats(scheme, target, s.grid_points // 4, s.ps)
    fine = _grid_stats(scheme, target, s.grid_points, s.ps)
    scale = max(coarse[0][0], 1e-300)
    # C1: a counterexample on either grid refutes (at a float64 grid point)
    per_grade, fails = [], []
    for k, ((ec, pc), (ef, pf)) in enumerate(zip(coarse[3], fine[3]), start=1):
        row = {"grade": k, "max_excess_coarse": ec, "max_excess_fine": ef}
        per_grade.append(row)
        if max(ec, ef) > 1e-12 * scale:
            fails.append((max(ec, ef), k, pf if ef >= ec else pc))
    if fails:
        ex, k, pt = max(fails)
        c1 = ClaimResult(
            "C1 pointwise non-increase",
            FAIL,
            HEURISTIC,
            f"|e_k| > |e_(k-1)| at grid points (worst grade {k}, excess {ex:.3g}); float64 evaluation",
            per_grade,
            1e-12 * scale,
            pt,
        )
    else:
        c1 = ClaimResult(
            "C1 pointwise non-increase",
            PASS,
            HEURISTIC,
            "no violation on two grids: evidence, not proof (grids miss narrow violations)",
            per_grade,
        )
    sups = [
        {"grade": k, "lower": max(a, b), "upper": max(a, b), "grid_coarse": a, "grid_fine": b, "point": w, "ok": True}
        for k, (a, b, w) in enumerate(zip(coarse[0], fine[0], fine[1]))
    ]
    eps = s.eps if s.eps is not None else 1e-2 * sups[0]["lower"]
    changed = (coarse[0][-1] <= eps) != (fine[0][-1] <= eps)  # grid values: no certified bound exists
    c2 = _c2(sups, target, scheme, s, HEURISTIC, grid_changed=changed)
    norms = []
    for lc, lf in zip(coarse[2], fine[2]):
        norms.append({p: (lf[p] - abs(lf[p] - lc[p]), lf[p] + abs(lf[p] - lc[p]), False) for p in s.ps})
    c3 = _c3(norms, scheme, s, HEURISTIC)
    return c1, c2, c3, {"grid_points": [coarse[4], fine[4]]}


# --------------------------------------------------------------------------- entry point
def check_scheme(scheme: Scheme, target, settings: CheckSettings | None = None) -> Report:
    """Run every claim; rigorous where the dimension and the target allow it."""
    s = settings or CheckSettings()
    if s.sollya not in ("auto", "off"):
        raise ValueError(f"CheckSettings.sollya must be 'auto' or 'off', got {s.sollya!r}")
    d = len(scheme.domain)
    extra = {}
    if d == 1 and target.rigorous and target.continuous:
        pieces, sups, lps, c1_rows = _rigorous_1d(scheme, target, s)
        c1 = _c1_rigorous(c1_rows)
        c2 = _sollya_cross_check(_c2(sups, target, scheme, s, RIGOROUS), pieces, sups, target, s)
        c3 = _c3(lps, scheme, s, RIGOROUS)
        extra = {"pieces": len(pieces), "method": "exact pieces + ball arithmetic"}
    elif d == 2 and target.rigorous and target.continuous:
        sups, c1_rows = _rigorous_2d(scheme, target, s)
        c1 = _c1_rigorous(c1_rows)
        c2 = _c2(sups, target, scheme, s, RIGOROUS)
        norms, unresolved = _lp_2d(scheme, target, s)
        extra = {"method": "input splitting + ball arithmetic (C1, C2, C3)"}
        c3 = _c3(norms, scheme, s, RIGOROUS)
        if unresolved:  # the rigorous enclosures could not decide: grid quadrature, said plainly
            _, _, c3, extra = _heuristic(scheme, target, s)
            note = (
                f"certified enclosures still overlap at grade(s) {unresolved} after {s.lp_boxes_2d} boxes; "
                "grid quadrature instead: "
            )
            c3 = replace(c3, summary=note + c3.summary, details={**c3.details, "rigorous_norms": norms})
            extra["method"] = "input splitting + ball arithmetic (C1, C2); grid quadrature (C3, unresolved)"
    else:
        c1, c2, c3, extra = _heuristic(scheme, target, s)
        extra["method"] = "grids (heuristic)" + (
            "" if target.rigorous else ": the target has no ball-arithmetic form" if d == 1 else ""
        )
    claims = [c1, _c1_train(scheme), c2, c3, _c4(scheme, s)]
    return Report(claims=claims, target=target.name, dimension=d, grades=scheme.grades, details=extra)
