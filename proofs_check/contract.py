"""What proofs_check reads of a trained scheme and of a target, as types.

A scheme is its layers (the weights: everything the checks recompute from), its domain, and
optionally what the fit recorded about each grade and the samples each grade was fit on:

* :class:`Layer`: one grade's weights, ``hidden`` (q x W, bias row last) and ``readout`` (W).
  Grade k maps ``z_(k-1)`` (``z_0 = x``) to ``z_k = relu([z_(k-1), 1] hidden)`` and adds
  ``z_k . readout`` to the approximant.
* :class:`GradeRecord`: the fields of a grade's record that the checks read.  Only what cannot
  be recomputed from the weights is taken from it: the solver's status and its own gap, whether
  the width cap bound, the pattern set, and the grade problem's ``beta``.
* :class:`Scheme`: layers, domain, records (None: the claims that need them are "not run"),
  samples (None: nothing is recomputed on training points), and optionally its
  :class:`Provenance`: the name of the target the grades were fit to and, per grade, a
  fingerprint of the values they were fit to.
* :class:`TargetLike`: what a target must offer (``mgdl_convex.targets.Target`` is one).

:func:`scheme_from_model` turns a fitted estimator's public attributes into a :class:`Scheme`,
duck-typed: this package imports nothing of the trainer.

Which target the records belong to: :mod:`proofs_check.provenance`.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Protocol, runtime_checkable

import numpy as np

from .provenance import Provenance, provenance_of

__all__ = [
    "Layer",
    "GradeRecord",
    "Scheme",
    "TargetLike",
    "scheme_from_model",
]


@dataclass(frozen=True)
class Layer:
    """One grade's weights: ``hidden`` (q x W, bias row last) and ``readout`` (W,)."""

    hidden: np.ndarray
    readout: np.ndarray

    def __post_init__(self):
        H = np.array(self.hidden, dtype=float)
        a = np.array(self.readout, dtype=float).reshape(-1)
        if H.ndim != 2 or H.shape[0] < 2 or H.shape[1] != a.size:
            raise ValueError(
                f"a layer needs hidden (q x W, q >= 2, bias row last) and readout (W,), got shapes "
                f"{np.shape(self.hidden)} and {np.shape(self.readout)}"
            )
        if not (np.all(np.isfinite(H)) and np.all(np.isfinite(a))):
            raise ValueError("a layer's weights contain NaN or inf")
        H.setflags(write=False)
        a.setflags(write=False)
        object.__setattr__(self, "hidden", H)
        object.__setattr__(self, "readout", a)

    @property
    def n_inputs(self) -> int:
        """q - 1: the width of the grade's input (without the bias)."""
        return self.hidden.shape[0] - 1

    @property
    def width(self) -> int:
        return self.readout.size


@dataclass(frozen=True)
class GradeRecord:
    """What the fit recorded about one grade, as far as the checks read it.

    Built as given; :meth:`validate` (run by :class:`Scheme`) refuses a record the checks cannot use.
    """

    grade: int
    n_samples: int
    width: int
    beta: float  # the grade problem's regularisation: part of the problem, not of its solution
    status: str  # solver-trusted
    relative_gap: float  # the solver's certificate (solver-trusted)
    gap: float
    recovery_gap: float  # convex prediction vs network on the samples (solver-trusted)
    capped: bool
    patterns_complete: bool
    certificate_scope: str
    loss_after: float  # shown beside the recomputed loss
    time_total: float

    @classmethod
    def of(cls, record) -> GradeRecord:
        """From a mapping or an object with these attributes (extra fields are ignored)."""
        get = record.get if isinstance(record, dict) else lambda k, d=None: getattr(record, k, d)
        values = {}
        for f in fields(cls):
            v = get(f.name, None)
            if v is None:
                raise ValueError(f"grade record {get('grade', '?')} lacks the field {f.name!r}")
            values[f.name] = v
        return cls(**values)

    def validate(self) -> GradeRecord:
        """This record, or a ValueError naming what is wrong with it.

        ``beta`` must be finite and > 0: with beta <= 0 the grade problem has no optimum (a pair of
        neurons that cancel each other lowers the objective without bound), so no gap means anything.
        """
        beta = self.beta
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not (math.isfinite(beta) and beta > 0):
            raise ValueError(
                f"grade record {self.grade}: beta must be a finite number > 0 (the grade problem's "
                f"regularisation), got {beta!r}; the record is damaged or was edited"
            )
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@runtime_checkable
class TargetLike(Protocol):
    """What the checks need of a target.

    ``continuous``: True, False or None (unknown: C2 is then at best inconclusive).
    ``rigorous``: True when ``arb`` and ``arb_gradient`` give ball enclosures of f and of its
    gradient over boxes (python-flint balls, one per coordinate); the checks are rigorous then.
    An optional ``sollya`` attribute (f in Sollya's syntax) enables the 1-D cross-check.
    """

    name: str
    domain: tuple
    continuous: bool | None

    @property
    def rigorous(self) -> bool: ...

    def __call__(self, X: np.ndarray) -> np.ndarray: ...

    def arb(self, *xs): ...

    def arb_gradient(self, *xs): ...


