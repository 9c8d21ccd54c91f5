"""Facts about the training points, recomputed from the weights and the regenerated samples.

What the fit recorded about its own samples (the pointwise excess ``|e_k| - |e_(k-1)|``, the
losses, ``max |e_(k-1)|``) is never read: it is recomputed here.  Grade k's samples ``X`` and
the target's float values ``y`` on them (the data the grade was fit to) are evaluated through
the certified point forms of :mod:`proofs_check.network` (the network at a float point, with a
rounding-error radius), so ``e_j(x) = y - G_j(x)`` is enclosed at every sample and the excess
``|e_k| - |e_(k-1)|`` with it.  Where that enclosure reaches above the C1_train tolerance
(``TRAIN_TOL max |e_(k-1)|``), the radius alone can decide nothing: a deep scheme whose grades
cancel large weights (theorem mode's kinks in pairs a thousandth of a spacing apart) has radii
of 1e-9 after 56 grades, above the tolerance where the true excess is 0.  Those points (at most
``EXACT_POINTS`` per grade) are evaluated again in exact rational arithmetic: the weights, the
sample and ``y`` are floats, so ``e_j(x)`` is an exact rational and so is the excess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from flint import arb, fmpq, fmpq_mat

from .balls import Enclosure, fmpq_matrix, lower_float, to_fmpq, upper_float
from .network import approximant_forms

__all__ = ["TrainingFacts", "training_facts", "TRAIN_TOL", "EXACT_POINTS"]

U = 2.0**-53
CHUNK = 2048
TRAIN_TOL = 1e-7  # relative to max |e_(k-1)| at the samples: what the solver's tolerances leave of monotone=True
EXACT_POINTS = 256  # per grade: the most samples whose excess is recomputed exactly


@dataclass(frozen=True)
class TrainingFacts:
    """Grade k on its own samples: the largest excess ``|e_k| - |e_(k-1)|`` (enclosed) and the losses."""

    grade: int
    n_samples: int
    excess: Enclosure  # of max_j (|e_k(x_j)| - |e_(k-1)(x_j)|)
    worst_point: list
    loss_before: float  # 0.5 mean e_(k-1)^2 (float)
    loss_after: float  # 0.5 mean e_k^2
    max_abs_before: float  # max |e_(k-1)| (float)

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("grade", "n_samples", "loss_before", "loss_after", "max_abs_before")}
        return {**out, "excess": self.excess.to_dict(), "worst_point": self.worst_point}


def _residuals(layers, X: np.ndarray, y: np.ndarray, k: int):
    """``(e_(k-1), e_k)`` at the points: midpoints and error bounds (rounded up), vectorised in chunks."""
    mids, errs = {k - 1: [], k: []}, {k - 1: [], k: []}
    for start in range(0, len(X), CHUNK):
        Xc, yc = X[start : start + CHUNK], y[start : start + CHUNK]
        forms, _, _ = approximant_forms(layers, Xc, Xc, {k - 1, k})
        for j in (k - 1, k):
            e = yc - forms[j].b[:, 0]
            mids[j].append(e)
            errs[j].append((forms[j].r[:, 0] + 2 * U * np.abs(e)) * (1 + 4 * U))
    return [(np.concatenate(mids[j]), np.concatenate(errs[j])) for j in (k - 1, k)]


class _ExactNetwork:
    """The scheme's weights as exact rationals, for :meth:`residuals` at a float point."""

    def __init__(self, layers):
        self.hidden = [fmpq_matrix(layer.hidden) for layer in layers]
        self.readout = [[to_fmpq(a) for a in layer.readout] for layer in layers]

    def residuals(self, x, y: float, k: int) -> tuple[fmpq, fmpq]:
        """``(e_(k-1)(x), e_k(x))`` exactly, ``e_j = y - G_j``."""
        z, total, before = [to_fmpq(v) for v in x], fmpq(0), fmpq(0)
        for j in range(k):
            pre = fmpq_mat(1, len(z) + 1, [*z, fmpq(1)]) * self.hidden[j]
            z = [max(pre[0, i], fmpq(0)) for i in range(pre.ncols())]
            before, total = total, total + sum((zi * a for zi, a in zip(z, self.readout[j])), fmpq(0))
        y = to_fmpq(y)
        return y - before, y - total


def _refine(exact: _ExactNetwork, X, y, k: int, low, high, above: float) -> None:
    """Exact excesses (in place, as float enclosures) at the points whose upper end exceeds ``above``."""
    todo = np.flatnonzero(high > above)
    for i in todo[np.argsort(-high[todo])][:EXACT_POINTS]:
        e0, e1 = exact.residuals(X[i], y[i], k)
        v = arb(abs(e1) - abs(e0))
        low[i], high[i] = lower_float(v), upper_float(v)


def training_facts(scheme) -> list[TrainingFacts] | None:
    """Per grade, the recomputed facts on its samples; None when the scheme carries no samples."""
    if scheme.samples is None:
        return None
    out, exact = [], None
    for k, (X, y) in enumerate(scheme.samples, start=1):
        (e0, r0), (e1, r1) = _residuals(scheme.layers, X, y, k)
        a0, a1 = np.abs(e0), np.abs(e1)
        slack = (r0 + r1 + 4 * U * (a0 + a1)) * (1 + 4 * U)
        low, high = (a1 - a0) - slack, (a1 - a0) + slack
        finite = np.all(np.isfinite(low)) and np.all(np.isfinite(high))
        if finite and len(X) and np.max(high) > TRAIN_TOL * np.max(a0):
            exact = exact or _ExactNetwork(scheme.layers)
            _refine(exact, np.asarray(X, float), np.asarray(y, float), k, low, high, TRAIN_TOL * np.max(a0))
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            excess = Enclosure.unbounded("the network overflows float64 at some training point")
        else:
            excess = Enclosure.of(float(np.max(low)), float(np.max(high)))
        j = int(np.argmax(high)) if len(X) else 0
        out.append(
            TrainingFacts(
                grade=k,
                n_samples=len(X),
                excess=excess,
                worst_point=np.asarray(X[j], float).tolist() if len(X) else [],
                loss_before=float(0.5 * np.mean(e0**2)),
                loss_after=float(0.5 * np.mean(e1**2)),
                max_abs_before=float(np.max(a0)) if len(X) else math.nan,
            )
        )
    return out
