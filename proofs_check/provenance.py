"""Which target a scheme's records belong to: what the fit recorded, compared with a check's target.

A grade record (its ``beta``, its status) and a
grade's samples describe the grade problem of the function the grade was fit to.  Checked
against another function, the claims that read them (C1 on training points, C4) would judge
the grade against a problem it never had.  So a scheme may carry its :class:`Provenance`, and
:func:`provenance_mismatch` compares it with the target of a check: the target's name, and a
:func:`target_fingerprint` of the samples' values (a few weighted means, compared to 1e-9 of
their scale: robust to the last-ulp differences of ``sin`` between platforms, not to a
different function).  A mismatch, or a fit that recorded no fingerprints (model files of older
versions), makes those two claims "not run" with the reason; C1, C2 and C3 read only the
weights and the target and are still checked.  A scheme built by hand without provenance is
taken at its word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Provenance", "target_fingerprint", "fingerprints_match", "provenance_mismatch", "provenance_of"]

FINGERPRINT_RTOL = 1e-9


def target_fingerprint(y) -> list[float]:
    """``[n, mean(y), rms(y), mean(w y)]`` of a grade's target values, ``w_j = cos(2.4 j)`` (fixed weights).

    Stored by the trainer per grade at fit time and compared by :func:`fingerprints_match`.
    """
    y = np.asarray(y, dtype=float).reshape(-1)
    n = y.size
    if n == 0:
        return [0.0, 0.0, 0.0, 0.0]
    w = np.cos(2.4 * np.arange(n))
    return [float(n), float(np.mean(y)), float(np.sqrt(np.mean(y * y))), float(np.mean(w * y))]


def fingerprints_match(recorded, regenerated) -> bool:
    """Same sample count, and every other entry within ``FINGERPRINT_RTOL`` of the larger rms (exact when 0)."""
    a, b = [float(v) for v in recorded], [float(v) for v in regenerated]
    if len(a) != 4 or len(b) != 4 or a[0] != b[0] or not all(math.isfinite(v) for v in a + b):
        return False
    tol = FINGERPRINT_RTOL * max(abs(a[2]), abs(b[2]))
    return all(abs(u - v) <= tol for u, v in zip(a[1:], b[1:]))


@dataclass(frozen=True)
class Provenance:
    """What a fit recorded about the function it was fit to.

    ``target``: its name (None: not recorded).  ``fingerprints``: per grade,
    :func:`target_fingerprint` of the values the grade was fit to (None: not recorded, as in model
    files of older versions).
    """

    target: str | None = None
    fingerprints: tuple | None = None

    def __post_init__(self):
        if self.fingerprints is not None:
            object.__setattr__(self, "fingerprints", tuple(tuple(float(v) for v in f) for f in self.fingerprints))

    def to_dict(self) -> dict:
        return {"target": self.target, "fingerprints": None if self.fingerprints is None else list(self.fingerprints)}


def provenance_mismatch(scheme, target) -> str:
    """Why the scheme's records and samples do not belong to ``target`` ("" when they do, or cannot be asked).

    Module docstring: the name must match, and each grade's samples' values must match the
    fingerprint recorded at fit time.  Asked only when the scheme carries a provenance and
    something that reads it (records or samples).
    """
    prov = scheme.provenance
    if prov is None or (scheme.records is None and scheme.samples is None):
        return ""
    name = getattr(target, "name", None)
    if prov.target is not None and prov.target != name:
        return f"the grades were fit to target {prov.target!r}, not {name!r}: their records describe another problem"
    if scheme.samples is None:
        return ""
    if prov.fingerprints is None or len(prov.fingerprints) != len(scheme.samples):
        return (
            f"the fit did not record the values it was fit to (a model file of an older version), so the samples "
            f"regenerated from target {name!r} cannot be shown to be the grades' own: re-fit to check this claim"
        )
    for k, ((_, y), recorded) in enumerate(zip(scheme.samples, prov.fingerprints), start=1):
        if not fingerprints_match(recorded, target_fingerprint(y)):
            return (
                f"target {name!r} does not give the values grade {k} was fit to at its regenerated samples (the "
                "target changed since the fit?): their records describe another problem"
            )
    return ""


def provenance_of(model) -> Provenance | None:
    """A fitted estimator's ``target_name_`` and ``target_fingerprints_`` (None: it records neither)."""
    if not (hasattr(model, "target_name_") or hasattr(model, "target_fingerprints_")):
        return None  # an estimator that records nothing of the kind: taken at its word
    fingerprints = getattr(model, "target_fingerprints_", None)
    return Provenance(getattr(model, "target_name_", None), None if fingerprints is None else tuple(fingerprints))
