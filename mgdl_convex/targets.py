"""Target functions on hypercubes, written once for numpy and for ball arithmetic.

A :class:`Target` is a function on ``Omega = prod [lo_i, hi_i]``.  Its formula is written
once against a small math namespace ``m`` (``m.sin``, ``m.cos``, ``m.exp``, ``m.sqrt``,
``m.abs``, ``m.pow``, ``m.sign``, ``m.step``, ``m.pi``): with :data:`NUMPY` it evaluates on
arrays; with :data:`ARB` on python-flint ``arb`` balls, which gives rigorous enclosures of f
over a box (proofs_check's rigorous checks need them, with the gradient written the same way).
In the ball namespace ``m.abs`` is clipped at 0, and ``m.sqrt`` and ``m.pow`` act on the
non-negative part of a ball (python-flint gives NaN for ``sqrt`` or ``x**2`` of a ball that
contains 0): write powers as ``m.pow(x, 2)``, not ``x ** 2``.

A target declares whether it is continuous (``True``, ``False``, or ``None``: unknown).
A user target is ``"module:name"``: either a :class:`Target` built in that module (with a ball
form and gradient its checks are rigorous, see docs/user-targets.md) or a plain function of an
(n, d) array, which is numpy-only with unknown continuity: its checks are heuristic and C2 is at
best inconclusive.

Built in:

=============  ==========================================================  ======
name           f                                                           domain
=============  ==========================================================  ======
fangxu1        sum_j sin(2 pi k_j x + phi_j), k = [1, 5.5, 10], phi = 0     [0, 1]
fangxu2        same, k = [1, 8.25, 15.5, 22.75, 30], phi given              [0, 1]
sin100         sin(100 x)                                                  [0, 1]
sqrt_kink      |x - 0.3|^(1/2) (continuous, not Lipschitz)                 [0, 1]
kink           |x - 1/3| + sin(3 x) / 2 (continuous, Lipschitz, a corner)    [0, 1]
osc2d          sin(2 pi x) cos(3 pi y) + 0.5 sin(5 pi (x + y))            [0, 1]^2
osc3d          sin(2 pi x) cos(2 pi y) sin(pi z) + 0.5 sin(2 pi (x+y+z))   [0, 1]^3
step           1[x >= 0.5] (discontinuous: breaks the theorem's hypothesis)  [0, 1]
=============  ==========================================================  ======

Fang & Xu write phases phi_j for setting 2 only; setting 1 uses phi = 0.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["Target", "TARGETS", "get_target", "NUMPY", "ARB", "sample_grid", "sample_uniform"]


class _NumpyMath:
    sin, cos, exp, sqrt, abs, pow = np.sin, np.cos, np.exp, np.sqrt, np.abs, np.power
    pi = np.pi

    @staticmethod
    def sign(x):
        return np.sign(x)

    @staticmethod
    def step(x):
        return (np.asarray(x) >= 0).astype(float)


class _ArbMath:
    """The same names on python-flint ``arb`` balls (imported lazily); abs, sqrt and pow fail closed."""

    def __getattr__(self, name):
        import flint

        from proofs_check.balls import abs_ball, pow_ball, sqrt_ball

        arb = flint.arb
        special = {
            "pi": arb.pi(),
            "abs": lambda x: abs_ball(arb(x)),
            "sqrt": lambda x: sqrt_ball(arb(x)),
            "pow": lambda x, p: pow_ball(arb(x), p),
            "sign": _arb_sign,
            "step": _arb_step,
        }
        value = special[name] if name in special else (lambda x: getattr(arb(x), name)())
        setattr(self, name, value)  # found by ordinary lookup from now on
        return value


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


@dataclass(frozen=True)
class Target:
    """A function on a hypercube; ``formula(x, m)`` takes ``x`` with one row per coordinate.

    ``gradient(x, m)`` returns one entry per coordinate (needed, with a ball-arithmetic formula,
    for rigorous checks); ``continuous`` is True, False or None (unknown); ``numpy_only`` marks a
    formula that works on numpy arrays only; ``sollya`` is f in Sollya's syntax (exact constants)
    for the optional 1-D cross-check.
    """

    name: str
    domain: tuple[tuple[float, float], ...]
    formula: Callable
    gradient: Callable | None = None
    continuous: bool | None = True
    description: str = ""
    numpy_only: bool = field(default=False)
    sollya: str | None = None

    def __post_init__(self):
        if self.continuous not in (True, False, None):
            raise ValueError(f"target {self.name!r}: continuous must be True, False or None, got {self.continuous!r}")
        object.__setattr__(self, "domain", _parse_domain(self.domain))

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
    """The float as an exact rational constant in Sollya's syntax."""
    from proofs_check.balls import to_fmpq

    q = to_fmpq(v)
    return f"({q.p}/{q.q})"


