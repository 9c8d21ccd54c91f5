"""``MultigradeRegressor``: multigrade learning with every grade an exact convex program.

scikit-learn conventions, duck-typed: ``__init__`` stores parameters, ``fit``
validates and returns ``self``, fitted state ends in ``_``; ``predict``,
``staged_predict`` (the approximant after each grade), ``score`` (R^2), ``grades_`` (one
:class:`~mgdl_convex.grade.GradeResult` per grade), ``get_params`` / ``set_params`` (so
``sklearn.base.clone``, ``cross_val_score`` and ``GridSearchCV`` work) and a ``monitor``
callback passed to ``fit`` (``monitor(k, result, model)`` returning True stops the run), as
in gradient boosting, the structural twin of multigrade learning.

Two ways to fit:

* ``fit(X, y)``: a data set; every grade sees the same samples.
* ``fit_target(target, samples=[...])``: approximation of a target on its
  hypercube; grade k is fit on its own (finer) sample, so the scheme can keep
  improving on Omega once a coarse sample is exhausted (with a fixed sample and
  beta the scheme stalls once no grade can lower the loss by more than beta allows).

Each grade is :func:`mgdl_convex.grade.fit_grade` on the frozen features of
the previous grades; the network itself is :mod:`mgdl_convex.network`.
"""

from __future__ import annotations

import inspect
import logging
import numbers
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import scipy.sparse

from proofs_check.provenance import target_fingerprint

from .cones import sample_orders
from .grade import GradeResult, GradeSettings, fit_grade
from .io import load_model, save_model
from .network import GradeLayer, carry_columns, forward
from .options import DEFAULT_BETA_RATIO, PARAMS, POINTWISE_BETA_RATIO, OptionError, check_params
from .pointwise import PointwiseOptions, fit_pointwise_grade
from .progress import emit
from .solvers import SolverError, check_solver
from .targets import Target, sample_grid, sample_uniform

logger = logging.getLogger(__name__)

__all__ = ["MultigradeRegressor", "NotFittedError"]


def _check_array(X, y=None):
    """X as a finite 2-D float array (and y as a finite 1-D one); ValueError / TypeError saying what is wrong.

    The messages contain the phrases scikit-learn's common checks look for ("Reshape your data",
    "0 feature(s)", "1 sample", "sparse").
    """
    if scipy.sparse.issparse(X):
        raise TypeError("sparse input is not supported: pass a dense array (X.toarray())")
    X = np.asarray(X)
    if np.iscomplexobj(X):
        raise ValueError("Complex data not supported: X must be real")
    X = X.astype(float, copy=False)
    if X.ndim == 1:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features), got a 1-D array of shape {X.shape}: "
            "Reshape your data with X.reshape(-1, 1) (one feature) or X.reshape(1, -1) (one sample)"
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        what = "0 sample(s)" if X.shape[0] == 0 else "0 feature(s)"
        raise ValueError(f"X is empty: {what} (shape={X.shape}) while a minimum of 1 is required.")
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
        raise ValueError(f"need at least 2 samples, got {X.shape[0]} sample")
    if np.unique(X, axis=0).shape[0] < X.shape[0]:
        raise ValueError("X contains duplicate sample points; remove them (or average their targets)")
    return X, y


