"""``MultigradeRegressor``: multigrade learning with every grade an exact convex program.

scikit-learn conventions, duck-typed: ``__init__`` stores parameters, ``fit``
validates and returns ``self``, fitted state ends in ``_``; ``predict``,
``staged_predict`` (the approximant after each grade), ``grades_`` (one
:class:`~mgdl_convex.grade.GradeResult` per grade) and a ``monitor`` callback
(``monitor(k, result, model)`` returning True stops the run), as in gradient
boosting, the structural twin of multigrade learning.

Two ways to fit:

* ``fit(X, y)``: a data set; every grade sees the same samples.
* ``fit_target(target, samples=[...])``: approximation of a target on its
  hypercube; grade k is fit on its own (finer) sample, so the scheme can keep
  improving on Omega once a coarse sample is exhausted (THEORY 4, "Stall").

Each grade is :func:`mgdl_convex.grade.fit_grade` on the frozen features of
the previous grades; the network itself is :mod:`mgdl_convex.network`.
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable, Iterator

import numpy as np

from .cones import sample_orders
from .grade import GradeResult, GradeSettings, fit_grade
from .network import GradeLayer, carry_columns, forward
from .solvers import SolverError, check_solver
from .targets import Target, sample_grid, sample_uniform

logger = logging.getLogger(__name__)

__all__ = ["MultigradeRegressor"]

FORMULATIONS = ("working_set", "direct")


def _check_array(X, y=None):
    X = np.asarray(X, dtype=float) if not isinstance(X, np.ndarray) else X.astype(float, copy=False)
    if X.ndim == 1:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features), got a 1-D array of shape {X.shape}; use X.reshape(-1, 1)"
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X is empty (shape {X.shape}): need at least 2 samples and 1 feature")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    if y is None:
        return X
    y = np.asarray(y, dtype=float)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (n_samples,), got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y have different numbers of samples: {X.shape[0]} and {y.shape[0]}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf")
    if X.shape[0] < 2:
        raise ValueError(f"need at least 2 samples, got {X.shape[0]}")
    if np.unique(X, axis=0).shape[0] < X.shape[0]:
        raise ValueError("X contains duplicate sample points; remove them (or average their targets)")
    return X, y


def _draw_samples(target: Target, n: int, sampling: str, rng: np.random.Generator) -> np.ndarray:
    """Grade samples of ``fit_target``: a grid, or the first draw of the grade's generator."""
    return sample_grid(target, n) if sampling == "grid" else sample_uniform(target, n, rng)


