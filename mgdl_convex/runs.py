"""Runs: fit a target into a run directory, resume it, write its outputs, verify and re-check it.

The one module that joins the trainer (:class:`~mgdl_convex.model.MultigradeRegressor`) and
the checker (:mod:`proofs_check`).  A run is described by a fit configuration: the keys of
:data:`mgdl_convex.options.FIT` with their defaults filled in (``options.FIT.complete``).  A
run directory holds

* ``options.json``: the configuration it was started with (a resume must match it);
* ``model.npz``: rewritten atomically after every grade, so a killed run loses at most the
  grade in progress and ``resume=True`` continues from it to the same result;
* ``summary.json`` and the plots ``fit.png``, ``residuals.png``, ``losses.png``;
* after a verify or a check: ``report.json``, ``report.md`` and the report's plots.

:func:`fit_cell` and :func:`verify_cell` are the cells a sweep hands to
:func:`mgdl_convex.sweep.run_sweep` (:data:`CELLS`, by spec kind): one run in a directory,
returned as rows of scalars (one per grade) with the claims' outcomes.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from .io import write_atomic
from .model import MultigradeRegressor
from .options import OptionError, estimator_params
from .progress import emit
from .targets import get_target

logger = logging.getLogger(__name__)

__all__ = ["fit_run", "write_fit_outputs", "verify_run", "check_run", "fit_cell", "verify_cell", "CELLS"]

#: per-grade fields of a sweep row
GRADE_KEYS = ("width", "n_samples", "beta", "status", "loss_after", "relative_gap", "capped", "time_total")


def fit_run(
    opts: dict, out: Path | None = None, resume: bool = False, quiet: bool = False, deadline: float | None = None
) -> tuple[MultigradeRegressor, object]:
    """Build the estimator and target from a fit configuration and fit; return both.

    With ``out``, every finished grade is saved to ``out/model.npz`` at once (atomically);
    ``resume`` continues from that file, with the configuration it was started with.
    ``deadline`` (a ``time.perf_counter()`` value) stops the run with ``TimeoutError`` after
    the first grade that ends past it.
    """
    target = get_target(opts["target"], opts["domain"])
    model = MultigradeRegressor(**estimator_params(opts), verbose=not quiet)
    monitors = []
    if out is not None:
        monitors.append(_prepare_run_dir(model, opts, Path(out), resume))
    if deadline is not None:
        monitors.append(_deadline_monitor(deadline))

    def monitor(k, result, m) -> bool:
        return any([watch(k, result, m) for watch in monitors])  # every monitor runs (a list, not a generator)

    model.fit_target(target, samples=opts["samples"], sampling=opts["sampling"], monitor=monitor)
    return model, target


def _deadline_monitor(deadline: float):
    def within_deadline(k, result, m) -> bool:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the cell's time limit ran out after grade {k}")
        return False

    return within_deadline


def _prepare_run_dir(model: MultigradeRegressor, opts: dict, out: Path, resume: bool):
    """Record the options (or check them against the interrupted run's); return the checkpoint monitor."""
    out.mkdir(parents=True, exist_ok=True)
    saved_opts = out / "options.json"
    if resume:
        if not (out / "model.npz").exists():
            raise OptionError(f"resume: no model.npz in {out} to resume from")
        started = json.loads(saved_opts.read_text()) if saved_opts.exists() else None
        if started is not None and started != json.loads(json.dumps(opts)):
            changed = sorted(k for k in set(started) | set(opts) if started.get(k) != opts.get(k))
            raise OptionError(f"resume: options differ from the interrupted run's ({', '.join(changed)})")
        saved = MultigradeRegressor.load(out / "model.npz")
        model.layers_, model.grades_ = saved.layers_, saved.grades_
        model.target_fingerprints_ = saved.target_fingerprints_
        model.domain_, model.n_features_in_ = saved.domain_, saved.n_features_in_
        model.set_params(warm_start=True)
        logger.info("resuming after grade %d", len(saved.layers_))
    write_atomic(saved_opts, json.dumps(opts, indent=2))

    def checkpoint(k, result, m) -> bool:
        m.save(out / "model.npz")
        return False  # never stops the run

    return checkpoint


def write_fit_outputs(model: MultigradeRegressor, target, opts: dict, out: Path) -> None:
    """model.npz, summary.json and the plots in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import plot_fit, plot_losses, plot_residuals

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.npz")
    summary = {"options": opts, "stop_reason": model.stop_reason_, "grades": model.summary()}
    write_atomic(out / "summary.json", json.dumps(summary, indent=2))
    for name, draw in (
        ("fit.png", lambda ax: plot_fit(model, target, ax=ax)),
        ("residuals.png", lambda ax: plot_residuals(model, target, ax=ax)),
        ("losses.png", lambda ax: plot_losses(model, ax=ax)),
    ):
        fig, ax = plt.subplots(figsize=(7, 4))
        draw(ax)
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)


def _check_settings(opts: dict):
    """C2 at the run's eps (relative to sup |f|) when it ran to one."""
    from proofs_check import CheckSettings

    return None if opts.get("eps") is None else CheckSettings(eps_rel=opts["eps"])


def _check(model: MultigradeRegressor, target, opts: dict, out: Path):
    from proofs_check import check_scheme, scheme_from_model

    emit("checking the claims C1-C4", stage=True)
    scheme = scheme_from_model(model, target, opts.get("sampling", "grid"))
    report = check_scheme(scheme, target, _check_settings(opts))
    report.write(out, scheme, target)
    return report


def verify_run(opts: dict, out: Path, resume: bool = False, quiet: bool = False):
    """Fit (or resume) into ``out``, write the outputs, check the claims; return (model, report)."""
    model, target = fit_run(opts, out, resume, quiet)
    write_fit_outputs(model, target, opts, out)
    return model, _check(model, target, opts, Path(out))


def check_run(run_dir: Path):
    """Re-check a saved run directory (its model and options); return the report, also written there.

    The target is the one ``summary.json`` names; a model that records another target makes the
    directory inconsistent, a ValueError (checking a model against a function it was not fit to
    is for :func:`proofs_check.check_scheme`, which then leaves C1_train and C4 not run).
    """
    run = Path(run_dir)
    summary_path = run / "summary.json"
    if not summary_path.exists():
        raise ValueError(f"{run} is not a run directory: no summary.json (write one with 'mgdl-convex fit')")
    try:
        opts = json.loads(summary_path.read_text())["options"]
    except (json.JSONDecodeError, KeyError) as e:
        raise ValueError(f"{summary_path} is corrupt: {e}") from e
    model = MultigradeRegressor.load(run / "model.npz")
    target = get_target(opts["target"], opts.get("domain"))
    fitted_to = getattr(model, "target_name_", None)
    if fitted_to is not None and fitted_to != target.name:
        raise ValueError(
            f"{run} is inconsistent: summary.json names target {target.name!r}, but model.npz was fit to "
            f"{fitted_to!r}; check the run directory the model came from (or fit again)"
        )
    return _check(model, target, opts, run)


# --------------------------------------------------------------------------- sweep cells
def _fit_in(config: dict, out: Path, time_limit: float | None):
    opts = dict(config)
    if time_limit is not None:
        opts["grade_time_limit"] = time_limit
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    model, target = fit_run(opts, quiet=True, deadline=deadline)
    write_fit_outputs(model, target, opts, out)
    rows = [{"grade": g["grade"], **{k: g[k] for k in GRADE_KEYS}} for g in model.summary()]
    return model, target, rows


def fit_cell(config: dict, out: Path, time_limit: float | None = None) -> list[dict]:
    """A sweep cell: fit ``config`` into ``out``; one row per grade."""
    return _fit_in(config, out, time_limit)[2]


def verify_cell(config: dict, out: Path, time_limit: float | None = None) -> list[dict]:
    """A sweep cell: fit and check ``config`` in ``out``; one row per grade, with every claim's outcome and
    trust, the certified sup enclosure (C2) and the L^p enclosures (C3) of that grade."""
    model, target, rows = _fit_in(config, out, time_limit)
    report = _check(model, target, config, Path(out))
    by_grade = {row["grade"]: row for row in rows}
    for claim in report.claims:
        key = claim.id
        for row in rows:
            row[f"{key}_outcome"], row[f"{key}_trust"] = claim.outcome, claim.trust
        for g in claim.per_grade if key in ("C2", "C3") else []:
            row = by_grade.get(g["grade"])
            if row is None:
                continue
            if key == "C2":
                row["sup_lower"], row["sup_upper"] = g["lower"], g["upper"]
            else:
                row.update(
                    {
                        f"L{k[1:]}_{end}": v[i]
                        for k, v in g.items()
                        if isinstance(v, list)
                        for i, end in enumerate(("lower", "upper"))
                    }
                )
    return rows


#: the cell of each kind of sweep spec that runs fits
CELLS = {"fit": fit_cell, "verify": verify_cell}
