"""The report of a check: a table for the terminal, JSON, Markdown and plots.

The JSON has a top-level ``claims`` list; each item carries ``name``,
``outcome``, ``trust``, ``summary`` and ``per_grade`` (plus tolerance, worst
point and details).  Plots are computed from the report and the scheme only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .claims import FAIL

__all__ = ["Report"]


@dataclass(frozen=True)
class Report:
    claims: list
    target: str
    dimension: int
    grades: list
    details: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(c.outcome == FAIL for c in self.claims)

    def to_dict(self) -> dict:
        return {
            "target": self.target,
            "dimension": self.dimension,
            "details": self.details,
            "claims": [c.to_dict() for c in self.claims],
            "grades": self.grades,
        }

    def to_json(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, default=_jsonable))

    def table(self) -> str:
        """Fixed-width summary: one line per claim."""
        lines = [f"{'claim':28s} {'outcome':13s} {'trust':15s} summary", "-" * 100]
        for c in self.claims:
            lines.append(f"{c.name:28s} {c.outcome:13s} {c.trust:15s} {c.summary}")
        return "\n".join(lines)

    def grade_table(self) -> str:
        names = ("k", "width", "n", "beta", "status", "0.5*MSE", "rel.gap", "time s")
        widths = (2, 5, 6, 9, 18, 10, 9, 7)
        rows = [" ".join(f"{n:>{w}s}" for n, w in zip(names, widths))]
        for g in self.grades:
            rows.append(
                f"{g['grade']:2d} {g['width']:5d} {g['n_samples']:6d} {g['beta']:9.2e} {g['status']:>18s} "
                f"{g['loss_after']:10.3e} {g['relative_gap']:9.1e} {g['time_total']:7.1f}"
            )
        return "\n".join(rows)

    def to_markdown(self) -> str:
        out = [f"# Verification report: target `{self.target}` ({self.dimension}-D)", ""]
        out += [f"Method: {self.details.get('method', '?')}.", ""]
        out += ["| claim | outcome | trust | summary |", "|---|---|---|---|"]
        out += [f"| {c.name} | **{c.outcome}** | {c.trust} | {c.summary} |" for c in self.claims]
        out += ["", "## Grades", "", "```", self.grade_table(), "```", ""]
        for c in self.claims:
            out += [f"## {c.name}: {c.outcome} ({c.trust})", "", c.summary, ""]
            if c.tolerance is not None:
                out += [f"Tolerance: {c.tolerance:g}.", ""]
            if c.per_grade:
                keys = [k for k in c.per_grade[0] if not isinstance(c.per_grade[0][k], dict)]
                out += ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
                for row in c.per_grade:
                    out.append("| " + " | ".join(_fmt(row.get(k)) for k in keys) + " |")
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


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if hasattr(v, "tolist"):
        return v.tolist()
    return str(v)