def _draw_samples(target: Target, n: int, sampling: str, rng: np.random.Generator) -> np.ndarray:
    """Grade samples of ``fit_target``: a grid, or the first draw of the grade's generator."""
    return sample_grid(target, n) if sampling == "grid" else sample_uniform(target, n, rng)


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit`` (as scikit-learn's, whose checks expect it)."""


_DEFAULT = {name: option.default for name, option in PARAMS.items()}


class MultigradeRegressor:
    """Multigrade ReLU regression, each grade solved exactly as a convex program.

    The parameters, their allowed values and defaults are declared once, in
    :data:`mgdl_convex.options.OPTIONS` (shared with the command line and sweep specs), and
    checked when ``fit`` starts; ``__init__`` only stores them.

    Parameters
    ----------
    n_grades : int, the most grades to fit.
    width : int, fixed width W; with ``carry_input`` W includes the d carry channels,
        so each grade has at most ``W - d`` trained neurons.
    carry_input : bool, default True.  Pass x through every grade on d of the W channels
        (``relu(x - lo) = x - lo`` on the domain).  The default everywhere (estimator and
        command line) because a plain feature stack can lose information about x for good
        (a neuron that is dead on a region makes that region indistinguishable to every
        later grade), while a carried input keeps x available to every later grade; it
        costs d of the W channels.  Set False for the classic MGDL stack.
    beta : float, absolute group-lasso weight (exclusive with ``beta_ratio``).
    beta_ratio : float in (0, 1), ``beta_k = beta_ratio * kappa_S(e_{k-1})``
        (default 1e-4 when ``beta`` is not given, 1e-7 with ``guarantee="pointwise"``, whose bounds
        make the useful betas smaller:
        small, so that capped grades fit closely; every grade is still non-trivial).
    monotone : bool, constrain ``|e_k| <= rho |e_{k-1}|`` on the training points.
    contraction : float in (0, 1], the rho of ``monotone`` (default 1).  rho < 1 asks
        every point to improve by that factor and can make a grade infeasible.
    patterns : "auto" (enumerate all where the grade input is 1-D or 2-D), "all", "sampled".
    n_patterns : int, gates sampled per grade when sampling.
    solver : "CLARABEL" (default), "SCS", "ECOS" or "MOSEK".
    solver_options : dict passed to the solver.
    formulation : "working_set" (default, exact, fast) or "direct" (the whole program).
    guarantee : "none" (default) or "pointwise": theorem mode, every grade satisfies
        ``|e_k(x)| <= |e_(k-1)(x)|`` for every x of the domain, proved by proofs_check's rigorous
        search (1-D targets, :meth:`fit_target` only; :mod:`mgdl_convex.pointwise`).
    c1_rounds : int, theorem mode's budget of separation rounds per grade (then the grade falls
        back to the zero grade, and the run stops, saying so).
    eps : float or None: run to eps (with :meth:`fit_target`): grades are added until the certified
        ``sup |e_K| <= eps sup |f|`` (proofs_check's enclosures: rigorous in 1-D and 2-D,
        a grid maximum beyond), at most ``n_grades``; each grade records its certified sup.
    width_mode : "exact" (default): each grade's beta is the smallest on the regularisation
        path, down to the floor ``beta`` / ``beta_ratio``, whose exact optimum has at most
        W neurons (:mod:`mgdl_convex.path`); "greedy": beta is the floor and the working set
        is capped at W blocks (exact over the kept blocks only).
    tol : float, stop once the training loss 0.5*MSE is at most ``tol``.
    grade_time_limit : float or None, seconds allowed per grade (see :mod:`mgdl_convex.faults`).
    warm_start : bool, keep the grades already fitted and add grades up to ``n_grades``
        (how an interrupted run resumes: the seed of grade k depends on k only, so a
        resumed run ends exactly where an uninterrupted one does).
    random_state : int or None.
    verbose : bool, print one line per grade (otherwise the line goes to the logger
        ``mgdl_convex.model`` at level INFO).
    """

    def __init__(
        self,
        n_grades: int = _DEFAULT["n_grades"],
        width: int = _DEFAULT["width"],
        carry_input: bool = _DEFAULT["carry_input"],
        beta: float | None = _DEFAULT["beta"],
        beta_ratio: float | None = _DEFAULT["beta_ratio"],
        monotone: bool = _DEFAULT["monotone"],
        contraction: float = _DEFAULT["contraction"],
        patterns: str = _DEFAULT["patterns"],
        n_patterns: int = _DEFAULT["n_patterns"],
        solver: str = _DEFAULT["solver"],
        solver_options: dict | None = _DEFAULT["solver_options"],
        formulation: str = _DEFAULT["formulation"],
        width_mode: str = _DEFAULT["width_mode"],
        guarantee: str = _DEFAULT["guarantee"],
        eps: float | None = _DEFAULT["eps"],
        c1_rounds: int = _DEFAULT["c1_rounds"],
        tol: float = _DEFAULT["tol"],
        grade_time_limit: float | None = _DEFAULT["grade_time_limit"],
        warm_start: bool = _DEFAULT["warm_start"],
        random_state: int | None = _DEFAULT["random_state"],
        verbose: bool = _DEFAULT["verbose"],
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
        self.width_mode = width_mode
        self.guarantee = guarantee
        self.eps = eps
        self.c1_rounds = c1_rounds
        self.tol = tol
        self.grade_time_limit = grade_time_limit
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _get_param_names(cls) -> list[str]:
        return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters as stored (``deep`` is accepted: there are no nested estimators)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params) -> MultigradeRegressor:
        """Set constructor parameters (checked when ``fit`` starts, as in scikit-learn)."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; valid: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != _DEFAULT.get(k)}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    def __sklearn_tags__(self):
        """Tags for scikit-learn's tools (a regressor; 2-D float input; no NaN).  Called by scikit-learn only."""
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags

        return Tags(
            estimator_type="regressor",
            target_tags=TargetTags(required=True, one_d_labels=True, single_output=True),
            regressor_tags=RegressorTags(),
            input_tags=InputTags(two_d_array=True),
        )

    def _settings(self, d: int) -> GradeSettings:
        """The grade settings, once every parameter is checked against the options table."""
        check_params(self.get_params(), type(self).__name__)
        new_width = self.width - (d if self.carry_input else 0)
        if new_width < 1:
            raise OptionError(
                f"width={self.width} leaves no trainable neuron after {d} carry channels: use width >= {d + 1}"
                " or carry_input=False"
            )
        if self.beta is not None and self.beta_ratio is not None:
            raise OptionError("give beta or beta_ratio, not both")
        beta_ratio = None
        if self.beta is None:
            default = POINTWISE_BETA_RATIO if self.guarantee == "pointwise" else DEFAULT_BETA_RATIO
            beta_ratio = default if self.beta_ratio is None else float(self.beta_ratio)
        limit = self.grade_time_limit
        return GradeSettings(
            width=new_width,
            beta=None if self.beta is None else float(self.beta),
            beta_ratio=beta_ratio,
            rho=float(self.contraction) if self.monotone else None,
            patterns=self.patterns,
            n_patterns=int(self.n_patterns),
            solver=check_solver(self.solver),
            solver_options=self.solver_options,
            formulation=self.formulation,
            time_limit=None if limit is None else float(limit),
            width_mode=self.width_mode,
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, monitor: Callable | None = None) -> MultigradeRegressor:
        """Fit on a data set; ``Omega`` is taken to be the bounding box of X.

        ``monitor(k, result, model)`` is called after every grade k (1-based) with its
        :class:`~mgdl_convex.grade.GradeResult`; returning True stops the run there.
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        X, y = _check_array(X, y)
        domain = np.column_stack([X.min(axis=0), X.max(axis=0)])
        self.sampling_ = None  # a data set: its samples are not regenerable
        if self.guarantee != "none" or self.eps is not None:
            raise OptionError(
                "guarantee='pointwise' and eps need the target itself (its ball-arithmetic form), not samples: "
                "use fit_target(target, samples=...)"
            )
        self.target_name_ = None
        return self._fit(lambda k, rng: (X, y), domain, X.shape[1], monitor)

    def fit_target(
        self, target: Target, samples=1024, sampling: str = "grid", monitor: Callable | None = None
    ) -> MultigradeRegressor:
        """Fit a target on its hypercube; ``samples`` is an int or one int per grade (last repeated).

        ``monitor`` as in :meth:`fit`.
        """
        schedule = [samples] if isinstance(samples, numbers.Integral) else list(samples)
        if not schedule or any(not isinstance(s, numbers.Integral) or s < 2 for s in schedule):
            raise ValueError(f"samples must be an integer >= 2 or a non-empty list of them, got {samples!r}")
        if sampling not in ("grid", "random"):
            raise ValueError(f"sampling must be 'grid' or 'random', got {sampling!r}")

        def provider(k, rng):
            X = _draw_samples(target, schedule[min(k, len(schedule) - 1)], sampling, rng)
            return X, target(X)

        self.target_ = target
        self.target_name_ = target.name
        self.sampling_ = sampling
        return self._fit(provider, np.array(target.domain, dtype=float), target.dim, monitor, target)

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

    def _fit(
        self, provider, domain: np.ndarray, d: int, monitor: Callable | None = None, target=None
    ) -> MultigradeRegressor:
        settings = self._settings(d)
        if self.guarantee == "pointwise" and d != 1:
            raise ValueError(f"guarantee='pointwise' is implemented for 1-D targets, got dimension {d}")
        seeds = np.random.SeedSequence(self.random_state).spawn(self.n_grades)
        start = 0
        if self.warm_start and getattr(self, "layers_", None):
            if self.n_features_in_ != d or not np.array_equal(self.domain_, domain):
                raise ValueError("warm_start: the data's dimension or domain differs from the fitted grades'")
            start = len(self.layers_)
            if len(getattr(self, "target_fingerprints_", None) or ()) != start:
                self.target_fingerprints_ = None  # grades of an older version: what they were fit to is unknown
        else:
            self.layers_: list[GradeLayer] = []
            self.grades_: list[GradeResult] = []
            # per grade, proofs_check's fingerprint of the values it was fit to (checked against the target later)
            self.target_fingerprints_: list[list[float]] | None = []
        self.domain_ = domain
        self.n_features_in_ = d
        self.stop_reason_ = f"reached n_grades={self.n_grades}"
        sup_f = self._certified_sup(target) if self.eps is not None else None
        last = self.grades_[-1].sup_upper if self.grades_ else None
        if sup_f is not None and last is not None and last <= self.eps * sup_f[1]:
            self.stop_reason_ = "eps already reached"
            return self
        for k in range(start, self.n_grades):
            rng = np.random.default_rng(seeds[k])
            X, y = provider(k, rng)
            emit("grade %d of %d: %d samples", k + 1, self.n_grades, len(X), stage=True)
            if X.shape[1] != d:
                raise ValueError(f"grade {k + 1} samples have {X.shape[1]} features, expected {d}")
            Zb, e = self._grade_input(X, y)
            if not np.any(e):
                self.stop_reason_ = f"zero residual before grade {k + 1}: nothing left to fit"
                break
            order = sample_orders(X)
            try:
                if self.guarantee == "pointwise":
                    previous = self.grades_[-1].beta / self.grades_[-1].kappa_before if self.grades_ else None
                    layer, result = fit_pointwise_grade(
                        k + 1, self.layers_, X, target, domain, lambda Xn: self._grade_input(Xn, target(Xn)),
                        settings, PointwiseOptions(rounds=self.c1_rounds), rng, previous,
                    )
                else:
                    layer, result = fit_grade(k + 1, Zb, e, settings, rng, order)
            except (SolverError, MemoryError) as err:
                self.stop_reason_ = f"grade {k + 1} failed: {err}"
                logger.error("%s; the %d finished grade(s) are kept", self.stop_reason_, len(self.layers_))
                raise
            if result.trivial:
                self.stop_reason_ = self._trivial_reason(k + 1, result)
                break
            self._append(layer, Zb.shape[1], d)
            if sup_f is not None:
                result = self._with_sup(result, target, sup_f)
            self.grades_.append(result)
            if self.target_fingerprints_ is not None:
                self.target_fingerprints_.append(target_fingerprint(y))
            self._report(result)
            reached = sup_f is not None and result.sup_upper <= self.eps * sup_f[1]
            stop = monitor is not None and monitor(k + 1, result, self)  # every grade, the one at eps included
            if reached:
                self.stop_reason_ = (
                    f"certified sup |e_{k + 1}| <= {result.sup_upper:.3e} <= eps sup |f| = {self.eps * sup_f[1]:.3e}"
                )
                break
            if stop:
                self.stop_reason_ = f"monitor stopped after grade {k + 1}"
                break
            if result.loss_after <= self.tol:
                self.stop_reason_ = f"training loss {result.loss_after:.3e} <= tol after grade {k + 1}"
                break
        logger.info("stopped: %s", self.stop_reason_)
        return self

    def _trivial_reason(self, k: int, result: GradeResult) -> str:
        if result.guarantee == "pointwise":
            return f"grade {k} is the zero grade: {result.c1_status}"
        if result.kappa_before > result.beta:
            return f"grade {k}: {result.attempts or 'no certified grade of this width on the path'}"
        return f"grade {k} is trivial: kappa(e) = {result.kappa_before:.3e} <= beta = {result.beta:.3e}"

    def _certified_sup(self, target) -> tuple[float, float, bool]:
        """(lower, upper, rigorous) of sup |e_K| for the grades fitted so far (proofs_check)."""
        from proofs_check import residual_sup

        search, rigorous = residual_sup(self.layers_, target, self.domain_)
        return search.enclosure.lower, search.enclosure.upper, rigorous

    def _with_sup(self, result: GradeResult, target, sup_f) -> GradeResult:
        lower, upper, rigorous = self._certified_sup(target)
        previous = self.grades_[-1].sup_lower if self.grades_ and self.grades_[-1].sup_lower else sup_f[0]
        ratio = upper / previous if previous > 0 else np.inf
        trust = "rigorous" if rigorous else "heuristic"
        return replace(result, sup_lower=lower, sup_upper=upper, sup_ratio_upper=ratio, sup_trust=trust)

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
        if r.width_mode == "exact":
            line += f", exact width ({r.path_steps} path steps)"
        if r.guarantee == "pointwise":
            line += f", C1 {r.c1_status} ({r.c1_rounds} rounds, {r.constraint_points} points, {r.zones} zones)"
        if r.sup_trust:
            line += f", sup |e| <= {r.sup_upper:.3e} ({r.sup_trust}, ratio <= {r.sup_ratio_upper:.3g})"
        if self.verbose:
            print(line, flush=True)
        else:
            logger.info(line)

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "layers_"):
            raise NotFittedError("this MultigradeRegressor is not fitted yet: call fit or fit_target first")

    def staged_predict(self, X) -> Iterator[np.ndarray]:
        """The approximant ``g_1 + ... + g_k`` on X for k = 1, 2, ..."""
        self._check_fitted()
        X = _check_array(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features"
                " as input (the model was fit on that many)"
            )
        total = np.zeros(X.shape[0])
        for _, _, g in forward(X, self.layers_):
            total = total + g
            yield total

    def predict(self, X) -> np.ndarray:
        """The approximant after all grades (zeros if no grade was kept)."""
        stages = list(self.staged_predict(X))
        return stages[-1] if stages else np.zeros(_check_array(X).shape[0])

    def score(self, X, y, sample_weight=None) -> float:
        """Coefficient of determination R^2 of ``predict(X)`` against y (1 is perfect; 0 is predicting the mean)."""
        y = np.asarray(y, dtype=float)
        pred = self.predict(X)
        if y.shape != pred.shape:
            raise ValueError(f"y must have shape {pred.shape}, got {y.shape}")
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        residual = float(np.sum(w * (y - pred) ** 2))
        total = float(np.sum(w * (y - np.average(y, weights=w)) ** 2))
        if total == 0.0:  # a constant y: scikit-learn's convention
            return 1.0 if residual == 0.0 else 0.0
        return 1.0 - residual / total

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
        save_model(self, path)

    @classmethod
    def load(cls, path) -> MultigradeRegressor:
        """A model written by :meth:`save` (``ModelFileError`` for anything else)."""
        return load_model(path, cls)
