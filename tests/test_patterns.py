import numpy as np
import pytest

from mgdl_convex.patterns import enumerate_patterns, make_patterns, sample_patterns


def _pattern_set(D):
    return {bytes(c) for c in np.packbits(D, axis=0).T}


def _brute_force(Zb, rng, n_gates=200_000):
    U = rng.standard_normal((Zb.shape[1], n_gates))
    D = Zb @ U >= 0
    return _pattern_set(D[:, D.any(axis=0)])


def test_1d_enumeration_is_every_threshold(rng):
    x = np.sort(rng.uniform(-1, 2, 25))
    Zb = np.column_stack([x, np.ones_like(x)])
    p = enumerate_patterns(Zb)
    assert p.complete and p.n_patterns == 2 * len(x) - 1
    assert np.array_equal(Zb @ p.gates >= 0, p.D)
    assert _brute_force(Zb, rng) <= _pattern_set(p.D)


@pytest.mark.parametrize("points", ["grid", "collinear", "random"])
def test_2d_enumeration_matches_brute_force_on_degenerate_data(points, rng):
    if points == "grid":
        P = np.array([[a, b] for a in range(4) for b in range(4)], dtype=float)
    elif points == "collinear":
        P = np.column_stack([np.linspace(0, 1, 7), 2 * np.linspace(0, 1, 7) + 1])
    else:
        P = rng.uniform(0, 1, (12, 2))
    Zb = np.column_stack([P, np.ones(len(P))])
    p = enumerate_patterns(Zb)
    found = _brute_force(Zb, rng)
    ours = _pattern_set(p.D)
    assert found <= ours
    # every enumerated pattern is a closed half-plane split: realisable by a gate
    assert not p.D[:, ~p.D.any(axis=0)].size
    if points != "random":
        # on degenerate data, random gates still find everything: the sets must be equal
        assert found == ours


def test_sampled_patterns_are_distinct_nonzero_and_seeded(rng):
    Zb = np.column_stack([rng.standard_normal((40, 3)), np.ones(40)])
    a = sample_patterns(Zb, 100, np.random.default_rng(1))
    b = sample_patterns(Zb, 100, np.random.default_rng(1))
    assert np.array_equal(a.D, b.D)
    assert a.D.any(axis=0).all()
    assert len(_pattern_set(a.D)) == a.n_patterns
    assert np.array_equal(Zb @ a.gates >= 0, a.D)
    assert not a.complete


def test_all_patterns_refused_for_wide_input(rng):
    Zb = np.column_stack([rng.standard_normal((10, 3)), np.ones(10)])
    with pytest.raises(ValueError, match="dimension 1 or 2"):
        make_patterns(Zb, "all", 10, rng)
    assert make_patterns(Zb, "auto", 10, rng).method == "sampled"
    with pytest.raises(ValueError, match="patterns must be"):
        make_patterns(Zb, "every", 10, rng)
