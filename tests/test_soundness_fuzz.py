"""Soundness fuzzer: random 1-D, 2-D and 3-D schemes against smooth, kinked and non-Lipschitz targets.

Every certified result of the searches is held against values computed independently:

* sup enclosures contain the brute-force maximum of |e_k| (a numpy forward pass of our own at many
  points, with a bound on its rounding error), and their lower end is re-verified at the reported
  point in exact rationals (``exact_eval``);
* L^p enclosures contain a midpoint-rule integral whose error is estimated by halving the cells
  (1-D cells end at every kink of the network and of the target, so the rule is accurate);
* every certified C1 counterexample is re-verified exactly, and every proved piece (1-D) or proved
  domain (2-D, 3-D) has no violation at any brute-force point.

Schemes have random widths and weights, knots placed between sample points, carried inputs, and
narrow spikes (a few 1e-6 wide in 1-D) that fall between brute-force points.  The budgets are small
on purpose: unconverged enclosures must be just as true.  ``make test`` runs FAST cases, ``-m slow``
runs the SLOW counts with 10^6 brute-force points (10^7 for one case in 300; 1000 x 1000 in 2-D,
100^3 in 3-D).
"""

from itertools import product

import numpy as np
import pytest
from exact_eval import excess_ball, residual_balls

from mgdl_convex import get_target
from mgdl_convex.network import GradeLayer
from mgdl_convex.targets import Target
from proofs_check.bounds1d import Residual, lp_integrals, prove_monotone, sup_abs
from proofs_check.boundsnd import LpEnclosureND, prove_monotone_nd, sup_abs_nd
from proofs_check.pieces import exact_pieces

BLOCKS_1D, CASES_1D, SLOW_BLOCKS_1D = 12, 30, 100  # make test: 360 cases; -m slow: 3000
BLOCKS_2D, CASES_2D, SLOW_BLOCKS_2D = 6, 15, 40  # make test: 90 cases; -m slow: 600
BLOCKS_3D, CASES_3D, SLOW_BLOCKS_3D = 6, 8, 30  # make test: 48 cases; -m slow: 240
EPS = 2.0**-52


# --------------------------------------------------------------------------- independent evaluation
def _forward(layers, X):
    """[G_0, ..., G_K] and a bound on their float64 rounding error at the points X."""
    Z, M = np.asarray(X, float), np.abs(np.asarray(X, float))
    G, mag = [np.zeros(len(X))], [np.zeros(len(X))]
    for layer in layers:
        H, A = layer.hidden, np.abs(layer.hidden)
        Z = np.maximum(np.einsum("ij,jk->ik", Z, H[:-1]) + H[-1], 0.0)  # einsum: no BLAS threads to contend
        M = np.einsum("ij,jk->ik", M, A[:-1]) + A[-1]
        G.append(G[-1] + np.einsum("ij,j->i", Z, layer.readout))
        mag.append(mag[-1] + np.einsum("ij,j->i", M, np.abs(layer.readout)))
    return G, [64 * EPS * (len(layers) + 2) * (m + 1) for m in mag]


def _targets_2d():
    def cone(x, m, c=(0.3, 0.6)):
        return m.sqrt(m.pow(x[0] - c[0], 2) + m.pow(x[1] - c[1], 2))

    def cone_grad(x, m, c=(0.3, 0.6)):
        r = cone(x, m)
        return [(x[0] - c[0]) / r, (x[1] - c[1]) / r]

    def root_cone(x, m):  # |x - c|^(1/2): continuous, not Lipschitz at c
        return m.sqrt(cone(x, m))

    def root_cone_grad(x, m):
        r, s = cone(x, m), root_cone(x, m)
        return [(x[0] - 0.3) / (2 * s * r), (x[1] - 0.6) / (2 * s * r)]

    square = ((0.0, 1.0), (0.0, 1.0))
    return [
        get_target("osc2d"),
        Target("cone", square, cone, cone_grad),
        Target("root_cone", square, root_cone, root_cone_grad),
    ]


