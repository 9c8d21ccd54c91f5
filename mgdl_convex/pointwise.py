"""Theorem mode: grades with ``|e_k(x)| <= |e_(k-1)(x)|`` proved on the whole domain.

With ``g = g_k`` and ``e = e_(k-1)``, ``|e - g| <= |e|`` is ``g (2e - g) >= 0``: g has the
sign of e and at most twice its size.  Bounds at the samples do not give it between them,
and at a zero ``x0`` of e it forces ``g(x0) = 0``, which float weights can only meet by g
vanishing on a whole neighbourhood of ``x0``.  A grade is therefore fit as follows (1-D).

**Zero zones.**  The zeros of e are enclosed rigorously
(:func:`proofs_check.residual_zeros`, on the exact pieces of the scheme so far) and each
cluster is widened by ``margin`` sample spacings to a zone ``[a, b]``.  On a zone of half-width
w every later grade is 0 too, so ``|e| <= |e'| w`` stays there for good: the margin (0.05
spacings) keeps that near 0.3% of sup |f| for fangxu1 on 512 samples; a quarter of a spacing, the
earlier default, left about 7% on 128 (0.2 with ``|f'| ~ 100``).  Narrower is not better: the
exact zeroing below corrects the slope on a zone by the solver's error at its two ends divided by
the zone's width, and at 0.02 spacings that moved a grade 1.5e-6 max |e| away from its certified
solution (C4 then cannot pass; at 0.05 the worst of 12 grades was 9e-9).  The grade must vanish
on every zone.

**Humps.**  Between two zones the residual has one sign: a *hump*.  A grade touches only the
``humps`` humps (default 3) with the largest ``|e|`` at the samples; every other hump joins the
zones.  Without it the regularisation path is useless at a fixed width: humps of similar
size have similar prices, so they all enter at about the same beta, and a width-32 grade that
must bend on each of fangxu1's 21 humps (at least two kinks apiece, plus the zone ends) is
either the zero grade or a slight change (measured: 54% of sup |f| after 4 grades, then the zero
grade).  Focused on 3 humps, each grade fits them closely and the sup falls at every few grades.
When the zones of a choice of humps cannot be made exact (:mod:`mgdl_convex.exact_zero`), the
grade tries again with fewer humps (the 2 largest, the largest, then the second and the third
alone) before it falls back to the zero grade, which would end the run: fewer humps, fewer zone
equations.  (sqrt_kink on 512 samples stopped at grade 12, 1.8% of sup |f|, without it.)

**Patterns.**  The certificate of a grade covers its program, not every width-W network: the
neurons below, with the bounds (``certificate_scope`` says so).

* *grade input x* (the first grade): the patterns are thresholds at the points (below),
  none inside a zone; so every neuron has one activation on a zone, and g is
  affine there: the equalities ``g = 0`` at the zone's ends make it vanish on all of it.  (At
  the samples inside a zone there is no bound: hundreds of such equalities, all implied by the
  two at the ends, made the solver stop short of its tolerance.)
* *later grades, with the carried input* (the default): the same thresholds, of the carried
  channel ``x - lo``.  The program reads only that column and the bias (``[x - lo, 1]``), and
  the grade's layer has zero weights on every other feature.  Gates on the
  earlier grades' features (below) are affine between those grades' kinks, so on a hump with
  no earlier kink inside they cannot be on inside and off at both ends; thresholds of x can.
* *later grades, without the carried input*: sampled gates that are off at every zone point
  (random directions, levels drawn between the largest value on the zones and the largest
  overall), whose zone points include the input's kinks inside the zone.

**Kinks at the points.**  Between two consecutive points a threshold neuron's kink may lie
anywhere, and nothing in the loss pins it: where a grade bends, it leaves a *tent* between two
samples, about ``|slope change| h / 4`` high, that later grades see at neither sample and so can
never remove (fangxu1 stalled near 1.2% of sup |f| on 512 samples that way).  So every point (a
sample outside the zones, a constraint point, a zone end) gets a *twin* ``TWIN_DISTANCE = 1e-3``
spacings away (outside any zone), a row with no loss and no bound, and the only cuts allowed are
those between a point and its twin: every kink lies within 1e-3 spacings of a point, and between
two samples a grade is affine but for that sliver.  The residual between samples is then the
target's own curvature error, at most ``h^2 max|f''| / 8`` from its chord; fangxu1 reaches 1% in
29 grades on 512 samples.

Both are linear constraints or fewer patterns: the program stays convex and ``g = 0``
stays feasible.  The solver meets them to its tolerance; :mod:`mgdl_convex.exact_zero`
then makes them hold exactly for the float weights.

**Bounds.**  At the training samples and at the constraint points below,
``g`` lies between 0 and ``(2 - theta) e`` (theta keeps the upper bound strictly inside,
so that the solver's tolerance cannot push g past ``2e``).  Constraint points have zero
weight in the loss; their patterns are part of the program (:mod:`mgdl_convex.program`).

**Separation.**  Each round solves the program (beta on the regularisation path, as in
:mod:`mgdl_convex.path`), makes the zones exact, and hands the grade to proofs_check's
rigorous search (:func:`proofs_check.monotone_violations`).  A certified counterexample
``x*`` becomes a constraint point; where g is (numerically) zero at ``x*`` the solver's
tolerance is to blame, and ``x*`` becomes a small zone instead; where a constraint point
lies within a sample spacing of ``x*`` the violation has moved with the points (a kink of the
grade slid past it), and the stretch between them becomes a zone, so that the loop ends
after finitely many rounds instead of converging in the limit; a box the search could not
decide becomes a zone too.  The round is repeated until the search proves the claim, or
``rounds`` run out: the grade then falls back to the zero grade (proved, no progress), and
the result says so (``c1_status``).  Never a silent pass.

In 2-D the same loop runs with proofs_check's 2-D search as the oracle, without zones
(a neuron's boundary is a line crossing the zero curves of e): it can prove only grades
that vanish near those curves, and otherwise falls back, labelled.  Beyond 2-D there is no
rigorous oracle: theorem mode refuses.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np

from proofs_check import exact_features, monotone_violations, residual_zeros

from .certificate import program_kappa, program_rows
from .exact_zero import Zone, exact_layer
from .grade import GradeSettings, SolveContext, grade_result, solve_grade_program
from .network import GradeLayer
from .program import GradeProgram, effective_residual
from .thresholds import ThresholdPatterns

logger = logging.getLogger(__name__)

__all__ = ["PointwiseOptions", "fit_pointwise_grade", "zero_zones"]


#: where a grade's kinks may lie: within this many sample spacings of one of its points
TWIN_DISTANCE = 1e-3


@dataclass(frozen=True)
class PointwiseOptions:
    """Theorem mode's settings (module docstring)."""

    rounds: int = 8
    margin: float = 0.05  # zone widening, in sample spacings
    theta: float = 1e-6
    oracle_boxes: int = 2000
    max_new_points: int = 64  # per round
    carried_thresholds: bool = True  # later grades: neurons of the carried x (module docstring)
    humps: int = 3  # the humps of the residual (stretches between zones) a grade may touch
    kinks_at_points: bool = True  # a neuron's kink within TWIN_DISTANCE spacings of a point (module docstring)


