import numpy as np
import pytest

from mgdl_convex.targets import TARGETS, get_target, sample_grid, sample_uniform

flint = pytest.importorskip("flint")


@pytest.mark.parametrize("name", [n for n, t in TARGETS.items() if t.rigorous])
def test_ball_arithmetic_encloses_numpy_and_gradient_matches_finite_differences(name, rng):
    t = TARGETS[name]
    X = sample_uniform(t, 7, rng)
    X = X[np.all(np.abs(X - 0.3) > 1e-3, axis=1)]  # away from sqrt_kink's cusp
    y = t(X)
    h = 1e-6
    for x, fx in zip(X, y):
        ball = t.arb(*[flint.arb(float(c)) for c in x])
        assert ball.contains(flint.arb(float(fx)).mid()) or abs(float(ball.mid()) - fx) < 1e-12
        grad = t.arb_gradient(*[flint.arb(float(c)) for c in x])
        for i in range(t.dim):
            e = np.zeros(t.dim)
            e[i] = h
            fd = (t((x + e)[None])[0] - t((x - e)[None])[0]) / (2 * h)
            assert float(grad[i].mid()) == pytest.approx(fd, rel=1e-4, abs=1e-4)


def test_ball_over_an_interval_encloses_the_samples():
    t = TARGETS["fangxu1"]
    ball = t.arb(flint.arb(0.35, 0.05))  # [0.3, 0.4]
    vals = t(np.linspace(0.3, 0.4, 1001)[:, None])
    lo, hi = float(ball.lower()), float(ball.upper())
    assert lo <= vals.min() and vals.max() <= hi


def test_user_target_and_domain_checks(tmp_path, monkeypatch):
    (tmp_path / "mytargets.py").write_text("import numpy as np\ndef f(X):\n    return np.cos(X[:, 0]) * X[:, 1]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    t = get_target("mytargets:f", [[0, 1], [-1, 1]])
    assert t.numpy_only and not t.rigorous and t.dim == 2
    np.testing.assert_allclose(t(np.array([[0.0, 0.5]])), [0.5])
    with pytest.raises(ValueError, match="needs a domain"):
        get_target("mytargets:f")
    with pytest.raises(ValueError, match="non-empty hypercube"):
        get_target("mytargets:f", [[1, 0]])
    with pytest.raises(ValueError, match="unknown target"):
        get_target("nope")
    with pytest.raises(ValueError, match="cannot load"):
        get_target("mytargets:g", [[0, 1]])


def test_bad_target_values_are_caught(tmp_path, monkeypatch):
    (tmp_path / "bad.py").write_text(
        "import numpy as np\ndef nan(X):\n    return np.log(X[:, 0] - 0.5)\n"
        "def shape(X):\n    return np.zeros(3)\ndef boom(X):\n    raise RuntimeError('no')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    X = np.linspace(0, 1, 5)[:, None]
    with pytest.warns(RuntimeWarning):
        with pytest.raises(ValueError, match="not finite at x"):
            get_target("bad:nan", [[0, 1]])(X)
    with pytest.raises(ValueError, match="returned shape"):
        get_target("bad:shape", [[0, 1]])(X)
    with pytest.raises(ValueError, match="raised RuntimeError"):
        get_target("bad:boom", [[0, 1]])(X)


def test_sampling():
    t = TARGETS["osc2d"]
    X = sample_grid(t, 100)
    assert X.shape == (100, 2) and X.min() == 0 and X.max() == 1
    assert TARGETS["step"].continuous is False