def _targets_3d():
    apex = (0.3, 0.6, 0.45)

    def cone(x, m):  # |x - apex|: continuous, no gradient at the apex
        return m.sqrt(sum(m.pow(x[i] - apex[i], 2) for i in range(3)))

    def cone_grad(x, m):
        r = cone(x, m)
        return [(x[i] - apex[i]) / r for i in range(3)]

    return [get_target("osc3d"), Target("cone3", ((0.0, 1.0),) * 3, cone, cone_grad)]


def _positive_targets():
    """f >= f_min > 0: grades with 0 <= g <= 2 f_min satisfy C1 by construction ("band" grades)."""
    lifted = Target(
        "lifted", ((0.0, 1.0),), lambda x, m: 2 + 0.5 * m.sin(7 * x[0]), lambda x, m: [3.5 * m.cos(7 * x[0])]
    )
    plus_two = Target(
        "plus_two",
        ((0.0, 1.0), (0.0, 1.0)),
        lambda x, m: 2 + m.sin(x[0]) * m.cos(x[1]),
        lambda x, m: [m.cos(x[0]) * m.cos(x[1]), -m.sin(x[0]) * m.sin(x[1])],
    )
    plus_three = Target(
        "plus_three",
        ((0.0, 1.0),) * 3,
        lambda x, m: 2 + m.sin(x[0]) * m.cos(x[1] - x[2]),
        lambda x, m: [
            m.cos(x[0]) * m.cos(x[1] - x[2]),
            -m.sin(x[0]) * m.sin(x[1] - x[2]),
            m.sin(x[0]) * m.sin(x[1] - x[2]),
        ],
    )
    return (lifted, 1.5), (plus_two, 2.0), (plus_three, 1.0)


LIFTED, PLUS_TWO, PLUS_THREE = _positive_targets()
TARGETS_1D = [(get_target(n), None) for n in ("fangxu1", "fangxu2", "sin100", "sqrt_kink", "kink")] + [LIFTED]
TARGETS_2D = [(t, None) for t in _targets_2d()] + [PLUS_TWO]
TARGETS_3D = [(t, None) for t in _targets_3d()] + [PLUS_THREE]
TARGETS = {2: TARGETS_2D, 3: TARGETS_3D}
SPECIAL_1D = [0.3, 1 / 3]  # the cusp of sqrt_kink, the corner of kink


# --------------------------------------------------------------------------- random schemes
def _band(cols, out, corners, f_min, rng) -> list:
    """Non-negative read-outs scaled so that 0 <= g_1 <= 2 f_min on the domain (its corners bound each relu)."""
    H = np.array(cols, float).T
    peak = np.max(np.maximum(np.column_stack([corners, np.ones(len(corners))]) @ H, 0.0), axis=0)
    a = np.abs(np.array(out))
    return list(a * rng.uniform(0.2, 1.0) * 2 * f_min / max(float(a @ peak), 1e-300))


def _scheme_1d(rng, f_min=None):
    """1-3 grades; grade 1 has knots between sample points, random neurons, maybe a narrow spike.

    With ``f_min``, grade 1 is a band grade (C1 holds for it), plus sometimes a narrow spike too
    tall for the band, which violates C1 on a window about 1e-5 wide only.
    """
    samples = np.linspace(0.0, 1.0, int(rng.integers(20, 200)))
    cols, out = [], []
    for _ in range(int(rng.integers(1, 6))):
        if rng.random() < 0.6:  # a knot strictly between two samples
            i = int(rng.integers(0, len(samples) - 1))
            t = samples[i] + (samples[i + 1] - samples[i]) * rng.uniform(0.05, 0.95)
            w = rng.choice([-1, 1]) * 10 ** rng.uniform(-0.5, 1.5)
            cols.append([w, -w * t])
        else:
            cols.append(rng.standard_normal(2))
        out.append(rng.standard_normal() * 10 ** rng.uniform(-1.5, 0.3))
    if f_min is not None:
        out = _band(cols, out, np.array([[0.0], [1.0]]), f_min, rng)
    if rng.random() < 0.3:  # a spike of height h and half-width delta between brute-force points
        a, delta, h = rng.uniform(0.05, 0.9), 10 ** rng.uniform(-6, -3), rng.uniform(-2, 2)
        h = 3 * f_min if f_min is not None else h
        cols += [[1.0, -a], [1.0, -a - delta], [1.0, -a - 2 * delta]]
        out += [h / delta, -2 * h / delta, h / delta]
    if rng.random() < 0.5:  # carry x
        cols.append([1.0, 0.0])
        out.append(0.0)
    layers = [GradeLayer(hidden=np.array(cols, float).T, readout=np.array(out))]
    for _ in range(int(rng.integers(0, 3))):
        q = layers[-1].width + 1
        W = int(rng.integers(1, 5))
        layers.append(GradeLayer(hidden=rng.standard_normal((q, W)), readout=rng.standard_normal(W) * 0.3))
    return layers


