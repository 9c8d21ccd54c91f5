"""The options of a fit, declared once: for the estimator, the command line, config files and sweeps.

Every option is one row of :data:`OPTIONS`: its key in config files, sweep specs and on the
command line (``--n-patterns`` for ``n_patterns``), the estimator parameter it sets (``grades``
sets ``n_grades``, ``seed`` sets ``random_state``), the values it allows, its default and a
line of help.  A value is valid when one of its constraints accepts it, in the spirit of
scikit-learn's ``_parameter_constraints``:

* ``Interval(int, 1, None)``: an integer >= 1 (never a bool); ``Interval(float, 0, 1,
  "neither")``: a finite real number in (0, 1);
* ``OneOf("auto", "all")``: one of these strings;
* ``None``, ``bool``, ``str``, ``list``, ``dict``: that value or type; ``Sizes()``: a sample
  count >= 2 or a non-empty list of them.

:class:`MultigradeRegressor <mgdl_convex.model.MultigradeRegressor>` takes its defaults from
this table and checks its parameters with :func:`check_params`; the command line builds its
fit options from the table; config files and sweep specs are checked key by key with
:meth:`Schema.check` (ints are accepted where floats are expected, a single sample count where
a list is).  Errors are :class:`OptionError` (a ``ValueError``) naming the option, what it
allows and what it got.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

__all__ = [
    "OptionError",
    "REQUIRED",
    "OPTIONAL",
    "DEFAULT_BETA_RATIO",
    "POINTWISE_BETA_RATIO",
    "Interval",
    "OneOf",
    "Sizes",
    "Option",
    "Schema",
    "OPTIONS",
    "PARAMS",
    "FIT",
    "check_params",
    "estimator_params",
    "read_toml",
]

REQUIRED = object()  # the default of an option every configuration must give
OPTIONAL = object()  # the default of an option left out of a configuration unless given
DEFAULT_BETA_RATIO = 1e-4  # beta_k = 1e-4 kappa(e_(k-1)) when neither beta nor beta_ratio is given
POINTWISE_BETA_RATIO = 1e-7  # the same in theorem mode: the pointwise bounds shrink the useful betas


class OptionError(ValueError):
    """An option with a value it does not allow, an unknown option, or a combination that cannot run."""


@dataclass(frozen=True)
class Interval:
    """Numbers of ``kind`` (int or float) between ``lo`` and ``hi`` (None: unbounded)."""

    kind: type
    lo: float | None = None
    hi: float | None = None
    closed: str = "both"  # "both", "left", "right" or "neither"

    def accepts(self, v) -> bool:
        base = numbers.Integral if self.kind is int else numbers.Real
        if isinstance(v, bool) or not isinstance(v, base) or not math.isfinite(v):
            return False
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        above = self.lo is None or (v >= self.lo if left else v > self.lo)
        below = self.hi is None or (v <= self.hi if right else v < self.hi)
        return above and below

    def __str__(self) -> str:
        noun = "integer" if self.kind is int else "number"
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.lo is not None and self.hi is not None:
            return f"a {noun} in {'[' if left else '('}{self.lo:g}, {self.hi:g}{']' if right else ')'}"
        if self.lo == 0:
            return f"a {'non-negative' if left else 'positive'} {noun}"
        if self.lo is not None:
            return f"an {noun} {'>=' if left else '>'} {self.lo:g}" if noun == "integer" else f"a {noun} > {self.lo:g}"
        if self.hi is not None:
            return f"a {noun} {'<=' if right else '<'} {self.hi:g}"
        return f"a finite {noun}"


@dataclass(frozen=True)
class OneOf:
    """One of a few strings."""

    values: tuple

    def __init__(self, *values):
        object.__setattr__(self, "values", values)

    def accepts(self, v) -> bool:
        return isinstance(v, str) and v in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class Sizes:
    """A sample count >= 2, or a non-empty list of them (one per grade, the last repeated)."""

    def accepts(self, v) -> bool:
        count = Interval(int, 2, None)
        return count.accepts(v) or (isinstance(v, (list, tuple)) and len(v) > 0 and all(map(count.accepts, v)))

    def __str__(self) -> str:
        return "an integer >= 2 or a non-empty list of them"


_TYPE_NAMES = {bool: "True or False", str: "a string", list: "a list", dict: "a table (dict)"}


def _accepts(constraint, v) -> bool:
    if constraint is None:
        return v is None
    if constraint is bool:
        return isinstance(v, (bool, np.bool_))
    if isinstance(constraint, type):
        return isinstance(v, constraint) and not isinstance(v, bool)
    return constraint.accepts(v)


def _describe(allowed: tuple) -> str:
    words = [("None" if c is None else _TYPE_NAMES.get(c, str(c))) for c in allowed]
    return " or ".join(words)


@dataclass(frozen=True)
class Option:
    """One option: its config / command-line key, what it allows, its default, its help."""

    key: str | None  # config, sweep and command-line name (None: an estimator parameter only)
    allowed: tuple
    default: object = REQUIRED
    help: str = ""
    param: str | None = None  # the estimator parameter it sets (None: an option of the run only)

    @property
    def name(self) -> str:
        return self.key or self.param

    def check(self, value, where: str = "", name: str | None = None):
        """``value`` if allowed, else OptionError naming the option, what it allows and the value."""
        if any(_accepts(c, value) for c in self.allowed):
            return value
        prefix = f"{where}: " if where else ""
        raise OptionError(f"{prefix}{name or self.name} must be {_describe(self.allowed)}, got {value!r}")

    def coerce(self, value, where: str = ""):
        """As :meth:`check`, for values read from a file: an int where a float is expected becomes a float,
        a single sample count a list of one."""
        floats = any(isinstance(c, Interval) and c.kind is float for c in self.allowed)
        if floats and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        self.check(value, where)
        if any(isinstance(c, Sizes) for c in self.allowed) and not isinstance(value, list):
            value = [value]
        return value


_SOLVERS = "CLARABEL, SCS, ECOS or MOSEK (extra [mosek], probed before use)"

#: every option of a fit, in the estimator's parameter order
OPTIONS = (
    Option("target", (str,), REQUIRED, "a built-in target (mgdl-convex targets) or module:function"),
    Option("domain", (list, None), None, "[[lo, hi], ...] for a user target, e.g. [[0, 1]]"),
    Option("samples", (Sizes(),), [1024], "samples per grade (the last value repeats)"),
    Option("sampling", (OneOf("grid", "random"),), "grid", "equispaced grid, or uniform random (seeded)"),
    Option("grades", (Interval(int, 1),), 4, "the most grades to fit", param="n_grades"),
    Option("width", (Interval(int, 1),), 32, "fixed width W of every grade (with the carried channels)", param="width"),
    Option(
        "carry_input",
        (bool,),
        True,
        "pass x through every grade on d of the W channels, so no grade loses information about x",
        param="carry_input",
    ),
    Option("beta", (Interval(float, 0, None, "neither"), None), None, "absolute group-lasso weight", param="beta"),
    Option(
        "beta_ratio",
        (Interval(float, 0, 1, "neither"), None),
        None,
        "beta_k = ratio * kappa(e_(k-1)): every grade non-trivial (default 1e-4 unless beta is given)",
        param="beta_ratio",
    ),
    Option("monotone", (bool,), False, "constrain |e_k| <= rho |e_(k-1)| on the training points", param="monotone"),
    Option("contraction", (Interval(float, 0, 1, "right"),), 1.0, "the rho of monotone", param="contraction"),
    Option(
        "patterns",
        (OneOf("auto", "all", "sampled"),),
        "auto",
        "activation patterns: all where enumerable (auto), all, or sampled",
        param="patterns",
    ),
    Option("n_patterns", (Interval(int, 1),), 256, "patterns sampled per grade when sampling", param="n_patterns"),
    Option("solver", (str,), "CLARABEL", _SOLVERS, param="solver"),
    Option("solver_options", (dict, None), None, "settings passed to the solver", param="solver_options"),
    Option(
        "formulation",
        (OneOf("working_set", "direct"),),
        "working_set",
        "working_set (exact, fast) or direct (the whole program in CVXPY)",
        param="formulation",
    ),
    Option(
        "width_mode",
        (OneOf("exact", "greedy"),),
        "exact",
        "exact: beta on the regularisation path, the grade's exact optimum fits the width; "
        "greedy: the working set capped at the width (not an optimum of the full program)",
        param="width_mode",
    ),
    Option(
        "guarantee",
        (OneOf("none", "pointwise"),),
        "none",
        "pointwise (theorem mode, 1-D targets): |e_k| <= |e_(k-1)| proved on the whole domain for every grade",
        param="guarantee",
    ),
    Option(
        "eps",
        (Interval(float, 0, 1, "neither"), None),
        None,
        "run to eps: stop once the certified sup |e_K| <= eps * sup |f| (needs a target, not samples)",
        param="eps",
    ),
    Option(
        "c1_rounds",
        (Interval(int, 1),),
        8,
        "theorem mode: separation rounds per grade before it falls back to the zero grade",
        param="c1_rounds",
    ),
    Option("tol", (Interval(float, 0, None, "left"),), 0.0, "stop once the training 0.5*MSE <= tol", param="tol"),
    Option(
        "grade_time_limit",
        (Interval(float, 0, None, "neither"), None),
        None,
        "seconds allowed per grade",
        param="grade_time_limit",
    ),
    Option(
        None, (bool,), False, "keep the fitted grades and add grades up to n_grades (resume)", param="warm_start"
    ),
    Option("seed", (Interval(int, 0), None), 0, "seed of patterns and random samples", param="random_state"),
    Option(None, (bool,), False, "print one line per grade", param="verbose"),
)

#: the estimator's parameters, by name
PARAMS = {o.param: o for o in OPTIONS if o.param is not None}


def read_toml(path) -> dict:
    """A TOML file as a dict; OptionError naming the file when it cannot be read or parsed."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except OSError as e:
        raise OptionError(f"cannot read {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise OptionError(f"{path} is not valid TOML: {e}") from e


@dataclass(frozen=True)
class Schema:
    """The keys a configuration (a config file, a sweep cell) may hold, and what they allow."""

    options: dict = field(default_factory=dict)  # key -> Option

    def check(self, key: str, value, where: str):
        """The value of ``key`` as read from a file (coerced), or OptionError naming it."""
        if key not in self.options:
            raise OptionError(f"unknown key {key!r} in {where}; known: {', '.join(self.options)}")
        return self.options[key].coerce(value, where)

    def complete(self, config: dict, where: str) -> dict:
        """``config`` over the defaults; OptionError if a required key is missing."""
        out = {k: copy.deepcopy(o.default) for k, o in self.options.items() if o.default not in (REQUIRED, OPTIONAL)}
        out.update(config)
        missing = [k for k, o in self.options.items() if o.default is REQUIRED and k not in out]
        if missing:
            raise OptionError(f"{where}: no {', '.join(missing)} given")
        return out


#: the keys of a fit in config files, sweep specs and on the command line
FIT = Schema({o.key: o for o in OPTIONS if o.key is not None})


def check_params(params: dict, where: str = "") -> None:
    """Check estimator parameters against the table (each alone; combinations are the estimator's).

    A parameter missing from the table is not checked here (tests require the table to list them all).
    """
    for name, value in params.items():
        if name in PARAMS:
            PARAMS[name].check(value, where, name)


def estimator_params(config: dict) -> dict:
    """The estimator parameters a fit configuration sets (``grades`` -> ``n_grades``, ...)."""
    return {FIT.options[k].param: v for k, v in config.items() if FIT.options[k].param is not None}
