"""Target functions on hypercubes, written once for numpy and for ball arithmetic.

A :class:`Target` is a continuous function on ``Omega = prod [lo_i, hi_i]``.
Its formula is written once against a small math namespace ``m`` (``m.sin``,
``m.cos``, ``m.sqrt``, ``m.abs``, ``m.pi``, ...): with :data:`NUMPY` it
evaluates on arrays; with :data:`ARB` on python-flint ``arb`` balls, which
gives rigorous enclosures of ``f`` over an interval (``proofs_check``'s
rigorous checks need them, with the gradient written the same way).
A plain Python callable ("module:function") is a target too, but numpy-only:
the checks on it are heuristic and reports say so.

Built in (THEORY section 5 and the issue's list):

=============  ==========================================================  ======
name           f                                                           domain
=============  ==========================================================  ======
fangxu1        sum_j sin(2 pi k_j x + phi_j), k = [1, 5.5, 10], phi = 0     [0, 1]
fangxu2        same, k = [1, 8.25, 15.5, 22.75, 30], phi given              [0, 1]
sin100         sin(100 x)                                                  [0, 1]
sqrt_kink      |x - 0.3|^(1/2) (continuous, not Lipschitz)                 [0, 1]
osc2d          sin(2 pi x) cos(3 pi y) + 0.5 sin(5 pi (x + y))            [0, 1]^2
step           1[x >= 0.5] (discontinuous: breaks the theorem's hypothesis)  [0, 1]
=============  ==========================================================  ======

Fang & Xu write phases phi_j for setting 2 only; setting 1 uses phi = 0.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Target", "TARGETS", "get_target", "NUMPY", "ARB", "sample_grid", "sample_uniform"]


class _NumpyMath:
    sin, cos, exp, sqrt, abs = np.sin, np.cos, np.exp, np.sqrt, np.abs
    pi = np.pi

    @staticmethod
    def sign(x):
        return np.sign(x)

    @staticmethod
    def step(x):
        return (np.asarray(x) >= 0).astype(float)


class _ArbMath:
    """The same names on python-flint ``arb`` balls (imported lazily)."""

    def __getattr__(self, name):
        import flint

        if name == "pi":
            return flint.arb.pi()
        if name == "abs":
            return lambda x: abs(x)
        if name == "sign":
            return _arb_sign
        if name == "step":
            return _arb_step
        return lambda x: getattr(flint.arb(x), name)()


def _arb_sign(x):
    import flint

    if x > 0:
        return flint.arb(1)
    if x < 0:
        return flint.arb(-1)
    return flint.arb(0, 1)  # [-1, 1]: the sign is not determined on this ball


def _arb_step(x):
    import flint

    if x >= 0:
        return flint.arb(1)
    if x < 0:
        return flint.arb(0)
    return flint.arb(0.5, 0.5)  # [0, 1]


NUMPY = _NumpyMath()
ARB = _ArbMath()


@dataclass(frozen=True)
class Target:
    """A function on a hypercube; ``formula(x, m)`` takes ``x`` with one row per coordinate."""

    name: str
    domain: tuple[tuple[float, float], ...]
    formula: Callable
    gradient: Callable | None = None
    continuous: bool = True
    description: str = ""
    numpy_only: bool = field(default=False)
    sollya: str | None = None  # f in Sollya's syntax, exact constants: for proofs_check's cross-check

    @property
    def dim(self) -> int:
        return len(self.domain)

    @property
    def rigorous(self) -> bool:
        """True when f and its gradient evaluate in ball arithmetic (rigorous checks possible)."""
        return not self.numpy_only and self.gradient is not None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Evaluate on an (n, d) array; raises if the result is not n finite numbers."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"target {self.name!r} takes an (n, {self.dim}) array, got shape {X.shape}")
        try:
            y = np.asarray(self.formula(X.T, NUMPY), dtype=float)
        except Exception as e:
            raise ValueError(f"target {self.name!r} raised {type(e).__name__} when evaluated: {e}") from e
        y = np.broadcast_to(y, (X.shape[0],)) if y.ndim == 0 else y
        if y.shape != (X.shape[0],):
            raise ValueError(f"target {self.name!r} returned shape {y.shape} for {X.shape[0]} points")
        if not np.all(np.isfinite(y)):
            bad = X[~np.isfinite(y)][0]
            raise ValueError(f"target {self.name!r} is not finite at x = {bad.tolist()}")
        return y

    def arb(self, *xs):
        """f on arb balls (one per coordinate)."""
        if self.numpy_only:
            raise TypeError(f"target {self.name!r} has no ball-arithmetic form")
        return self.formula(list(xs), ARB)

    def arb_gradient(self, *xs):
        """Gradient of f on arb balls, a list with one entry per coordinate."""
        if not self.rigorous:
            raise TypeError(f"target {self.name!r} has no ball-arithmetic gradient")
        return self.gradient(list(xs), ARB)


def _sines(ks, phis):
    def f(x, m):
        return sum(m.sin(2 * m.pi * k * x[0] + phi) for k, phi in zip(ks, phis))

    def g(x, m):
        return [sum(2 * m.pi * k * m.cos(2 * m.pi * k * x[0] + phi) for k, phi in zip(ks, phis))]

    return f, g


def _exact(v: float) -> str:
    num, den = float(v).as_integer_ratio()
    return f"({num}/{den})"


def _sines_sollya(ks, phis) -> str:
    return " + ".join(f"sin(2 * pi * {_exact(k)} * x + {_exact(phi)})" for k, phi in zip(ks, phis))


_FX1_ARGS = ([1.0, 5.5, 10.0], [0.0, 0.0, 0.0])
_FX2_ARGS = ([1.0, 8.25, 15.5, 22.75, 30.0], [3.6096928, 0.6263458, 2.4702985, 5.618288, 3.7483382])
_FX1, _FX2 = _sines(*_FX1_ARGS), _sines(*_FX2_ARGS)

TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target(
            "fangxu1",
            ((0.0, 1.0),),
            *_FX1,
            description="Fang-Xu setting 1: k = [1, 5.5, 10]",
            sollya=_sines_sollya(*_FX1_ARGS),
        ),
        Target(
            "fangxu2",
            ((0.0, 1.0),),
            *_FX2,
            description="Fang-Xu setting 2: k = [1, 8.25, ..., 30]",
            sollya=_sines_sollya(*_FX2_ARGS),
        ),
        Target(
            "sin100",
            ((0.0, 1.0),),
            lambda x, m: m.sin(100 * x[0]),
            lambda x, m: [100 * m.cos(100 * x[0])],
            description="Xu: sin(100 x)",
            sollya="sin(100 * x)",
        ),
        Target(
            "sqrt_kink",
            ((0.0, 1.0),),
            lambda x, m: m.sqrt(m.abs(x[0] - 0.3)),
            lambda x, m: [m.sign(x[0] - 0.3) / (2 * m.sqrt(m.abs(x[0] - 0.3)))],
            description="|x - 0.3|^(1/2): continuous, infinite slope at 0.3",
        ),
        Target(
            "osc2d",
            ((0.0, 1.0), (0.0, 1.0)),
            lambda x, m: m.sin(2 * m.pi * x[0]) * m.cos(3 * m.pi * x[1]) + 0.5 * m.sin(5 * m.pi * (x[0] + x[1])),
            lambda x, m: [
                2 * m.pi * m.cos(2 * m.pi * x[0]) * m.cos(3 * m.pi * x[1])
                + 2.5 * m.pi * m.cos(5 * m.pi * (x[0] + x[1])),
                -3 * m.pi * m.sin(2 * m.pi * x[0]) * m.sin(3 * m.pi * x[1])
                + 2.5 * m.pi * m.cos(5 * m.pi * (x[0] + x[1])),
            ],
            description="2-D oscillatory",
        ),
        Target(
            "step",
            ((0.0, 1.0),),
            lambda x, m: m.step(x[0] - 0.5),
            None,
            continuous=False,
            description="jump at 0.5: violates the theorem's hypothesis (no uniform convergence)",
        ),
    ]
}


def _parse_domain(domain) -> tuple[tuple[float, float], ...]:
    try:
        dom = tuple((float(lo), float(hi)) for lo, hi in domain)
    except (TypeError, ValueError) as e:
        raise ValueError(f"domain must be a list of (lo, hi) pairs, got {domain!r}") from e
    if not dom:
        raise ValueError("domain is empty: give one (lo, hi) pair per coordinate")
    for i, (lo, hi) in enumerate(dom):
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"domain coordinate {i} is ({lo}, {hi}): need finite lo < hi (a non-empty hypercube)")
    return dom


def get_target(name: str, domain=None) -> Target:
    """A built-in target by name, or ``"module:function"`` (numpy-only) on ``domain``.

    The function takes an (n, d) array and returns n values.
    """
    if name in TARGETS:
        if domain is not None:
            return Target(**{**TARGETS[name].__dict__, "domain": _parse_domain(domain)})
        return TARGETS[name]
    if ":" not in name:
        raise ValueError(
            f"unknown target {name!r}: built-in targets are {', '.join(TARGETS)}, or give 'module:function'"
        )
    if domain is None:
        raise ValueError(f"user target {name!r} needs a domain, e.g. [[0, 1]]")
    module, func = name.split(":", 1)
    try:
        fn = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot load user target {name!r}: {e}") from e
    if not callable(fn):
        raise ValueError(f"user target {name!r} is not callable")
    return Target(name, _parse_domain(domain), lambda x, m: fn(np.asarray(x).T), numpy_only=True)


def sample_grid(target: Target, n: int) -> np.ndarray:
    """About ``n`` equispaced points (a tensor grid with ``round(n^(1/d))`` per axis), shape (N, d)."""
    if n < 2:
        raise ValueError(f"need at least 2 samples, got {n}")
    per_axis = max(2, int(round(n ** (1.0 / target.dim))))
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in target.domain]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, target.dim)


def sample_uniform(target: Target, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points drawn uniformly from the domain, shape (n, d)."""
    if n < 2:
        raise ValueError(f"need at least 2 samples, got {n}")
    lo, hi = np.array(target.domain).T
    return lo + (hi - lo) * rng.random((n, target.dim))