def _direction(rng, d):
    """A random unit vector (in 2-D by its angle, as the 2-D seeds were drawn)."""
    if d == 2:
        theta = rng.uniform(0, 2 * np.pi)
        return np.array([np.cos(theta), np.sin(theta)])
    v = rng.standard_normal(d)
    return v / np.linalg.norm(v)


def _scheme_box(rng, f_min=None, d=2):
    """1-2 grades of random ReLU planes through the cube [0, 1]^d, maybe a steep ridge; maybe carried inputs.

    With ``f_min``, grade 1 is a band grade (C1 holds for it) unless a ridge is added.
    """
    cols, out = [], []
    for _ in range(int(rng.integers(1, 5))):
        p = rng.random(d)
        w = _direction(rng, d) * 10 ** rng.uniform(-0.3, 1.0)
        cols.append([*w, -w @ p])
        out.append(rng.standard_normal() * 10 ** rng.uniform(-1, 0.3))
    if f_min is not None:
        out = _band(cols, out, np.array(list(product((0.0, 1.0), repeat=d))), f_min, rng)
    if rng.random() < 0.3:  # a ridge a few 1e-3 wide
        p = rng.random(d)
        n, delta = _direction(rng, d), 10 ** rng.uniform(-3, -2)
        cols += [[*n, -n @ p], [*n, -n @ p - delta]]
        out += [1 / delta, -1 / delta]
    if rng.random() < 0.5:
        cols += [[*np.eye(d)[i], 0.0] for i in range(d)]
        out += [0.0] * d
    layers = [GradeLayer(hidden=np.array(cols, float).T, readout=np.array(out))]
    if rng.random() < 0.5:
        q = layers[-1].width + 1
        W = int(rng.integers(1, 4))
        layers.append(GradeLayer(hidden=rng.standard_normal((q, W)), readout=rng.standard_normal(W) * 0.3))
    return layers


# --------------------------------------------------------------------------- 1-D case
def _midpoint_integrals(edges, layers, target, k, ps) -> dict:
    mids = (edges[:-1] + edges[1:])[:, None] / 2
    e = np.abs(target(mids) - _forward(layers, mids)[0][k])
    return {p: float(np.sum(e**p * np.diff(edges))) for p in ps}


