"""C4: every grade is the optimum of its grade problem, within a relative tolerance.

The evidence per grade (:func:`optimality_evidence`), independent of the solver:

* a first grade on 1-D or 2-D samples: the exact certificate over all patterns
  (:func:`~proofs_check.optimality.first_grade_certificate`), plus a refutation search when its
  gap exceeds the tolerance;
* any other grade: the refutation searches (an added neuron, a refit read-out), which can only
  prove that a grade is *not* optimal;
* ``kappa(e_(k-1))`` recomputed (a certified lower bound; an upper bound over all patterns for
  first grades on 1-D or small 2-D samples),
  shown beside the grade: the zero grade is optimal exactly when ``kappa <= beta``.

The verdict (:func:`c4_verdict`): **pass** when the certified gap is within the tolerance (or,
without a certificate, when the solver reports an optimal, uncapped solve with its own gap within
it and no refutation: solver-trusted); **fail** only on a certified refutation (a network with an
objective lower by more than the tolerance) or a solver failure; **inconclusive** otherwise,
with the gap.  The grade problem's ``beta`` and the solver's status and gap are taken from the
grade records; without records C4 is not run.
"""

from __future__ import annotations

import numpy as np

from .claims import FAIL, INCONCLUSIVE, PASS, RIGOROUS, SOLVER, ClaimResult, not_run, worst_outcome
from .kappa2d import MAX_POINTS_2D
from .network import grade_input
from .optimality import first_grade_certificate, kappa_bounds, refute_optimality

__all__ = ["optimality_evidence", "c4_verdict"]

SOLVED = ("optimal", "optimal_inaccurate")


def _refutation(Zb, e, layer, beta, s, rng) -> dict:
    ref = refute_optimality(Zb, e, layer.hidden, layer.readout, beta, s.optimality_rtol, rng, s.refutation_starts)
    ref.pop("best_gate")
    ref.pop("improving_gate")
    return ref


def optimality_evidence(scheme, s) -> tuple[list, str]:
    """Per grade, the solver-independent evidence (a dict), or None; and why there is none."""
    K = scheme.n_grades
    if scheme.records is None:
        return [None] * K, scheme.no_records_reason
    if scheme.monotone:
        return [None] * K, "monotone grades: their extra constraints make kappa <= beta no optimality test"
    if scheme.samples is None:
        return (
            [None] * K,
            "the grades' samples cannot be regenerated (a data set, or random samples without a seed): "
            "only the recorded certificates",
        )
    rng = np.random.default_rng(0)
    evidence = []
    for k, ((X, y), layer, rec) in enumerate(zip(scheme.samples, scheme.layers, scheme.records)):
        Zb, e = grade_input(scheme.layers, X, y, k)
        kappa = kappa_bounds(Zb, e, rng, s.refutation_starts, X if k == 0 else None)
        if k == 0 and X.shape[1] in (1, 2) and len(np.unique(X, axis=0)) <= MAX_POINTS_2D:
            ev = {"kind": "certificate", **first_grade_certificate(layer.hidden, layer.readout, X, e, rec.beta)}
            if not ev["relative_gap_upper"] <= s.optimality_rtol:
                ev["refutation"] = _refutation(Zb, e, layer, rec.beta, s, rng)
        else:
            ev = {"kind": "refutation", **_refutation(Zb, e, layer, rec.beta, s, rng)}
        evidence.append({**ev, "kappa_before": kappa})
    return evidence, ""


def _refutation_of(ev) -> dict | None:
    if ev is None:
        return None
    return ev if ev["kind"] == "refutation" else ev.get("refutation")


def _grade_verdict(rec, ev, max_abs_before: float, s) -> tuple[str, str, str]:
    """(verdict, trust, why) of one grade.

    An added neuron refutes a grade that had room for it; a capped grade (its width used up) is
    refuted only by a network of the same width (the refit read-out): an added neuron then only
    measures what the cap cost.
    """
    tol = s.optimality_rtol
    if rec.status not in SOLVED:
        return FAIL, SOLVER, "solver failure"
    ref = _refutation_of(ev)
    if ref is not None:
        refit = ref["refit_relative_decrease_lower"] > tol
        neuron = ref["relative_suboptimality_lower"] > tol and not rec.capped
        if refit or neuron:
            return FAIL, RIGOROUS, "refuted"
    certificate = ev is not None and ev["kind"] == "certificate"
    if certificate and ev["relative_gap_upper"] <= tol:
        return PASS, RIGOROUS, "certified"
    if rec.capped:
        return INCONCLUSIVE, SOLVER, "capped"
    if certificate:
        return INCONCLUSIVE, RIGOROUS, "gap"
    if rec.status != "optimal":
        return INCONCLUSIVE, SOLVER, "inaccurate"
    # fail closed: NaN, inf, or a gap below -tol (primal under dual: no certificate does that) is no pass
    if not -tol <= rec.relative_gap <= tol:
        return INCONCLUSIVE, SOLVER, "gap"
    if 0 <= rec.recovery_gap <= 1e-6 * max_abs_before:  # relative: small targets too
        return PASS, SOLVER, "solver"
    return INCONCLUSIVE, SOLVER, "recovery"