def _sines_sollya(ks, phis) -> str:
    return " + ".join(f"sin(2 * pi * {_exact(k)} * x + {_exact(phi)})" for k, phi in zip(ks, phis))


_THIRD = 1 / 3  # the corner of "kink" (the float nearest 1/3)
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
            "kink",
            ((0.0, 1.0),),
            lambda x, m: m.abs(x[0] - _THIRD) + 0.5 * m.sin(3 * x[0]),
            lambda x, m: [m.sign(x[0] - _THIRD) + 1.5 * m.cos(3 * x[0])],
            description="|x - 1/3| + sin(3 x)/2: continuous, Lipschitz, a corner at 1/3",
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
            "osc3d",
            ((0.0, 1.0), (0.0, 1.0), (0.0, 1.0)),
            lambda x, m: m.sin(2 * m.pi * x[0]) * m.cos(2 * m.pi * x[1]) * m.sin(m.pi * x[2])
            + 0.5 * m.sin(2 * m.pi * (x[0] + x[1] + x[2])),
            lambda x, m: [
                2 * m.pi * m.cos(2 * m.pi * x[0]) * m.cos(2 * m.pi * x[1]) * m.sin(m.pi * x[2])
                + m.pi * m.cos(2 * m.pi * (x[0] + x[1] + x[2])),
                -2 * m.pi * m.sin(2 * m.pi * x[0]) * m.sin(2 * m.pi * x[1]) * m.sin(m.pi * x[2])
                + m.pi * m.cos(2 * m.pi * (x[0] + x[1] + x[2])),
                m.pi * m.sin(2 * m.pi * x[0]) * m.cos(2 * m.pi * x[1]) * m.cos(m.pi * x[2])
                + m.pi * m.cos(2 * m.pi * (x[0] + x[1] + x[2])),
            ],
            description="3-D oscillatory (smooth, all three coordinates)",
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


def get_target(name: str, domain=None) -> Target:
    """A built-in target by name, or a user target ``"module:name"``, on its domain or ``domain``.

    ``module.name`` is either a :class:`Target` (used as it is, with ``domain`` replacing its own
    when given) or a plain function of an (n, d) array returning n values: a numpy-only target
    of unknown continuity, which needs ``domain``.
    """
    if name in TARGETS:
        return TARGETS[name] if domain is None else replace(TARGETS[name], domain=_parse_domain(domain))
    if ":" not in name:
        raise ValueError(
            f"unknown target {name!r}: built-in targets are {', '.join(TARGETS)}, or give 'module:function'"
        )
    module, func = name.split(":", 1)
    try:
        fn = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot load user target {name!r}: {e}") from e
    if isinstance(fn, Target):
        return fn if domain is None else replace(fn, domain=_parse_domain(domain))
    if not callable(fn):
        raise ValueError(f"user target {name!r} is neither a Target nor callable")
    if domain is None:
        raise ValueError(f"user target {name!r} needs a domain, e.g. [[0, 1]]")
    return Target(name, _parse_domain(domain), lambda x, m: fn(np.asarray(x).T), continuous=None, numpy_only=True)


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
