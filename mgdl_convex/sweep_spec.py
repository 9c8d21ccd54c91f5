"""Sweep specifications: a base configuration, a grid and/or explicit cells, validated up front.

A spec is a TOML file::

    kind = "verify"              # "verify" (fit + check), "fit", or "bench" (a benchmark cell)
    [base]                       # any fit/verify option (see ``mgdl-convex fit --help``) or bench cell key
    target = "fangxu1"
    grades = 3
    [grid]                       # every combination of these values
    width = [8, 16]
    beta_ratio = [1e-3, 1e-4]
    [[cells]]                    # and/or explicit cells, each merged over base
    width = 32
    seed = 1

Each cell's configuration is ``base`` updated by one grid point (or one explicit cell).
Its id is the first 12 hex digits of the SHA-256 of its canonical JSON (sorted keys, the
kind included), so the same cell is the same directory in every run.  Unknown keys, an
empty grid (a key with no values, or no cell at all) and values of the wrong type are
reported, naming them, before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import tomllib

from .cli import DEFAULTS, FIT_KEYS

__all__ = ["SweepSpec", "SpecError", "load_spec", "cell_id"]

KINDS = ("verify", "fit", "bench")
BENCH_KEYS = {
    "part": str,
    "n": int,
    "m": int,
    "P": int,
    "solver": str,
    "formulation": str,
    "method": str,
    "restarts": int,
    "steps": int,
    "lr": float,
    "target": str,
    "grades": int,
    "width": int,
    "samples": int,
    "gd_steps": int,
    "time_budget": (int, float),
    "max_entries": (int, float),
}
TOP_KEYS = {"kind", "base", "grid", "cells", "cell_time_limit"}


class SpecError(ValueError):
    """A sweep spec that cannot run: the message names the key and what was expected."""


@dataclass(frozen=True)
class SweepSpec:
    kind: str
    cells: list[dict]  # resolved configurations, one per cell
    cell_time_limit: float | None = None

    def ids(self) -> list[str]:
        return [cell_id(self.kind, c) for c in self.cells]


def cell_id(kind: str, config: dict) -> str:
    canonical = json.dumps({"kind": kind, **config}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _check_value(kind_keys: dict, key: str, value, where: str):
    if key not in kind_keys:
        raise SpecError(f"unknown key {key!r} in {where}; known: {', '.join(sorted(kind_keys))}")
    expected = kind_keys[key]
    types = expected if isinstance(expected, tuple) else (expected,)
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if key == "samples" and isinstance(value, int) and kind_keys is FIT_KEYS:
        value = [value]
    if not isinstance(value, types) or (int in types and isinstance(value, bool)):
        names = "/".join(t.__name__ for t in types)
        raise SpecError(f"{where}: {key} must be {names}, got {value!r}")
    return value


def load_spec(path) -> SweepSpec:
    """Read and validate a spec file (module docstring)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as e:
        raise SpecError(f"cannot read sweep spec {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path} is not valid TOML: {e}") from e
    return parse_spec(raw, str(path))


def parse_spec(raw: dict, where: str = "spec") -> SweepSpec:
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise SpecError(f"unknown top-level key(s) {sorted(unknown)} in {where}; known: {sorted(TOP_KEYS)}")
    kind = raw.get("kind", "verify")
    if kind not in KINDS:
        raise SpecError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
    keys = BENCH_KEYS if kind == "bench" else FIT_KEYS
    base = {k: _check_value(keys, k, v, f"[base] of {where}") for k, v in raw.get("base", {}).items()}
    grid = raw.get("grid", {})
    for k, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SpecError(f"[grid] of {where}: {k} must be a non-empty list of values, got {values!r}")
    grid = {k: [_check_value(keys, k, v, f"[grid] of {where}") for v in vals] for k, vals in grid.items()}
    cells = []
    if grid:
        names = sorted(grid)
        for combo in itertools.product(*(grid[n] for n in names)):
            cells.append({**base, **dict(zip(names, combo))})
    for i, extra in enumerate(raw.get("cells", [])):
        cells.append({**base, **{k: _check_value(keys, k, v, f"cell {i} of {where}") for k, v in extra.items()}})
    if not cells:
        raise SpecError(f"{where} defines no cell: give a non-empty [grid] or [[cells]]")
    if kind != "bench":
        cells = [{**DEFAULTS, **c} for c in cells]
        missing = [i for i, c in enumerate(cells) if "target" not in c]
        if missing:
            raise SpecError(f"{where}: cell(s) {missing} have no target")
    elif any("part" not in c for c in cells):
        raise SpecError(f"{where}: bench cells need a 'part' (solver, gradient, scheme or scnn)")
    limit = raw.get("cell_time_limit")
    if limit is not None and not (isinstance(limit, (int, float)) and limit > 0):
        raise SpecError(f"{where}: cell_time_limit must be a positive number of seconds, got {limit!r}")
    # duplicates would share a directory: keep one
    unique = {cell_id(kind, c): c for c in cells}
    return SweepSpec(kind=kind, cells=list(unique.values()), cell_time_limit=limit)