def c4_verdict(scheme, evidence, why_none: str, facts, s) -> ClaimResult:
    if scheme.n_grades == 0:
        return not_run("C4", "the scheme has no grades")
    if scheme.records is None:
        return not_run("C4", scheme.no_records_reason)
    rows, outcomes, reasons = [], [], {}
    for k, (rec, ev) in enumerate(zip(scheme.records, evidence)):
        max_abs = facts[k].max_abs_before if facts is not None else 1.0
        verdict, trust, why = _grade_verdict(rec, ev, max_abs, s)
        row = {
            "grade": rec.grade,
            "status": rec.status,
            "capped": rec.capped,
            "solver_relative_gap": rec.relative_gap,
            "recovery_gap": rec.recovery_gap,
            "certificate_scope": rec.certificate_scope,
            "relative_gap": rec.relative_gap,
            "trust": trust,
            "independent": "none",
            "verdict": verdict,
        }
        if ev is not None:
            kappa = ev["kappa_before"]
            row["kappa_before"] = [kappa["lower"], kappa["upper"]]
            row["beta"] = rec.beta
            ref = _refutation_of(ev)
            word = None if ref is None else ("refuted" if ref["refuted"] else "not refuted")
            if ev["kind"] == "certificate":
                row.update(relative_gap=ev["relative_gap_upper"], independent="exact certificate")
                row["certificate_scope"] = f"all patterns ({ev['dimension']}-D, exact): independent certificate"
                if word:
                    row["independent"] += f" + search: {word}"
            else:
                row["independent"] = f"search: {word}"
            if ref is not None:
                row["refit_decrease_lower"] = ref["refit_relative_decrease_lower"]  # same width
                row["neuron_decrease_lower"] = ref["relative_suboptimality_lower"]  # one more neuron
        rows.append(row)
        outcomes.append(verdict)
        reasons.setdefault(why, []).append(rec.grade)
    outcome = worst_outcome(outcomes)
    deciding = [r for r in rows if r["verdict"] == outcome]
    trust = RIGOROUS if deciding and all(r["trust"] == RIGOROUS for r in deciding) else SOLVER
    line = _summary(outcome, reasons, rows, s.optimality_rtol, trust)
    details = {"independent": evidence}
    if why_none:
        details["independent_missing"] = why_none
    return ClaimResult("C4", outcome, trust, line, rows, s.optimality_rtol, None, details)


def _summary(outcome, reasons, rows, tol, trust) -> str:
    if outcome == PASS:
        line = f"every grade optimal: certified relative gap <= {tol:g}"
        if trust != RIGOROUS:
            line += " (without an exact certificate: the solver's gap over its patterns, and no refutation found)"
        return line
    parts = []
    if g := reasons.get("solver failure"):
        parts.append(f"grade(s) {g}: the solver did not return an optimal solution")
    refuted = [r for r in rows if r["grade"] in reasons.get("refuted", [])]
    if refit := [r for r in refuted if r["refit_decrease_lower"] > tol]:
        worst = max(r["refit_decrease_lower"] for r in refit)
        parts.append(
            f"grade(s) {[r['grade'] for r in refit]} are not the optimum of their grade problem: the same neurons "
            f"with a refit read-out lower the objective by >= {worst:.3g} (relative, certified); tighten "
            "solver_options"
        )
    if neuron := [r for r in refuted if r["refit_decrease_lower"] <= tol]:
        worst = max(r["neuron_decrease_lower"] for r in neuron)
        parts.append(
            f"grade(s) {[r['grade'] for r in neuron]} are not the optimum of their grade problem: one more neuron "
            f"lowers the objective by >= {worst:.3g} (relative, certified); their patterns miss better ones: raise "
            "n_patterns or use patterns='all'"
        )
    if outcome == FAIL:
        return "; ".join(parts)
    if g := reasons.get("capped"):
        parts.append(
            f"grade(s) {g} hit the width cap: exact optimum over their kept blocks only; the certified gap to the "
            "full program bounds what the cap cost"
        )
        cost = [r["grade"] for r in rows if r["grade"] in g and r.get("neuron_decrease_lower", 0.0) > tol]
        if cost:
            parts.append(f"at grade(s) {cost} one more neuron would lower the objective by more than {tol:g}")
    if g := reasons.get("gap"):
        gaps = ", ".join(f"{r['relative_gap']:.3g}" for r in rows if r["grade"] in g)
        parts.append(
            f"grade(s) {g}: relative gap {gaps} not within the tolerance {tol:g} and no refutation: not shown optimal "
            "(re-solve with tighter solver_options)"
        )
    if g := reasons.get("recovery"):
        gaps = ", ".join(f"{r['recovery_gap']:.3g}" for r in rows if r["grade"] in g)
        parts.append(
            f"grade(s) {g}: the network's predictions differ from the certified solution's by {gaps} (above 1e-6 "
            "of max |e_(k-1)|): the certificate is not the network's"
        )
    if g := reasons.get("inaccurate"):
        parts.append(f"grade(s) {g}: the solver returned an inaccurate solution")
    return "; ".join(parts)
