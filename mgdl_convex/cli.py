"""The ``mgdl-convex`` command line: argument parsing and dispatch, one library call per subcommand.

    mgdl-convex fit     --target NAME [fit options] [--config run.toml] --out DIR
    mgdl-convex verify  --target NAME [fit options] --out DIR     (fit, then check the theorem's claims)
    mgdl-convex check   DIR                                        (re-check a saved run)
    mgdl-convex predict MODEL --x 0.1 0.2 ...  |  --input points.csv
    mgdl-convex targets
    mgdl-convex sweep   SPEC.toml --out DIR [--workers N | --scheduler ADDR | --serial]
    mgdl-convex bench   small|full|CONFIG.toml [--out DIR] [--workers N | --scheduler ADDR]

The fit options are generated from :data:`mgdl_convex.options.OPTIONS`.  ``main(argv) -> int``
runs in-process (tests).  Exit status: 0 success, 1 error, 2 bad arguments or options,
3 a claim failed (verify / check).  Nothing imports this module.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from .options import FIT, REQUIRED, Interval, OneOf, OptionError, read_toml
from .progress import show_progress
from .targets import TARGETS

__all__ = ["main", "build_parser", "EXIT_CLAIM_FAILED"]

EXIT_CLAIM_FAILED = 3


def _json(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    """One flag per option of the table (``n_patterns`` -> ``--n-patterns``), default: the config, then the table."""
    for key, option in FIT.options.items():
        flag = "--" + key.replace("_", "-")
        shown = option.default is not None and option.default is not REQUIRED
        text = option.help + (f" (default {option.default})" if shown else "")
        if key == "samples":
            p.add_argument(flag, type=int, nargs="+", help=text)
        elif key == "domain":
            p.add_argument(flag, type=_json, help=text + "; JSON")
        elif key == "solver_options":
            p.add_argument(
                "--solver-option", dest="solver_option", action="append", default=[], metavar="KEY=VALUE", help=text
            )
        elif bool in option.allowed:
            p.add_argument(flag, dest=key, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            choices = next((c.values for c in option.allowed if isinstance(c, OneOf)), None)
            kind = next((c.kind for c in option.allowed if isinstance(c, Interval)), str)
            p.add_argument(flag, dest=key, choices=choices, type=None if choices else kind, help=text)
    p.add_argument("--config", type=Path, help="TOML file with any of these options (the command line wins)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last finished grade")
    p.add_argument("--out", type=Path, required=True, help="run directory (each finished grade is saved there)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mgdl-convex", description=__doc__.split("\n")[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors, no progress line")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_fit_options(sub.add_parser("fit", help="fit a multigrade scheme to a target"))
    _add_fit_options(sub.add_parser("verify", help="fit, then check the theorem's claims"))
    check = sub.add_parser("check", help="re-check the claims on a saved run directory")
    check.add_argument("run_dir", type=Path)
    pred = sub.add_parser("predict", help="evaluate a saved model")
    pred.add_argument("model", type=Path, help="model.npz written by fit")
    pred.add_argument("--x", type=float, nargs="+", help="points of a 1-D model")
    pred.add_argument("--input", type=Path, help="CSV file, one point per row")
    sub.add_parser("targets", help="list the built-in targets")
    demo = sub.add_parser("demo", help="fangxu1 fitted plainly and in theorem mode, both checked, one report")
    demo.add_argument("--out", type=Path, default=Path("demo-out"), help="report directory")
    sweep = sub.add_parser("sweep", help="run a grid of fit/verify/bench cells on Dask")
    sweep.add_argument("spec", type=Path, help="sweep spec (TOML): kind, [base], [grid], [[cells]]")
    sweep.add_argument("--out", type=Path, required=True, help="sweep directory (cells/<id>/, summary.csv, .md)")
    sweep.add_argument("--workers", type=int, help="local cluster size (default: one per core)")
    sweep.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786")
    sweep.add_argument("--serial", action="store_true", help="run the cells in this process, without Dask")
    bench = sub.add_parser("bench", help="run a benchmark config (small, full, or a TOML file)")
    bench.add_argument("config", help="small, full, or a path to a TOML config")
    bench.add_argument("--out", type=Path, default=Path("bench-out"), help="results directory")
    bench.add_argument("--workers", type=int, help="run the cells on a local Dask cluster of this size")
    bench.add_argument("--scheduler", help="run the cells on this Dask scheduler (tcp://host:port)")
    return parser


def _options(args) -> dict:
    """The fit configuration: the table's defaults, then the config file, then the command line."""
    opts = {}
    if args.config is not None:
        opts = {k: FIT.check(k, v, str(args.config)) for k, v in read_toml(args.config).items()}
    for key, option in FIT.options.items():
        value = getattr(args, key, None)
        if value is not None:
            opts[key] = option.check(value, "command line")
    for item in args.solver_option:
        if "=" not in item:
            raise OptionError(f"--solver-option takes KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        opts["solver_options"] = {**(opts.get("solver_options") or {}), k: _json(v)}
    if "target" not in opts:
        raise OptionError("no target: give --target NAME or 'target' in the config file")
    return FIT.complete(opts, "options")


def _print_report(report, out: Path) -> int:
    print(report.grade_table())
    print()
    print(report.table())
    print(f"\nwrote {out}/report.json, report.md and plots")
    return EXIT_CLAIM_FAILED if report.failed else 0


def _cmd_fit(args) -> int:
    from .runs import fit_run, write_fit_outputs

    opts = _options(args)
    model, target = fit_run(opts, args.out, args.resume, quiet=args.quiet)
    write_fit_outputs(model, target, opts, args.out)
    print(f"{len(model.grades_)} grade(s); {model.stop_reason_}; wrote {args.out}/model.npz, summary.json, plots")
    return 0


def _cmd_verify(args) -> int:
    from .runs import verify_run

    _, report = verify_run(_options(args), args.out, args.resume, quiet=args.quiet)
    return _print_report(report, args.out)


def _cmd_check(args) -> int:
    from .runs import check_run

    return _print_report(check_run(args.run_dir), args.run_dir)


def _cmd_predict(args) -> int:
    from .model import MultigradeRegressor

    model = MultigradeRegressor.load(args.model)
    if (args.x is None) == (args.input is None):
        raise OptionError("give exactly one of --x and --input")
    X = np.array(args.x, dtype=float)[:, None] if args.x is not None else np.loadtxt(args.input, delimiter=",", ndmin=2)
    for value in model.predict(X):
        print(repr(float(value)))
    return 0


def _cmd_targets(args) -> int:
    for t in TARGETS.values():
        dom = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in t.domain)
        print(f"{t.name:10s} {dom:18s} {'rigorous' if t.rigorous else 'heuristic'}  {t.description}")
    return 0