class MultigradeRegressor:
    """Multigrade ReLU regression, each grade solved exactly as a convex program.

    Parameters
    ----------
    n_grades : int, the most grades to fit.
    width : int, fixed width W; with ``carry_input`` W includes the d carry channels,
        so each grade has at most ``W - d`` trained neurons.
    carry_input : bool, pass x through every grade (THEORY section 1).
    beta : float, absolute group-lasso weight (exclusive with ``beta_ratio``).
    beta_ratio : float in (0, 1), ``beta_k = beta_ratio * kappa_S(e_{k-1})``
        (default 1e-4 when ``beta`` is not given:
        small, so that capped grades fit closely; every grade is still non-trivial).
    monotone : bool, constrain ``|e_k| <= rho |e_{k-1}|`` on the training points.
    contraction : float in (0, 1], the rho of ``monotone`` (default 1).  rho < 1 asks
        every point to improve by that factor and can make a grade infeasible.
    patterns : "auto" (enumerate all where the grade input is 1-D or 2-D), "all", "sampled".
    n_patterns : int, gates sampled per grade when sampling.
    solver : "CLARABEL" (default), "SCS", "ECOS" or "MOSEK".
    solver_options : dict passed to the solver.
    formulation : "working_set" (default, exact, fast) or "direct" (the whole program).
    tol : float, stop once the training loss 0.5*MSE is at most ``tol``.
    grade_time_limit : float or None, seconds allowed per grade (see :mod:`mgdl_convex.faults`).
    warm_start : bool, keep the grades already fitted and add grades up to ``n_grades``
        (how an interrupted run resumes: the seed of grade k depends on k only, so a
        resumed run ends exactly where an uninterrupted one does).
    random_state : int or None.
    verbose : bool, one line per grade on the logger ``mgdl_convex``.
    monitor : callable ``(k, result, model) -> bool`` or None; True stops.
    """

    def __init__(
        self,
        n_grades: int = 4,
        width: int = 32,
        carry_input: bool = False,
        beta: float | None = None,
        beta_ratio: float | None = None,
        monotone: bool = False,
        contraction: float = 1.0,
        patterns: str = "auto",
        n_patterns: int = 256,
        solver: str = "CLARABEL",
        solver_options: dict | None = None,
        formulation: str = "working_set",
        tol: float = 0.0,
        grade_time_limit: float | None = None,
        warm_start: bool = False,
        random_state: int | None = 0,
        verbose: bool = False,
        monitor: Callable | None = None,
    ):
        self.n_grades = n_grades
        self.width = width
        self.carry_input = carry_input
        self.beta = beta
        self.beta_ratio = beta_ratio
        self.monotone = monotone
        self.contraction = contraction
        self.patterns = patterns
        self.n_patterns = n_patterns
        self.solver = solver
        self.solver_options = solver_options
        self.formulation = formulation
        self.tol = tol
        self.grade_time_limit = grade_time_limit
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.monitor = monitor

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in self.__init__.__code__.co_varnames[1 : self.__init__.__code__.co_argcount]}

    def _settings(self, d: int) -> GradeSettings:
        def _int(name, low):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")

        _int("n_grades", 1)
        _int("width", 1)
        _int("n_patterns", 1)
        new_width = self.width - (d if self.carry_input else 0)
        if new_width < 1:
            raise ValueError(
                f"width={self.width} leaves no trainable neuron after {d} carry channels: use width >= {d + 1}"
            )
        if self.beta is not None and self.beta_ratio is not None:
            raise ValueError("give beta or beta_ratio, not both")
        beta_ratio = self.beta_ratio
        if self.beta is not None:
            if not (isinstance(self.beta, numbers.Real) and np.isfinite(self.beta) and self.beta > 0):
                raise ValueError(f"beta must be a positive finite number, got {self.beta!r}")
        else:
            beta_ratio = 1e-4 if beta_ratio is None else beta_ratio
            if not (isinstance(beta_ratio, numbers.Real) and 0 < beta_ratio < 1):
                raise ValueError(f"beta_ratio must lie in (0, 1), got {beta_ratio!r}")
        if not (isinstance(self.contraction, numbers.Real) and 0 < self.contraction <= 1):
            raise ValueError(f"contraction must lie in (0, 1], got {self.contraction!r}")
        if self.patterns not in ("auto", "all", "sampled"):
            raise ValueError(f"patterns must be 'auto', 'all' or 'sampled', got {self.patterns!r}")
        if self.formulation not in FORMULATIONS:
            raise ValueError(f"formulation must be one of {FORMULATIONS}, got {self.formulation!r}")
        if self.solver_options is not None and not isinstance(self.solver_options, dict):
            raise ValueError(f"solver_options must be a dict, got {type(self.solver_options).__name__}")
        if not (isinstance(self.tol, numbers.Real) and self.tol >= 0):
            raise ValueError(f"tol must be a non-negative number, got {self.tol!r}")
        limit = self.grade_time_limit
        if limit is not None and not (isinstance(limit, numbers.Real) and limit > 0):
            raise ValueError(f"grade_time_limit must be a positive number of seconds or None, got {limit!r}")
        return GradeSettings(
            width=new_width,
            beta=None if self.beta is None else float(self.beta),
            beta_ratio=None if self.beta is not None else float(beta_ratio),
            rho=float(self.contraction) if self.monotone else None,
            patterns=self.patterns,
            n_patterns=int(self.n_patterns),
            solver=check_solver(self.solver),
            solver_options=self.solver_options,
            formulation=self.formulation,
            time_limit=None if limit is None else float(limit),
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y) -> MultigradeRegressor:
        """Fit on a data set; ``Omega`` is taken to be the bounding box of X."""
        X, y = _check_array(X, y)
        domain = np.column_stack([X.min(axis=0), X.max(axis=0)])
        self.sampling_ = None  # a data set: its samples are not regenerable
        return self._fit(lambda k, rng: (X, y), domain, X.shape[1])

    def fit_target(self, target: Target, samples=1024, sampling: str = "grid") -> MultigradeRegressor:
        """Fit a target on its hypercube; ``samples`` is an int or one int per grade (last repeated)."""
        schedule = [samples] if isinstance(samples, numbers.Integral) else list(samples)
        if not schedule or any(not isinstance(s, numbers.Integral) or s < 2 for s in schedule):
            raise ValueError(f"samples must be an integer >= 2 or a non-empty list of them, got {samples!r}")
        if sampling not in ("grid", "random"):
            raise ValueError(f"sampling must be 'grid' or 'random', got {sampling!r}")

        def provider(k, rng):
            X = _draw_samples(target, schedule[min(k, len(schedule) - 1)], sampling, rng)
            return X, target(X)

        self.target_ = target
        self.sampling_ = sampling
        return self._fit(provider, np.array(target.domain, dtype=float), target.dim)

    def training_samples(self, target: Target, sampling: str | None = None) -> list[np.ndarray] | None:
        """The samples each fitted grade of :meth:`fit_target` was fit on, regenerated exactly.

        Grid samples depend only on their count; random ones on ``random_state`` (grade k draws
        them first from the k-th child of ``SeedSequence(random_state)``).  ``sampling`` is used
        only for models that do not record theirs (files of older versions).  None when the
        samples cannot be regenerated: a model fit on a data set, or random samples without a
        seed.
        """
        self._check_fitted()
        sampling = getattr(self, "sampling_", sampling)
        if sampling not in ("grid", "random") or (sampling == "random" and self.random_state is None):
            return None
        seeds = np.random.SeedSequence(self.random_state).spawn(len(self.grades_))
        out = []
        for k, g in enumerate(self.grades_):
            X = _draw_samples(target, g.n_samples, sampling, np.random.default_rng(seeds[k]))
            if len(X) != g.n_samples:
                return None
            out.append(X)
        return out

    def _fit(self, provider, domain: np.ndarray, d: int) -> MultigradeRegressor:
        settings = self._settings(d)
        seeds = np.random.SeedSequence(self.random_state).spawn(self.n_grades)
        start = 0
        if self.warm_start and getattr(self, "layers_", None):
            if self.n_features_in_ != d or not np.array_equal(self.domain_, domain):
                raise ValueError("warm_start: the data's dimension or domain differs from the fitted grades'")
            start = len(self.layers_)
        else:
            self.layers_: list[GradeLayer] = []
            self.grades_: list[GradeResult] = []
        self.domain_ = domain
        self.n_features_in_ = d
        self.stop_reason_ = f"reached n_grades={self.n_grades}"
        for k in range(start, self.n_grades):
            rng = np.random.default_rng(seeds[k])
            X, y = provider(k, rng)
            if X.shape[1] != d:
                raise ValueError(f"grade {k + 1} samples have {X.shape[1]} features, expected {d}")
            Zb, e = self._grade_input(X, y)
            if not np.any(e):
                self.stop_reason_ = f"zero residual before grade {k + 1}: nothing left to fit"
                break
            order = sample_orders(X)
            try:
                layer, result = fit_grade(k + 1, Zb, e, settings, rng, order)
            except (SolverError, MemoryError) as err:
                self.stop_reason_ = f"grade {k + 1} failed: {err}"
                logger.error("%s; the %d finished grade(s) are kept", self.stop_reason_, len(self.layers_))
                raise
            if result.trivial:
                self.stop_reason_ = (
                    f"grade {k + 1} is trivial: kappa(e) = {result.kappa_before:.3e} <= beta = {result.beta:.3e}"
                )
                break
            self._append(layer, Zb.shape[1], d)
            self.grades_.append(result)
            self._report(result)
            if self.monitor is not None and self.monitor(k + 1, result, self):
                self.stop_reason_ = f"monitor stopped after grade {k + 1}"
                break
            if result.loss_after <= self.tol:
                self.stop_reason_ = f"training loss {result.loss_after:.3e} <= tol after grade {k + 1}"
                break
        logger.info("stopped: %s", self.stop_reason_)
        return self

    def _grade_input(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frozen input of the next grade on X, and the residual there."""
        Zb, e = np.column_stack([X, np.ones(X.shape[0])]), y.copy()
        for _, Z, g in forward(X, self.layers_):
            e -= g
            Zb = np.column_stack([Z, np.ones(Z.shape[0])])
        return Zb, e

    def _append(self, layer, q: int, d: int) -> None:
        hidden, readout = layer.hidden, layer.readout
        if self.carry_input:
            lower = self.domain_[:, 0] if not self.layers_ else None
            hidden = np.hstack([hidden, carry_columns(q, d, lower)])
            readout = np.concatenate([readout, np.zeros(d)])
        self.layers_.append(GradeLayer(hidden=hidden, readout=readout))

    def _report(self, r: GradeResult) -> None:
        line = (
            f"grade {r.grade}: width {r.width}, {r.n_patterns} patterns{' (all)' if r.patterns_complete else ''}, "
            f"beta {r.beta:.2e}, {r.status}, 0.5*MSE {r.loss_before:.3e} -> {r.loss_after:.3e}, "
            f"rel. gap {r.relative_gap:.1e}, {r.time_total:.1f} s"
        )
        if self.verbose:
            print(line, flush=True)
        else:
            logger.info(line)

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "layers_"):
            raise RuntimeError("this MultigradeRegressor is not fitted yet: call fit or fit_target first")

    def staged_predict(self, X) -> Iterator[np.ndarray]:
        """The approximant ``g_1 + ... + g_k`` on X for k = 1, 2, ..."""
        self._check_fitted()
        X = _check_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, the model was fit on {self.n_features_in_}")
        total = np.zeros(X.shape[0])
        for _, _, g in forward(X, self.layers_):
            total = total + g
            yield total

    def predict(self, X) -> np.ndarray:
        """The approximant after all grades (zeros if no grade was kept)."""
        stages = list(self.staged_predict(X))
        return stages[-1] if stages else np.zeros(_check_array(X).shape[0])

    @property
    def n_grades_(self) -> int:
        self._check_fitted()
        return len(self.layers_)

    def summary(self) -> list[dict]:
        """Per-grade results as rows of scalars."""
        self._check_fitted()
        return [g.to_dict() for g in self.grades_]

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> None:
        """Write the fitted model to ``path`` (a .npz with a JSON header; no pickle)."""
        from .io import save_model

        save_model(self, path)

    @classmethod
    def load(cls, path) -> MultigradeRegressor:
        from .io import load_model

        return load_model(path)
