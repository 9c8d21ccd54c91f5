"""The ``mgdl-convex`` command line: thin, one library call per subcommand.

    mgdl-convex fit     --target NAME [fit options] [--config run.toml] --out DIR
    mgdl-convex verify  --target NAME [fit options] --out DIR     (fit, then check the theorem's claims)
    mgdl-convex check   DIR                                        (re-check a saved run)
    mgdl-convex predict MODEL --x 0.1 0.2 ...  |  --input points.csv
    mgdl-convex targets

``main(argv) -> int`` so that it runs in-process in tests; bad arguments exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import tomllib

from .model import MultigradeRegressor
from .targets import TARGETS, get_target

__all__ = ["main", "build_parser", "fit_from_args"]

#: config-file keys and the estimator / sampling options they set
FIT_KEYS = {
    "target": str,
    "domain": list,
    "grades": int,
    "width": int,
    "carry_input": bool,
    "beta": float,
    "beta_ratio": float,
    "monotone": bool,
    "contraction": float,
    "patterns": str,
    "n_patterns": int,
    "samples": list,
    "sampling": str,
    "solver": str,
    "solver_options": dict,
    "formulation": str,
    "seed": int,
    "tol": float,
    "grade_time_limit": float,
    "width_mode": str,
    "guarantee": str,
    "eps": float,
    "c1_rounds": int,
}

DEFAULTS = {
    "grades": 4,
    "width": 32,
    "carry_input": True,
    "beta_ratio": 1e-4,
    "monotone": False,
    "contraction": 1.0,
    "patterns": "auto",
    "n_patterns": 256,
    "samples": [1024],
    "sampling": "grid",
    "solver": "CLARABEL",
    "formulation": "working_set",
    "seed": 0,
    "tol": 0.0,
    "width_mode": "exact",
    "guarantee": "none",
    "c1_rounds": 8,
}


class UsageError(Exception):
    """Bad command-line or config input: reported with exit status 2."""


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", help=f"built-in ({', '.join(TARGETS)}) or module:function")
    p.add_argument("--domain", help="JSON list of [lo, hi] pairs, for user targets (e.g. '[[0, 1]]')")
    p.add_argument("--config", type=Path, help="TOML file with any of these options (command line wins)")
    p.add_argument("--grades", type=int)
    p.add_argument("--width", type=int)
    p.add_argument("--carry-input", dest="carry_input", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--beta", type=float)
    p.add_argument("--beta-ratio", dest="beta_ratio", type=float)
    p.add_argument("--monotone", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--contraction", type=float)
    p.add_argument("--patterns", choices=["auto", "all", "sampled"])
    p.add_argument("--n-patterns", dest="n_patterns", type=int)
    p.add_argument("--samples", type=int, nargs="+", help="samples per grade (last value repeats)")
    p.add_argument("--sampling", choices=["grid", "random"])
    p.add_argument("--solver", help="CLARABEL (default), SCS, ECOS or MOSEK")
    p.add_argument("--solver-option", dest="solver_option", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--formulation", choices=["working_set", "direct"])
    p.add_argument("--seed", type=int)
    p.add_argument("--tol", type=float)
    p.add_argument("--grade-time-limit", dest="grade_time_limit", type=float, help="seconds allowed per grade")
    p.add_argument("--width-mode", dest="width_mode", choices=["exact", "greedy"],
                   help="exact (default): beta on the regularisation path, the grade's exact optimum fits the "
                   "width; greedy: the working set capped at the width")
    p.add_argument("--guarantee", choices=["none", "pointwise"],
                   help="pointwise: theorem mode, |e_k| <= |e_(k-1)| proved on the whole domain (1-D targets)")
    p.add_argument("--eps", type=float, help="run to eps: stop once the certified sup |e_K| <= eps sup |f|")
    p.add_argument("--c1-rounds", dest="c1_rounds", type=int, help="theorem mode's separation rounds per grade")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last finished grade")
    p.add_argument("--out", type=Path, required=True, help="run directory (each finished grade is saved there)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mgdl-convex", description=__doc__.split("\n")[0])
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
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


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(args) -> dict:
    """Defaults, then the config file, then the command line; every key checked."""
    opts = dict(DEFAULTS)
    if args.config is not None:
        try:
            config = tomllib.loads(args.config.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            raise UsageError(f"cannot read config {args.config}: {e}") from e
        unknown = sorted(set(config) - set(FIT_KEYS))
        if unknown:
            raise UsageError(f"unknown key(s) in {args.config}: {', '.join(unknown)}; known: {', '.join(FIT_KEYS)}")
        for key, value in config.items():
            kind = FIT_KEYS[key]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if key == "samples" and isinstance(value, int):
                value = [value]
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise UsageError(f"{args.config}: {key} must be {kind.__name__}, got {value!r}")
            opts[key] = value
    for key in FIT_KEYS:
        value = getattr(args, key, None)
        if value is not None and key not in ("domain", "solver_options"):
            opts[key] = value
    if args.domain is not None:
        opts["domain"] = _parse_value(args.domain)
    if args.solver_option:
        extra = {}
        for item in args.solver_option:
            if "=" not in item:
                raise UsageError(f"--solver-option takes KEY=VALUE, got {item!r}")
            k, v = item.split("=", 1)
            extra[k] = _parse_value(v)
        opts["solver_options"] = {**opts.get("solver_options", {}), **extra}
    if "target" not in opts:
        raise UsageError("no target: give --target NAME or 'target' in the config file")
    return opts


def fit_from_args(
    opts: dict, out: Path | None = None, resume: bool = False, quiet: bool = False, deadline: float | None = None
) -> tuple[MultigradeRegressor, object]:
    """Build the estimator and target from resolved options and fit.

    With ``out``, every finished grade is saved to ``out/model.npz`` at once
    (atomically), so an interrupted run loses at most the grade in progress;
    ``resume`` continues from that file, with the options it was started with.
    ``deadline`` (a ``time.perf_counter()`` value) stops the run with
    ``TimeoutError`` after the first grade that ends past it.
    """
    target = get_target(opts["target"], opts.get("domain"))
    model = MultigradeRegressor(
        n_grades=opts["grades"],
        width=opts["width"],
        carry_input=opts["carry_input"],
        beta=opts.get("beta"),
        beta_ratio=None if opts.get("beta") is not None else opts["beta_ratio"],
        monotone=opts["monotone"],
        contraction=opts["contraction"],
        patterns=opts["patterns"],
        n_patterns=opts["n_patterns"],
        solver=opts["solver"],
        solver_options=opts.get("solver_options"),
        formulation=opts["formulation"],
        tol=opts["tol"],
        grade_time_limit=opts.get("grade_time_limit"),
        width_mode=opts.get("width_mode", "exact"),
        guarantee=opts.get("guarantee", "none"),
        eps=opts.get("eps"),
        c1_rounds=opts.get("c1_rounds", 8),
        random_state=opts["seed"],
        verbose=not quiet,
    )
    if out is not None:
        _prepare_run_dir(model, opts, Path(out), resume)
    if deadline is not None:
        inner = model.monitor

        def within_deadline(k, result, m) -> bool:
            stop = bool(inner and inner(k, result, m))
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the cell's time limit ran out after grade {k}")
            return stop

        model.monitor = within_deadline
    model.fit_target(target, samples=opts["samples"], sampling=opts["sampling"])
    return model, target


def _prepare_run_dir(model: MultigradeRegressor, opts: dict, out: Path, resume: bool) -> None:
    from .io import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    saved_opts = out / "options.json"
    if resume:
        if not (out / "model.npz").exists():
            raise UsageError(f"--resume: no model.npz in {out} to resume from")
        started = json.loads(saved_opts.read_text()) if saved_opts.exists() else None
        if started is not None and started != json.loads(json.dumps(opts)):
            changed = sorted(k for k in set(started) | set(opts) if started.get(k) != opts.get(k))
            raise UsageError(f"--resume: options differ from the interrupted run's ({', '.join(changed)})")
        saved = MultigradeRegressor.load(out / "model.npz")
        model.layers_, model.grades_ = saved.layers_, saved.grades_
        model.domain_, model.n_features_in_ = saved.domain_, saved.n_features_in_
        model.warm_start = True
        print(f"resuming after grade {len(saved.layers_)}", flush=True)
    write_atomic(saved_opts, json.dumps(opts, indent=2))

    def checkpoint(k, result, m) -> bool:
        m.save(out / "model.npz")
        return False  # never stops the run

    model.monitor = checkpoint


def write_fit_outputs(model, target, opts: dict, out: Path) -> None:
    """model.npz, summary.json and the plots in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .io import write_atomic
    from .plotting import plot_fit, plot_losses, plot_residuals

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


