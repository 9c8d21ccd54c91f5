"""``mgdl-convex demo``: one target, fitted plainly and in theorem mode, both checked, one report.

* **plain**: fangxu1, 4 grades of width 32 (the carried input included), 256 samples, every
  grade exact at its width (:mod:`mgdl_convex.path`).  Checked at the default eps (1% of
  sup |f|).
* **theorem mode**: the same target and width, ``guarantee="pointwise"``
  (:mod:`mgdl_convex.pointwise`) on 128 samples, run to :data:`THEOREM_EPS` of sup |f|
  (:data:`THEOREM_GRADES` grades at most), checked at that eps.

The report (``report.md``, ``report.json``) puts the two claims tables side by side and
``residuals.png`` shows ``|e_k|`` of both schemes; each scheme's own report (per-grade tables,
plots) is in ``plain/`` and ``theorem/``.  The plain scheme is expected to fail C1 (its grades
raise the residual between and at the samples): that is a finding, not an error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from .model import MultigradeRegressor
from .targets import get_target

__all__ = ["run_demo", "THEOREM_EPS", "THEOREM_GRADES"]

TARGET = "fangxu1"
#: theorem mode's eps, relative to sup |f|: what it reaches at width 32 on 128 samples in a few grades
#: (each grade touches the three largest humps of the residual, and vanishes around its zeros)
THEOREM_EPS = 0.1
THEOREM_GRADES = 10


def _fit_and_check(model: MultigradeRegressor, target, samples, eps_rel: float, out: Path):
    from proofs_check import CheckSettings, check_scheme, scheme_from_model

    t0 = time.perf_counter()
    model.fit_target(target, samples=samples)
    t_fit = time.perf_counter() - t0
    scheme = scheme_from_model(model, target)
    t0 = time.perf_counter()
    report = check_scheme(scheme, target, CheckSettings(eps_rel=eps_rel))
    t_check = time.perf_counter() - t0
    report.write(out, scheme, target)
    model.save(out / "model.npz")
    return report, scheme, {"fit_s": t_fit, "check_s": t_check, "grades": len(model.grades_)}


def _side_by_side(reports: dict, times: dict, eps: dict) -> str:
    names = list(reports)
    lines = [f"# Demo: target `{TARGET}`, plain scheme and theorem mode", ""]
    lines += ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines.append("| grades, fit s, check s | " + " | ".join(
        f"{times[n]['grades']}, {times[n]['fit_s']:.0f}, {times[n]['check_s']:.0f}" for n in names) + " |")
    lines.append("| eps (relative to sup abs f) | " + " | ".join(f"{eps[n]:g}" for n in names) + " |")
    for i, claim in enumerate(reports[names[0]].claims):
        cells = []
        for n in names:
            c = reports[n].claims[i]
            cells.append(f"**{c.outcome}** ({c.trust}): {c.summary}".replace("|", "\\|"))
        lines.append(f"| {claim.name} | " + " | ".join(cells) + " |")
    lines += ["", "Per-grade tables and plots: `plain/report.md`, `theorem/report.md`; `residuals.png`.", ""]
    return "\n".join(lines)


def _plot(schemes: dict, target, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from proofs_check.network import staged_outputs

    x = np.linspace(*target.domain[0], 4001)[:, None]
    f = target(x)
    fig, axes = plt.subplots(1, len(schemes), figsize=(6 * len(schemes), 4), sharey=True)
    for ax, (name, scheme) in zip(np.atleast_1d(axes), schemes.items()):
        for k, G in enumerate(staged_outputs(scheme.layers, x)):
            ax.semilogy(x[:, 0], np.maximum(np.abs(f - G), 1e-12), lw=0.8, label=f"|e_{k}|")
        ax.set_title(name)
        ax.set_xlabel("x")
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_demo(out, quiet: bool = False) -> int:
    """Fit and check both schemes, write the joint report; 0 (a failing claim is a finding)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = get_target(TARGET)
    runs = {
        "plain": (MultigradeRegressor(n_grades=4, width=32, carry_input=True, verbose=not quiet), [256], 0.01),
        "theorem mode": (
            MultigradeRegressor(
                n_grades=THEOREM_GRADES, width=32, carry_input=True, guarantee="pointwise",
                eps=THEOREM_EPS, verbose=not quiet,
            ),
            [128],
            THEOREM_EPS,
        ),
    }
    reports, schemes, times, eps = {}, {}, {}, {}
    for name, (model, samples, eps_rel) in runs.items():
        folder = out / ("plain" if name == "plain" else "theorem")
        reports[name], schemes[name], times[name] = _fit_and_check(model, target, samples, eps_rel, folder)
        eps[name] = eps_rel
        if not quiet:
            print(f"\n{name}:\n{reports[name].table()}\n", flush=True)
    (out / "report.md").write_text(_side_by_side(reports, times, eps))
    joint = {name: {"times": times[name], "eps": eps[name], "report": reports[name].to_dict()} for name in reports}
    (out / "report.json").write_text(json.dumps(joint, indent=2, allow_nan=False))
    _plot(schemes, target, out / "residuals.png")
    print(f"wrote {out}/report.md, report.json, residuals.png (and plain/, theorem/)")
    return 0