def zero_zones(layers, target, domain, width: float) -> tuple[list[tuple[float, float]], bool]:
    """Zones: the certified clusters of zeros of ``e = f - G`` widened by ``width`` and merged."""
    zeros = residual_zeros(layers, target, domain)
    lo, hi = float(domain[0][0]), float(domain[0][1])
    return _merge([(max(lo, a - width), min(hi, b + width)) for a, b in zeros.intervals]), zeros.converged


def _merge(intervals) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _contraction_bounds(e: np.ndarray, theta: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``g`` between 0 and ``(2 - theta) e``; both 0 where ``|e|`` is at rounding level."""
    a = (2.0 - theta) * e
    lower, upper = np.minimum(0.0, a), np.maximum(0.0, a)
    tiny = np.abs(e) <= 1e-12 * scale
    lower[tiny] = upper[tiny] = 0.0
    return lower, upper


@dataclass
class _Points:
    """The program's points beyond the training samples, and its zones."""

    constraint: list  # floats
    zones: list  # (a, b)


def _zone_points(zone, knots) -> list:
    """A zone's exact points: its ends and the input's kinks inside (fmpq)."""
    from flint import fmpq

    a, b = zone
    qa, qb = fmpq(*float(a).as_integer_ratio()), fmpq(*float(b).as_integer_ratio())
    return [qa, *[t for t in knots if qa < t < qb], qb]


class _Grade:
    """One pointwise grade's data: the frozen scheme, the target, the samples."""

    def __init__(self, layers, target, domain, X, grade_input, settings, options, rng):
        self.layers, self.target, self.domain = layers, target, np.asarray(domain, float)
        self.X, self.grade_input, self.settings, self.options, self.rng = X, grade_input, settings, options, rng
        self.Zb, self.e = grade_input(X)
        self.n = len(X)
        self.scale = float(np.max(np.abs(self.e), initial=0.0))
        xs = np.sort(X[:, 0])
        self.spacing = float(np.min(np.diff(xs))) if len(xs) > 1 else float(np.diff(self.domain[0])[0])
        self.first = self.Zb.shape[1] == 2  # the grade input is x itself
        # the last feature carries x - lo (carry_input): the grade's neurons read it and the bias only
        self.carried = (
            options.carried_thresholds
            and not self.first
            and np.array_equal(self.Zb[:, -2], X[:, 0] - self.domain[0, 0])
        )
        self.cols = slice(-2, None) if self.carried else slice(None)  # the columns the program reads
        if layers and not self.carried:  # the kinks of the grade input (the carried x has none)
            from proofs_check.pieces import exact_pieces

            pieces = exact_pieces(layers, *self.domain[0])
            self.knots = sorted({p.a for p in pieces[1:]})
        else:
            self.knots = []
        self.gates = None

    def _exact_row(self, t) -> list:
        from flint import fmpq

        if self.carried:  # the carried channel is x - lo exactly on the domain
            return [t - fmpq(*float(self.domain[0, 0]).as_integer_ratio()), fmpq(1)]
        return [*exact_features(self.layers, t), fmpq(1)]

    def program(self, pts: _Points, beta: float):
        """The grade program over training samples, constraint points and zone points."""
        zone_pts = [(i, p) for i, z in enumerate(pts.zones) for p in _zone_points(z, self.knots)]
        exact_rows = [self._exact_row(p) for _, p in zone_pts]
        Xc = np.array(pts.constraint, dtype=float).reshape(-1, 1)
        Zc, ec = self.grade_input(Xc) if len(Xc) else (np.zeros((0, self.Zb.shape[1])), np.zeros(0))
        q = self.Zb[:, self.cols].shape[1]
        Zz = np.array([[float(v) for v in r] for r in exact_rows]).reshape(-1, q)
        Zb = np.vstack([self.Zb[:, self.cols], Zc[:, self.cols], Zz])
        e = np.concatenate([self.e, ec, np.zeros(len(Zz))])
        x_all = np.concatenate([self.X[:, 0], Xc[:, 0], [float(p) for _, p in zone_pts]])
        lower, upper = _contraction_bounds(e, self.options.theta, self.scale)
        in_zone = np.zeros(len(x_all), dtype=bool)
        for a, b in pts.zones:
            in_zone |= (x_all >= a) & (x_all <= b)
        zones = self._zone_index(pts.zones, zone_pts, exact_rows, len(self.Zb) + len(Zc))
        order = np.argsort(x_all, kind="stable")
        if self.first or self.carried:  # thresholds: g = 0 at the zone's points makes it vanish on the zone
            # g is affine on a zone, so the equalities at its ends are all it needs: one at every
            # sample inside would be hundreds of dependent rows (the solver then stops short)
            lower[in_zone], upper[in_zone] = -np.inf, np.inf
            lower[len(Zb) - len(Zz):] = upper[len(Zb) - len(Zz):] = 0.0
            if self.options.kinks_at_points:
                points, twins = self._twins(x_all[~in_zone | (np.arange(len(x_all)) >= len(Zb) - len(Zz))], pts.zones)
                Zt = np.column_stack([twins - (self.domain[0, 0] if self.carried else 0.0), np.ones(twins.size)])
                Zb, e = np.vstack([Zb, Zt]), np.concatenate([e, np.zeros(twins.size)])
                lower = np.concatenate([lower, np.full(twins.size, -np.inf)])
                upper = np.concatenate([upper, np.full(twins.size, np.inf)])
                allowed = self._twin_cuts(x_all, points, twins, pts.zones)
                x_all = np.concatenate([x_all, twins])
                order = np.argsort(x_all, kind="stable")
            else:
                allowed = self._allowed_cuts(x_all, pts.zones)
            D = ThresholdPatterns(x_all, allowed=allowed)
            return GradeProgram(Zb, e, D, beta, lower, upper, n_train=self.n), order, zones
        # later grades without the carried x: gates that are off on every zone
        lower[in_zone], upper[in_zone] = -np.inf, np.inf
        return GradeProgram(Zb, e, self._zone_off_patterns(Zb, zones), beta, lower, upper, n_train=self.n), order, zones

    def embedded(self, layer: GradeLayer) -> GradeLayer:
        """A layer of the program's columns as a layer of the whole grade input (other weights 0)."""
        hidden = np.zeros((self.Zb.shape[1], layer.width))
        hidden[self.cols] = layer.hidden
        return GradeLayer(hidden, layer.readout)

    def _twins(self, points, zones) -> tuple[np.ndarray, np.ndarray]:
        """The points and one twin each, ``delta`` to the right (to the left where the right one is in a zone)."""
        delta = TWIN_DISTANCE * self.spacing
        points = np.unique(points)
        right = points + delta
        inside = np.zeros(points.size, dtype=bool)
        for a, b in zones:
            inside |= (right >= a) & (right <= b)
        return points, np.where(inside, points - delta, right)

    def _twin_cuts(self, x_all, points, twins, zones) -> np.ndarray:
        """The cuts allowed with twins: only between a point and its twin (next to each other), never in a zone."""
        values = np.unique(np.concatenate([x_all, twins]))
        first = np.searchsorted(values, np.minimum(points, twins))
        second = np.searchsorted(values, np.maximum(points, twins))
        pair = np.zeros(values.size - 1, dtype=bool)
        pair[first[second == first + 1]] = True
        return self._allowed_cuts(values, zones) & pair

    def _allowed_cuts(self, x_all, zones) -> np.ndarray:
        values = np.unique(x_all)
        lo, hi = values[:-1], values[1:]
        allowed = np.ones(values.size - 1, dtype=bool)
        for a, b in zones:
            allowed &= ~((lo >= a) & (hi <= b))
        return allowed

    def _gates(self) -> np.ndarray:
        """Random directions and levels for the gates, drawn once per grade (the same in every round)."""
        if self.gates is None:
            q = self.Zb.shape[1]
            count = 16 * self.settings.n_patterns
            self.gates = (self.rng.standard_normal((q - 1, count)), self.rng.uniform(0.0, 1.0, count))
        return self.gates

    def _zone_off_patterns(self, Zb, zones) -> np.ndarray:
        """Patterns of gates that are off at every zone point (module docstring).

        A direction w gives ``h(x) = w . z(x)``; its level is drawn between ``max h`` over the zone
        points and ``max h`` over all points, so the gate ``h > level`` is on somewhere between the
        zones and off on every zone (the zone's points include the input's kinks inside it).
        """
        from .patterns import _unique_columns

        W, levels = self._gates()
        H = Zb[:, :-1] @ W
        zone_rows = [idx for _, idx in zones if len(idx)]
        top_zone = H[np.concatenate(zone_rows)].max(axis=0) if zone_rows else H.min(axis=0)
        top = H.max(axis=0)
        useful = top > top_zone
        cut = top_zone + levels * (top - top_zone)
        cut = np.maximum(cut, top_zone + 1e-9 * np.maximum(np.abs(top_zone), 1.0))
        D = H[:, useful] > cut[useful]
        keep = _unique_columns(D)[: self.settings.n_patterns]
        return D[:, keep]

    def _zone_index(self, zones, zone_pts, exact_rows, offset):
        """Per zone: its exact rows and the program rows of its points."""
        out = []
        for i in range(len(zones)):
            idx = [offset + j for j, (zi, _) in enumerate(zone_pts) if zi == i]
            out.append((tuple(exact_rows[j - offset] for j in idx), np.array(idx)))
        return out


def _layer_of(solution, program, zones) -> tuple[GradeLayer | None, str]:
    on = [Zone(rows, program.D[:, solution.pattern][idx[0]] if len(idx) else np.zeros(solution.n_blocks, bool))
          for rows, idx in zones if len(idx)]
    return exact_layer(solution.U, solution.sign, on)


EXACT_FAILURE = "fallback to the zero grade: the zones could not be made exact"


def _hump_choices(humps: int) -> list[tuple[int, int]]:
    """(how many humps, how many of the largest to skip) to try in turn: the ``humps`` largest, then fewer,
    then each of the next ones alone.  A grade whose zones cannot be made exact (:mod:`mgdl_convex.exact_zero`)
    for one choice often can for another: fewer humps, fewer zone equations."""
    return [(h, 0) for h in range(humps, 0, -1)] + [(1, skip) for skip in range(1, humps)]


@dataclass(frozen=True)
class _Attempt:
    """What the separation rounds of one grade on one set of zones ended with."""

    status: str
    layer: GradeLayer | None
    solved: object
    program: GradeProgram | None
    rounds: int
    order: np.ndarray | None
    patterns_info: SimpleNamespace
    kappa_e: float
    floor: float
    exact_failed: bool  # the zones could not be made exact (another choice of humps may do)


def _rounds(grade, g, pts, layers, target, domain, settings, options, start_ratio) -> _Attempt:
    """The separation rounds of one grade on the zones of ``pts`` (module docstring)."""
    status, layer, solved, program, rounds, order = "", None, None, None, 0, None
    patterns_info = SimpleNamespace(n_patterns=0, complete=False)  # thresholds at the points, none in a zone
    kappa_e = floor = 0.0
    for rounds in range(1, options.rounds + 1):
        program, order, zones = g.program(pts, 0.0)
        rows = program_rows(program, order)
        zero = np.zeros(program.n_points)
        kappa_all = program_kappa(program, effective_residual(program, zero, zero), rows)
        kappa_e = float(np.nanmax(kappa_all)) if kappa_all.size else 0.0
        floor = settings.beta if settings.beta is not None else settings.beta_ratio * kappa_e
        patterns_info = SimpleNamespace(n_patterns=program.n_patterns, complete=False)
        if kappa_e <= floor:
            solved, layer, status = None, None, "proved (zero grade: nothing to fit within the bounds)"
            break
        ctx = SolveContext(order, rows, kappa_all, g.first, None)
        start = None if start_ratio is None else start_ratio * kappa_e
        solved = solve_grade_program(replace(program, beta=floor), settings, kappa_e, ctx, start)
        start_ratio = solved.beta / kappa_e
        program = replace(program, beta=solved.beta)
        if solved.outcome is None:
            layer, status = None, "proved (zero grade: no certified grade of this width)"
            break
        layer, reason = _layer_of(solved.outcome.solution, program, zones)
        if layer is None:
            status = f"{EXACT_FAILURE} ({reason})"
            return _Attempt(status, None, solved, program, rounds, order, patterns_info, kappa_e, floor, True)
        search = monotone_violations(layers, g.embedded(layer), target, domain, max_boxes=options.oracle_boxes)
        logger.info("grade %d, round %d: C1 %s (%d counterexamples, %d unresolved boxes)", grade, rounds,
                    search.status, len(search.counterexamples), len(search.unresolved))
        if search.status == "proved":
            status = "proved"
            break
        _separate(search, g.embedded(layer), g, pts)
        layer = None
        status = f"fallback to the zero grade: C1 not proved in {options.rounds} rounds"
    return _Attempt(status, layer, solved, program, rounds, order, patterns_info, kappa_e, floor, False)


def fit_pointwise_grade(
    grade: int,
    layers: list,
    X: np.ndarray,
    target,
    domain,
    grade_input,
    settings: GradeSettings,
    options: PointwiseOptions,
    rng: np.random.Generator,
    start_ratio: float | None = None,
) -> tuple[GradeLayer, object]:
    """Fit grade ``grade`` on the samples X so that C1 is proved for it (module docstring).

    ``layers``: the frozen grades (with their carried channels); ``grade_input(X)`` returns the
    grade's input ``[z_(k-1)(X), 1]`` and the residual ``e_(k-1)(X)``; ``start_ratio``: beta / kappa
    of the previous grade, where the path starts (each round then starts at the previous round's).
    """
    if len(domain) != 1:
        raise NotImplementedError("theorem mode (guarantee='pointwise') is implemented for 1-D targets")
    t_start = time.perf_counter()
    g = _Grade(layers, target, domain, X, grade_input, settings, options, rng)
    base_zones, zeros_ok = zero_zones(layers, target, domain, options.margin * g.spacing)
    choices = [list(base_zones)]
    if g.first or g.carried:
        focused = [_focus(base_zones, g, humps, skip) for humps, skip in _hump_choices(options.humps)]
        choices = [z for i, z in enumerate(focused) if z is not None and z not in focused[:i]]  # few humps, few choices
    tried = []
    for zones in choices:
        pts = _Points([], zones)
        run = _rounds(grade, g, pts, layers, target, domain, settings, options, start_ratio)
        if not run.exact_failed:
            break
        tried.append(run.status)
        logger.info("grade %d: %s; trying fewer humps", grade, run.status)
    status, layer, program = run.status, run.layer, run.program
    if tried and run.exact_failed:
        status = f"{EXACT_FAILURE} for every choice of humps ({'; '.join(tried)})"
    elif tried:
        status += f" (after {len(tried)} choice(s) of humps whose zones could not be made exact)"
    solved = run.solved if layer is not None else None  # the zero grade, proved: it leaves the residual as it is
    if not zeros_ok:
        status += " (zero enclosure at its box budget: zones coarser than asked)"
    q = g.Zb[:, g.cols].shape[1]
    extra = dict(
        layer=layer if layer is not None else GradeLayer(np.zeros((q, 0)), np.zeros(0)),
        guarantee="pointwise",
        c1_status=status,
        c1_rounds=run.rounds,
        constraint_points=len(pts.constraint),
        zones=len(pts.zones),
    )
    if program is None:
        program = GradeProgram(g.Zb[:, g.cols], g.e, np.zeros((g.n, 0), bool), 0.0)
    times = (0.0, time.perf_counter() - t_start, t_start)
    layer, result = grade_result(grade, program, solved, settings, run.patterns_info, run.kappa_e, run.floor, run.order,
                                 None, times, **extra)
    scope = "the grade's program: its bounds, and threshold neurons with no kink inside a zone"
    if options.kinks_at_points:
        scope = "the grade's program: its bounds, and neurons with their kinks at its points, none inside a zone"
    if g.first or g.carried:
        result = replace(result, certificate_scope=scope + (", reading the carried x" if g.carried else ""))
    if g.carried:  # the program read the carried x and the bias: the layer reads the whole grade input
        result = replace(result, input_dim=g.Zb.shape[1] - 1)
    return g.embedded(layer), result


def _focus(zones, g: _Grade, humps: int, skip: int = 0) -> list[tuple[float, float]] | None:
    """The zones plus every hump (a stretch between zones) but the ``humps`` with the largest ``|e|`` at the samples
    after the ``skip`` largest; None when there are no more than ``skip`` humps."""
    lo, hi = g.domain[0]
    ends = [lo, *[v for z in zones for v in z], hi]
    stretches = [(a, b) for a, b in zip(ends[::2], ends[1::2]) if a < b]
    if skip and skip >= len(stretches):
        return None
    x = g.X[:, 0]
    size = [float(np.max(np.abs(g.e[(x > a) & (x < b)]), initial=0.0)) for a, b in stretches]
    keep = set(np.argsort(size, kind="stable")[::-1][skip : skip + humps].tolist())
    return _merge(list(zones) + [s for i, s in enumerate(stretches) if i not in keep])


def _separate(search, layer: GradeLayer, g: _Grade, pts: _Points) -> None:
    """Turn the search's counterexamples into constraint points or small zones (module docstring)."""
    width = g.options.margin * g.spacing
    new_zones = [(float(box[0][0]) - width, float(box[0][1]) + width) for box in search.unresolved]
    worst = sorted(search.counterexamples, key=lambda c: -c.excess)[: g.options.max_new_points]
    xs = np.array([c.point[0] for c in worst]).reshape(-1, 1)
    if len(xs):
        Zb, _ = g.grade_input(xs)
        gx = layer(Zb)
        known = np.array(pts.constraint)
        _, ex = g.grade_input(xs)
        for x, value, c, ev in zip(xs[:, 0], gx, worst, ex):
            logger.debug("counterexample x = %.17g: excess %.3g, g = %.3g, e = %.3g", x, c.excess, value, ev)
            near = known[np.abs(known - x) <= g.spacing] if known.size else known
            if abs(value) <= 1e-8 * g.scale:  # g is zero up to the solver: only an exact zero will do
                new_zones.append((x - width, x + width))
            elif near.size:  # the violation moves with the points: a zone ends it (no Zeno)
                new_zones.append((min(x, near.min()) - width, max(x, near.max()) + width))
            else:
                pts.constraint.append(float(x))
    if new_zones:
        lo, hi = g.domain[0]
        pts.zones = _merge(pts.zones + [(max(lo, a), min(hi, b)) for a, b in new_zones])