def _cmd_fit(args) -> int:
    opts = _options(args)
    model, target = fit_from_args(opts, args.out, args.resume)
    write_fit_outputs(model, target, opts, args.out)
    print(f"{len(model.grades_)} grade(s); {model.stop_reason_}; wrote {args.out}/model.npz, summary.json, plots")
    return 0


def _cmd_predict(args) -> int:
    model = MultigradeRegressor.load(args.model)
    if (args.x is None) == (args.input is None):
        raise UsageError("give exactly one of --x and --input")
    X = np.array(args.x, dtype=float)[:, None] if args.x is not None else np.loadtxt(args.input, delimiter=",", ndmin=2)
    for value in model.predict(X):
        print(repr(float(value)))
    return 0


def _cmd_targets(args) -> int:
    for t in TARGETS.values():
        dom = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in t.domain)
        print(f"{t.name:10s} {dom:18s} {'rigorous' if t.rigorous else 'heuristic'}  {t.description}")
    return 0


def _cmd_sweep(args) -> int:
    from .sweep import SweepError, close_client, make_client, run_sweep
    from .sweep_spec import SpecError, load_spec

    if args.quiet:
        logging.getLogger("distributed").setLevel(logging.WARNING)

    try:
        spec = load_spec(args.spec)
    except SpecError as e:
        raise UsageError(str(e)) from e
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    client = None
    if not args.serial:
        try:
            client = make_client(args.scheduler, args.workers)
        except SweepError as e:
            raise UsageError(str(e)) from e
    try:
        results = run_sweep(spec, args.out, client=client, serial=args.serial, progress=lambda m: print(m, flush=True))
    finally:
        if client is not None:
            close_client(client, close_cluster=args.scheduler is None)
    failed = sum(r["status"] != "ok" for r in results)
    print(f"{len(results)} cells, {failed} failed; wrote {args.out}/summary.csv and summary.md")
    return 1 if failed else 0


