"""Reference grade programs, the ones the benchmarks and tests are measured on.

:func:`feature_grade_program` is the baseline "direct formulation" program of the
benchmarks: features of a random ReLU layer on ``x = linspace(0, 1, n)``
(plus, optionally, the carried input ``x``), target
``sin(2 pi x) + 0.3 sin(20 pi x)``, patterns of Gaussian gates on ``[Z, 1]``,
de-duplicated and cut to the first ``P``.  It is a later grade of a 1-D
scheme: the samples lie along a curve, so the row reduction applies.
"""

from __future__ import annotations

import numpy as np

from .patterns import _unique_columns
from .program import GradeProgram

__all__ = ["feature_grade_program", "first_grade_program"]


def _target(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x) + 0.3 * np.sin(20 * np.pi * x)


def feature_grade_program(
    n: int = 1024,
    width: int = 32,
    n_patterns: int = 230,
    beta: float = 1e-4,
    carry_input: bool = True,
    random_state: int = 0,
) -> tuple[GradeProgram, np.ndarray]:
    """A grade on the features of a random ReLU layer; returns (program, x)."""
    rng = np.random.default_rng(random_state)
    x = np.linspace(0.0, 1.0, n)
    w = rng.standard_normal(width)
    breaks = rng.uniform(0.0, 1.0, width)
    Z = np.maximum(x[:, None] * w[None, :] - breaks * w, 0.0)
    if carry_input:
        Z = np.column_stack([Z, x])
    Zb = np.column_stack([Z, np.ones(n)])
    gates = rng.standard_normal((Zb.shape[1], 4 * n_patterns))
    D = Zb @ gates >= 0
    D = D[:, _unique_columns(D)[:n_patterns]]
    return GradeProgram(Zb=Zb, e=_target(x), D=D, beta=beta), x


def first_grade_program(n: int = 256, beta: float = 1e-4) -> tuple[GradeProgram, np.ndarray]:
    """A first grade on 1-D x with every pattern enumerated; returns (program, x)."""
    from .patterns import enumerate_patterns

    x = np.linspace(0.0, 1.0, n)
    Zb = np.column_stack([x, np.ones(n)])
    return GradeProgram(Zb=Zb, e=_target(x), D=enumerate_patterns(Zb).D, beta=beta), x