@dataclass(frozen=True)
class Scheme:
    """A trained scheme: layers, domain (d x 2), and optionally records and per-grade samples."""

    layers: tuple[Layer, ...]
    domain: np.ndarray
    records: tuple[GradeRecord, ...] | None = None
    samples: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None  # per grade: (X, f(X))
    monotone: bool = False  # the grades were fit with the pointwise-monotone constraints
    provenance: Provenance | None = None  # the target the grades were fit to (None: taken at its word)
    why_no_records: str = ""  # when records is None: why (shown by the claims that need them)

    def __post_init__(self):
        layers = tuple(x if isinstance(x, Layer) else Layer(x.hidden, x.readout) for x in self.layers)
        domain = np.array(self.domain, dtype=float)
        if domain.ndim != 2 or domain.shape[1] != 2 or not np.all(domain[:, 0] < domain[:, 1]):
            raise ValueError(f"the domain must be d x 2 with lo < hi per row, got {self.domain!r}")
        if not np.all(np.isfinite(domain)):
            raise ValueError(f"the domain must be a bounded box (finite ends), got {self.domain!r}")
        q = domain.shape[0]
        for k, layer in enumerate(layers, start=1):
            if layer.n_inputs != q:
                raise ValueError(f"grade {k} takes {layer.n_inputs} inputs, the grade before it gives {q}")
            q = layer.width
        records = self.records
        if records is not None:
            records = tuple((r if isinstance(r, GradeRecord) else GradeRecord.of(r)).validate() for r in records)
            if len(records) != len(layers):
                raise ValueError(f"{len(records)} grade records for {len(layers)} grades")
        samples = self.samples
        if samples is not None:
            samples = tuple(_sample_set(k, X, y, domain.shape[0]) for k, (X, y) in enumerate(samples, start=1))
            if len(samples) != len(layers):
                raise ValueError(f"{len(samples)} sample sets for {len(layers)} grades")
        if self.provenance is not None and not isinstance(self.provenance, Provenance):
            raise TypeError(f"provenance must be a proofs_check.Provenance, got {type(self.provenance).__name__}")
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "domain", domain)
        object.__setattr__(self, "records", records)
        object.__setattr__(self, "samples", samples)

    @property
    def dimension(self) -> int:
        return self.domain.shape[0]

    @property
    def no_records_reason(self) -> str:
        return self.why_no_records or "the scheme has no grade records (status, gap, beta of each grade problem)"

    @property
    def n_grades(self) -> int:
        return len(self.layers)


def _sample_set(k: int, X, y, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Grade k's samples as float arrays ``X`` (n x d, n >= 1) and ``y`` (n,), finite; else a ValueError."""
    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 and d == 1 else X
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[1] != d or X.shape[0] < 1 or y.shape != (X.shape[0],):
        raise ValueError(
            f"grade {k}'s samples must be X (n x {d}, n >= 1, one column per coordinate of the domain) and "
            f"y (n,), got shapes {np.shape(X)} and {np.shape(y)}"
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError(f"grade {k}'s samples contain NaN or inf (in X or in the target's values y)")
    return X, y


def _records_of(model) -> tuple[tuple[GradeRecord, ...] | None, str]:
    """The model's grade records, validated; or None and why (a damaged or edited model file)."""
    try:
        return tuple(GradeRecord.of(g).validate() for g in model.grades_), ""
    except ValueError as e:
        return None, f"a grade record is unusable ({e})"


def scheme_from_model(model, target=None, sampling: str = "grid") -> Scheme:
    """The :class:`Scheme` of a fitted multigrade estimator (duck-typed, public attributes only).

    Reads ``layers_``, ``domain_``, ``grades_``, ``monotone`` (or ``guarantee == "pointwise"``: the
    grades were fit with extra constraints too) and, when the samples can be
    regenerated, ``training_samples(target, sampling)``: grade k's samples and ``target`` on them.
    ``sampling`` matters only for model files that do not record how they were sampled.  The
    model's domain must be the target's: checking a scheme on another domain proves nothing.
    ``target_name_`` and ``target_fingerprints_`` become the scheme's :class:`Provenance`; a grade
    record that fails :meth:`GradeRecord.validate` leaves the scheme without records, with the reason.
    """
    target = target if target is not None else getattr(model, "target_", None)
    domain = np.asarray(model.domain_, dtype=float)
    if target is not None and not np.array_equal(domain, np.asarray(target.domain, dtype=float)):
        raise ValueError(
            f"the model's domain {domain.tolist()} is not the domain {[list(r) for r in target.domain]} of "
            f"target {target.name!r}: check it against the target it was fit on (or give the target that domain)"
        )
    samples = None
    if target is not None and model.grades_:
        drawn = model.training_samples(target, sampling)
        samples = None if drawn is None else tuple((X, target(X)) for X in drawn)
    constrained = bool(model.monotone) or getattr(model, "guarantee", "none") == "pointwise"
    records, why = _records_of(model)
    return Scheme(tuple(model.layers_), domain, records, samples, constrained, provenance_of(model), why)

