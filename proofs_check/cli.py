"""``mgdl-convex verify`` and ``mgdl-convex check``: fit (or load), check, report.

Exit status: 0 when no claim fails, 3 when a claim fails (a finding, reported
in full), 1 on errors, 2 on bad arguments.
"""

from __future__ import annotations

import json
from pathlib import Path

from .checker import check_scheme, scheme_from_model

__all__ = ["verify_command", "check_command", "EXIT_CLAIM_FAILED"]

EXIT_CLAIM_FAILED = 3


def _finish(report, scheme, target, out: Path) -> int:
    report.write(out, scheme, target)
    print(report.grade_table())
    print()
    print(report.table())
    print(f"\nwrote {out}/report.json, report.md and plots")
    return EXIT_CLAIM_FAILED if report.failed else 0


def verify_command(args, options) -> int:
    from mgdl_convex.cli import fit_from_args, write_fit_outputs

    opts = options(args)
    model, target = fit_from_args(opts, args.out, args.resume)
    write_fit_outputs(model, target, opts, args.out)
    scheme = scheme_from_model(model, target, opts["sampling"])
    return _finish(check_scheme(scheme, target, _settings(opts, target)), scheme, target, args.out)


def _settings(opts: dict, target):
    """The check's settings: C2 at the run's eps (relative to sup |f|) when it ran to one."""
    from .checker import CheckSettings
    from .sup_norm import residual_sup

    if opts.get("eps") is None:
        return None
    sup_f = residual_sup([], target, target.domain)[0].enclosure.lower
    return CheckSettings(eps=opts["eps"] * sup_f)


def check_command(args) -> int:
    from mgdl_convex import MultigradeRegressor, get_target

    run = Path(args.run_dir)
    summary_path = run / "summary.json"
    if not summary_path.exists():
        raise ValueError(f"{run} is not a run directory: no summary.json (write one with 'mgdl-convex fit')")
    try:
        opts = json.loads(summary_path.read_text())["options"]
    except (json.JSONDecodeError, KeyError) as e:
        raise ValueError(f"{summary_path} is corrupt: {e}") from e
    model = MultigradeRegressor.load(run / "model.npz")
    target = get_target(opts["target"], opts.get("domain"))
    scheme = scheme_from_model(model, target, opts.get("sampling", "grid"))
    return _finish(check_scheme(scheme, target, _settings(opts, target)), scheme, target, run)
