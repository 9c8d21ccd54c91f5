"""The report of a check: a table for the terminal, strict JSON, Markdown and plots.

The JSON has the target, the domain that was checked, the method, a ``claims`` list (each with
``id``, ``name``, ``outcome``, ``trust``, ``summary``, ``per_grade``, tolerance, worst point and
details), the grade records as the fit wrote them, and the facts recomputed on the training
points.  It is strict JSON: an unbounded end of an enclosure is ``null``, with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .claims import FAIL, ClaimResult, jsonable

__all__ = ["Report"]


@dataclass(frozen=True)
class Report:
    claims: list[ClaimResult]
    target: str
    dimension: int
    domain: list  # d x 2: the domain the claims were checked on
    grades: list[dict] = field(default_factory=list)  # the fit's records (as written by the fit)
    training: list[dict] = field(default_factory=list)  # recomputed on the training points
    details: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(c.outcome == FAIL for c in self.claims)

    def claim(self, claim_id: str) -> ClaimResult:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"no claim {claim_id!r} in this report; ids: {[c.id for c in self.claims]}")

    def to_dict(self) -> dict:
        return jsonable(
            {
                "target": self.target,
                "dimension": self.dimension,
                "domain": self.domain,
                "details": self.details,
                "claims": [c.to_dict() for c in self.claims],
                "grades": self.grades,
                "training": self.training,
            }
        )

    def to_json(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, allow_nan=False))

    def table(self) -> str:
        """Fixed-width summary: one line per claim."""
        lines = [f"{'claim':28s} {'outcome':13s} {'trust':15s} summary", "-" * 100]
        for c in self.claims:
            lines.append(f"{c.name:28s} {c.outcome:13s} {c.trust:15s} {c.summary}")
        return "\n".join(lines)

    def grade_table(self) -> str:
        """The fit's records per grade, with the loss recomputed from the weights beside the recorded one."""
        names = ("k", "width", "n", "beta", "status", "0.5*MSE", "(checked)", "rel.gap", "time s")
        widths = (2, 5, 6, 9, 18, 10, 10, 9, 7)
        rows = [" ".join(f"{n:>{w}s}" for n, w in zip(names, widths))]
        checked = {t["grade"]: t["loss_after"] for t in self.training}
        for g in self.grades:
            again = checked.get(g["grade"])
            rows.append(
                f"{g['grade']:2d} {g['width']:5d} {g['n_samples']:6d} {g['beta']:9.2e} {g['status']:>18s} "
                f"{g['loss_after']:10.3e} {'-' if again is None else f'{again:.3e}':>10s} "
                f"{g['relative_gap']:9.1e} {g['time_total']:7.1f}"
            )
        return "\n".join(rows)

    def to_markdown(self) -> str:
        lo_hi = ", ".join(f"[{lo:g}, {hi:g}]" for lo, hi in self.domain)
        out = [f"# Verification report: target `{self.target}` ({self.dimension}-D) on {lo_hi}", ""]
        out += [f"Method: {self.details.get('method', '?')}.", ""]
        out += ["| claim | outcome | trust | summary |", "|---|---|---|---|"]
        out += [f"| {c.name} | **{c.outcome}** | {c.trust} | {_cell(c.summary)} |" for c in self.claims]
        if self.grades:
            out += ["", "## Grades", "", "```", self.grade_table(), "```", ""]
        for c in self.claims:
            out += [f"## {c.name}: {c.outcome} ({c.trust})", "", c.summary, ""]
            if c.tolerance is not None:
                out += [f"Tolerance: {c.tolerance:g}.", ""]
            rows = jsonable(c.per_grade)
            if rows:
                keys = list(dict.fromkeys(k for row in rows for k in row))  # every column, in order of appearance
                keys = [k for k in keys if not any(isinstance(r.get(k), dict) and "lower" not in r[k] for r in rows)]
                out += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
                for row in rows:
                    out.append("| " + " | ".join(_cell(_fmt(row.get(k))) for k in keys) + " |")
                out.append("")
        return "\n".join(out)

    def write(self, out_dir, scheme=None, target=None) -> None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.to_json(out / "report.json")
        (out / "report.md").write_text(self.to_markdown())
        if scheme is not None and target is not None:
            from .plots import plot_report

            plot_report(self, scheme, target, out)


def _cell(text: str) -> str:
    """Text inside a Markdown table cell: its pipes (|e_k|) escaped."""
    return text.replace("|", "\\|")


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict) and "lower" in v:
        hi = "inf" if v["upper"] is None else _fmt(v["upper"])
        lo = "-inf" if v["lower"] is None else _fmt(v["lower"])
        return f"[{lo}, {hi}]"
    return str(v)
