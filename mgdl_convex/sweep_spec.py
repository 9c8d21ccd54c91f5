"""Sweep specifications: a base configuration, a grid and/or explicit cells, validated up front.

A spec is a TOML file::

    kind = "verify"              # with the command line: "verify" (fit + check), "fit", or "bench"
    [base]                       # any key of the kind's schema (fit options: ``mgdl-convex fit --help``)
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
kind included), so the same cell is the same directory in every run.  Which keys a cell may
hold, their defaults and which are required is the kind's :class:`~mgdl_convex.options.Schema`,
handed in by the caller (fit and verify: :data:`mgdl_convex.options.FIT`; bench: the
benchmarks' own).  Unknown keys, an empty grid (a key with no values, or no cell at all),
values of the wrong type and missing required keys are reported, naming them, before
anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass

from .options import OptionError, Schema, read_toml

__all__ = ["SweepSpec", "SpecError", "load_spec", "parse_spec", "cell_id"]

TOP_KEYS = {"kind", "base", "grid", "cells", "cell_time_limit"}


class SpecError(OptionError):
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


def _check(schema: Schema, key: str, value, where: str):
    try:
        return schema.check(key, value, where)
    except OptionError as e:
        raise SpecError(str(e)) from e


def load_spec(path, schemas: dict[str, Schema]) -> SweepSpec:
    """Read and validate a spec file (module docstring); ``schemas`` gives the keys of each kind."""
    try:
        raw = read_toml(path)
    except OptionError as e:
        raise SpecError(f"sweep spec: {e}") from e
    return parse_spec(raw, schemas, str(path))


def parse_spec(raw: dict, schemas: dict[str, Schema], where: str = "spec") -> SweepSpec:
    """Validate a spec given as a dict; ``schemas`` maps each kind to the keys its cells may hold."""
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise SpecError(f"unknown top-level key(s) {sorted(unknown)} in {where}; known: {sorted(TOP_KEYS)}")
    kind = raw.get("kind", "verify")
    if kind not in schemas:
        raise SpecError(f"{where}: kind must be one of {tuple(schemas)}, got {kind!r}")
    schema = schemas[kind]
    base = {k: _check(schema, k, v, f"[base] of {where}") for k, v in raw.get("base", {}).items()}
    grid = raw.get("grid", {})
    for k, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SpecError(f"[grid] of {where}: {k} must be a non-empty list of values, got {values!r}")
    grid = {k: [_check(schema, k, v, f"[grid] of {where}") for v in vals] for k, vals in grid.items()}
    cells = []
    if grid:
        names = sorted(grid)
        for combo in itertools.product(*(grid[n] for n in names)):
            cells.append({**base, **dict(zip(names, combo))})
    for i, extra in enumerate(raw.get("cells", [])):
        cells.append({**base, **{k: _check(schema, k, v, f"cell {i} of {where}") for k, v in extra.items()}})
    if not cells:
        raise SpecError(f"{where} defines no cell: give a non-empty [grid] or [[cells]]")
    try:
        cells = [schema.complete(c, f"cell {i} of {where}") for i, c in enumerate(cells)]
    except OptionError as e:
        raise SpecError(str(e)) from e
    limit = raw.get("cell_time_limit")
    if limit is not None and not (isinstance(limit, (int, float)) and limit > 0):
        raise SpecError(f"{where}: cell_time_limit must be a positive number of seconds, got {limit!r}")
    # duplicates would share a directory: keep one
    unique = {cell_id(kind, c): c for c in cells}
    return SweepSpec(kind=kind, cells=list(unique.values()), cell_time_limit=limit)