def _client(args):
    """A Dask client for --scheduler / --workers, or None (the sweep then starts its own)."""
    from .sweep import SweepError, make_client

    if args.workers is not None and args.workers < 1:
        raise OptionError(f"--workers must be at least 1, got {args.workers}")
    try:
        return make_client(args.scheduler, args.workers) if (args.workers or args.scheduler) else None
    except SweepError as e:
        raise OptionError(str(e)) from e


def _cmd_sweep(args) -> int:
    from benchmarks.cells import SCHEMA as BENCH
    from benchmarks.cells import sweep_cell

    from .runs import CELLS
    from .sweep import close_client, run_sweep
    from .sweep_spec import load_spec

    if args.quiet:
        logging.getLogger("distributed").setLevel(logging.WARNING)
    spec = load_spec(args.spec, {"verify": FIT, "fit": FIT, "bench": BENCH})
    cell = {**CELLS, "bench": sweep_cell}[spec.kind]
    client = None if args.serial else _client(args)  # None: run_sweep starts (and closes) a local cluster
    try:
        results = run_sweep(spec, args.out, cell, client=client, serial=args.serial, progress=print)
    finally:
        if client is not None:
            close_client(client, close_cluster=args.scheduler is None)
    failed = sum(r["status"] != "ok" for r in results)
    print(f"{len(results)} cells, {failed} failed; wrote {args.out}/summary.csv and summary.md")
    return 1 if failed else 0


def _cmd_bench(args) -> int:
    from benchmarks.runner import load_config, run_config

    from .sweep import close_client

    config = load_config(args.config)
    client = _client(args)
    try:
        run_config(config, args.out, progress=print, client=client)
    finally:
        if client is not None:
            close_client(client, close_cluster=not args.scheduler)
    print((args.out / "summary.md").read_text())
    return 0


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.out, quiet=args.quiet)


COMMANDS = {
    "demo": _cmd_demo,
    "fit": _cmd_fit,
    "verify": _cmd_verify,
    "check": _cmd_check,
    "predict": _cmd_predict,
    "targets": _cmd_targets,
    "sweep": _cmd_sweep,
    "bench": _cmd_bench,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    with show_progress(enabled=not args.quiet):
        logging.basicConfig(
            level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
        )
        try:
            return COMMANDS[args.command](args)
        except OptionError as e:
            print(f"mgdl-convex {args.command}: error: {e}", file=sys.stderr)
            return 2
        except (ValueError, RuntimeError) as e:
            print(f"mgdl-convex {args.command}: error: {e}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
