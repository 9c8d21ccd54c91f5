"""The multigrade network: frozen grades stacked, outputs summed (docs/theory.md, section 1).

Grade k maps the features ``z_{k-1}`` (``z_0 = x``) to ``z_k = relu([z_{k-1}, 1] H_k)``
and contributes ``g_k = z_k a_k``; the model after K grades is ``g_1 + ... + g_K``.

With carried input the last d columns of every ``H_k`` pass x through:
grade 1 uses ``relu(x_i - lo_i) = x_i - lo_i`` on Omega (weight e_i, bias -lo_i),
later grades the identity on those channels; their read-out weights are 0.
This is also the protocol ``proofs_check`` reads: ``hidden`` and ``readout``
per grade, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GradeLayer", "carry_columns", "forward"]


@dataclass(frozen=True)
class GradeLayer:
    """One grade's frozen weights, ``x -> relu([z, 1] @ hidden) @ readout``: ``hidden`` (q x W,
    bias row last) and ``readout`` (W,)."""

    hidden: np.ndarray
    readout: np.ndarray

    @property
    def width(self) -> int:
        return int(self.readout.size)

    def features(self, Zb: np.ndarray) -> np.ndarray:
        """The layer's hidden features on its input rows ``Zb = [z, 1]``."""
        return np.maximum(Zb @ self.hidden, 0.0)

    def __call__(self, Zb: np.ndarray) -> np.ndarray:
        return self.features(Zb) @ self.readout

    def penalty(self) -> float:
        """Weight decay ``sum_j (||u_j||^2 + a_j^2) / 2``."""
        return float(((self.hidden**2).sum(axis=0) + self.readout**2).sum() / 2)


def carry_columns(q: int, d: int, lower: np.ndarray | None) -> np.ndarray:
    """Hidden columns that carry x: the last d inputs (grade 1: minus ``lower``)."""
    H = np.zeros((q, d))
    H[q - 1 - d : q - 1, :] = np.eye(d)
    if lower is not None:
        H[q - 1, :] = -np.asarray(lower)
    return H


def forward(X: np.ndarray, layers: list[GradeLayer]):
    """Yield ``(Zb, z, g)`` per grade: its input with bias column, its features, its output."""
    Z = np.asarray(X, dtype=float)
    for layer in layers:
        Zb = np.column_stack([Z, np.ones(Z.shape[0])])
        Z = layer.features(Zb)
        yield Zb, Z, Z @ layer.readout