def _cmd_bench(args) -> int:
    from benchmarks.runner import load_config, run_config

    from .sweep import SweepError, close_client, make_client

    try:
        config = load_config(args.config)
    except ValueError as e:
        raise UsageError(str(e)) from e
    client = None
    if args.workers or args.scheduler:
        try:
            client = make_client(args.scheduler, args.workers)
        except SweepError as e:
            raise UsageError(str(e)) from e
    try:
        run_config(config, args.out, progress=lambda line: print(line, flush=True), client=client)
    finally:
        if client is not None:
            close_client(client, close_cluster=not args.scheduler)
    print((args.out / "summary.md").read_text())
    return 0


def _cmd_verify(args) -> int:
    from proofs_check.cli import verify_command

    return verify_command(args, _options)


def _cmd_check(args) -> int:
    from proofs_check.cli import check_command

    return check_command(args)


def _cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.out, quiet=args.quiet)


COMMANDS = {
    "demo": _cmd_demo,
    "sweep": _cmd_sweep,
    "bench": _cmd_bench,
    "fit": _cmd_fit,
    "verify": _cmd_verify,
    "check": _cmd_check,
    "predict": _cmd_predict,
    "targets": _cmd_targets,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return COMMANDS[args.command](args)
    except UsageError as e:
        print(f"mgdl-convex {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError) as e:
        print(f"mgdl-convex {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