def _case_1d(seed, n_brute, tally):
    rng = np.random.default_rng(seed)
    target, f_min = TARGETS_1D[seed % len(TARGETS_1D)]
    layers = _scheme_1d(rng, f_min)
    K = len(layers)
    pieces = exact_pieces(layers, 0.0, 1.0)
    ends = np.array([float(p.a) for p in pieces] + [1.0])
    X = np.unique(np.concatenate([np.linspace(0, 1, n_brute), ends, SPECIAL_1D, rng.random(n_brute // 10)]))[:, None]
    f = target(X)
    G, err = _forward(layers, X)
    k = int(rng.integers(0, K + 1))
    res = [(p.a, p.b, Residual(target, p.S[k], p.T[k])) for p in pieces]
    # sup |e_k|
    sup = sup_abs(res, rtol=1e-3, max_boxes=len(pieces) + 300)
    e = sup.enclosure
    assert np.all(np.abs(f - G[k]) <= e.upper + err[k] + 1e-15), (seed, "sup below a brute-force value")
    if e.lower > 0:
        assert abs(residual_balls(layers, target, sup.point)[k]).upper() >= e.lower, (seed, "sup lower end")
    tally["sup"] += 1
    # L^p: midpoint rule on cells that end at every kink, error estimated by halving them
    edges = np.unique(np.concatenate([np.linspace(0, 1, 4 * n_brute // 10), ends, SPECIAL_1D]))
    fine = np.unique(np.concatenate([edges, (edges[:-1] + edges[1:]) / 2]))
    integrals, _ = lp_integrals(res, (1, 2), rtol=1e-3, max_boxes=len(pieces) + 300)
    coarse, fine = (_midpoint_integrals(x, layers, target, k, (1, 2)) for x in (edges, fine))
    for p in (1, 2):
        q_coarse, q_fine = coarse[p], fine[p]
        slack = 4 * abs(q_fine - q_coarse) + 1e-12 * (1 + q_fine)
        assert integrals[p].lower - slack <= q_fine <= integrals[p].upper + slack, (seed, p, "L^p")
    tally["lp"] += 1
    # C1 at a random grade (grade 1 for band schemes): counterexamples re-verified exactly, proved pieces clean
    k = 1 if f_min is not None else int(rng.integers(1, K + 1))
    excess = np.abs(f - G[k]) - np.abs(f - G[k - 1])
    slack = err[k] + err[k - 1] + 1e-15
    for p in pieces:
        prev, cur = Residual(target, p.S[k - 1], p.T[k - 1]), Residual(target, p.S[k], p.T[k])
        search = prove_monotone(prev, cur, p.a, p.b, max_boxes=40, stop_at_first=False)
        for c in search.counterexamples:
            ball = excess_ball(layers, target, c.point, k)
            assert ball > 0 and ball.upper() >= c.excess, (seed, c)
            assert float(p.a) <= c.point[0] <= float(p.b)
        tally["counterexamples"] += len(search.counterexamples)
        if search.status == "proved":
            tally["strict"] += _check_strict(search, layers, target, k, rng, seed)
            inside = (X[:, 0] >= float(p.a)) & (X[:, 0] <= float(p.b))
            assert np.all(excess[inside] <= slack[inside]), (seed, "a proved piece violates C1")
            tally["proved_pieces"] += 1
        tally["unresolved_pieces"] += search.status == "unresolved"


def _check_strict(search, layers, target, k, rng, seed):
    """A strict box (C3 by contraction) holds what it claims at points inside it: e_(k-1)^2 - e_k^2 is at
    least the certified margin (0 allowed), up to the float evaluation's rounding bound."""
    if search.strict is None:
        return 0
    lo, hi = np.array([b[0] for b in search.strict]), np.array([b[1] for b in search.strict])
    assert np.all(lo < hi), (seed, "a strict box of no volume")
    P = lo + (hi - lo) * rng.random((200, len(lo)))
    P = np.clip(P, 0.0, 1.0)
    f = target(P)
    G, err = _forward(layers, P)
    s = max(float(np.max(np.abs(f))), 1.0)  # the checks in units of the target's size: no overflow at 1e300
    cur, prev, r = np.abs(f - G[k]) / s, np.abs(f - G[k - 1]) / s, (err[k] + err[k - 1]) / s
    with np.errstate(over="ignore"):  # a rounding bound beyond float64: that point cannot be checked (slack inf)
        slack = 2 * (cur + prev + r) * r + 1e-300
    margin = search.strict_margin / s / s
    assert np.all(prev**2 - cur**2 >= margin - slack - 1e-15 * prev**2), (seed, "strict box")
    return 1 if search.strict_margin > 0 else 0  # counted where the margin makes the check quantitative


# --------------------------------------------------------------------------- 2-D and 3-D cases
def _grid(points, d):
    return np.stack(np.meshgrid(*[points] * d, indexing="ij"), -1).reshape(-1, d)


def _case_2d(seed, side, tally):
    _case_box(seed, side, tally, 2)


def _case_3d(seed, side, tally):
    _case_box(seed, side, tally, 3)


def _case_box(seed, side, tally, d):
    rng = np.random.default_rng(seed)
    target, f_min = TARGETS[d][seed % len(TARGETS[d])]
    layers = _scheme_box(rng, f_min, d)
    domain = [(0.0, 1.0)] * d
    K = len(layers)
    X = np.vstack([_grid(np.linspace(0, 1, side), d), rng.random((side**(d - 1) * 10, d))])
    f = target(X)
    G, err = _forward(layers, X)
    k = int(rng.integers(0, K + 1))
    sup = sup_abs_nd(layers, target, domain, k, rtol=1e-3, max_boxes=300)
    e = sup.enclosure
    assert np.all(np.abs(f - G[k]) <= e.upper + err[k] + 1e-15), (seed, d, "sup below a brute-force value")
    if e.lower > 0:
        assert abs(residual_balls(layers, target, sup.point)[k]).upper() >= e.lower, (seed, d, "sup lower end")
    tally["sup"] += 1
    steep = any(np.max(np.abs(layer.hidden[:-1])) > 50 for layer in layers)
    if not steep:  # a ridge narrower than the quadrature cells would fool the brute force, not the enclosure
        enc = LpEnclosureND(layers, target, domain, k, (1, 2))
        enc.refine(256)
        q = []
        for n in (side // 2, side):
            M = _grid((np.arange(n) + 0.5) / n, d)
            e = np.abs(target(M) - _forward(layers, M)[0][k])
            q.append({p: float(np.mean(e**p)) for p in (1, 2)})
        for p in (1, 2):
            slack = 8 * abs(q[1][p] - q[0][p]) + 1e-12
            assert enc.enclosure(p).lower - slack <= q[1][p] <= enc.enclosure(p).upper + slack, (seed, d, p, "L^p")
        tally["lp"] += 1
    k = 1 if f_min is not None else int(rng.integers(1, K + 1))
    search = prove_monotone_nd(layers, target, domain, k, max_boxes=600, stop_at_first=False)
    for c in search.counterexamples:
        ball = excess_ball(layers, target, c.point, k)
        assert ball > 0 and ball.upper() >= c.excess, (seed, c)
    tally["counterexamples"] += len(search.counterexamples)
    if search.status == "proved":
        tally["strict"] += _check_strict(search, layers, target, k, rng, seed)
        excess = np.abs(f - G[k]) - np.abs(f - G[k - 1])
        assert np.all(excess <= err[k] + err[k - 1] + 1e-15), (seed, d, "a proved grade violates C1")
        tally["proved"] += 1
    tally["unresolved"] += search.status == "unresolved"


def _run(case, seeds, size):
    """Run the cases; ``size`` (brute-force points, or grid side in 2-D, 3-D) is a number or a function of the seed."""
    keys = ("sup", "lp", "counterexamples", "proved_pieces", "unresolved_pieces", "proved", "unresolved", "strict")
    tally = dict.fromkeys(keys, 0)
    for seed in seeds:
        case(seed, size(seed) if callable(size) else size, tally)
    print(f"{case.__name__} seeds {seeds[0]}..{seeds[-1]}: {tally}")
    return tally


@pytest.mark.parametrize("block", range(BLOCKS_1D))
def test_fuzz_1d(block):
    tally = _run(_case_1d, list(range(block * CASES_1D, (block + 1) * CASES_1D)), 20_000)
    assert tally["sup"] == CASES_1D


@pytest.mark.parametrize("block", range(BLOCKS_2D))
def test_fuzz_2d(block):
    tally = _run(_case_2d, list(range(block * CASES_2D, (block + 1) * CASES_2D)), 120)
    assert tally["sup"] == CASES_2D


@pytest.mark.parametrize("block", range(BLOCKS_3D))
def test_fuzz_3d(block):
    tally = _run(_case_3d, list(range(block * CASES_3D, (block + 1) * CASES_3D)), 24)
    assert tally["sup"] == CASES_3D


@pytest.mark.slow
@pytest.mark.parametrize("block", range(SLOW_BLOCKS_1D))
def test_fuzz_1d_slow(block):
    seeds = list(range(10_000 + block * CASES_1D, 10_000 + (block + 1) * CASES_1D))
    _run(_case_1d, seeds, lambda seed: 10_000_000 if seed % 300 == 0 else 1_000_000)


@pytest.mark.slow
@pytest.mark.parametrize("block", range(SLOW_BLOCKS_2D))
def test_fuzz_2d_slow(block):
    _run(_case_2d, list(range(10_000 + block * CASES_2D, 10_000 + (block + 1) * CASES_2D)), 1000)


@pytest.mark.slow
@pytest.mark.parametrize("block", range(SLOW_BLOCKS_3D))
def test_fuzz_3d_slow(block):
    _run(_case_3d, list(range(10_000 + block * CASES_3D, 10_000 + (block + 1) * CASES_3D)), 100)
