"""Independent evaluation for the tests: the network in exact rationals, the target in balls.

Shares nothing with proofs_check's searches (no pieces, no affine forms): a plain forward pass in
python-flint ``fmpq`` at a float point.
"""

from flint import arb, fmpq


def _q(v) -> fmpq:
    num, den = float(v).as_integer_ratio()
    return fmpq(num, den)


def exact_outputs(layers, x) -> list:
    """``[G_0, G_1, ..., G_K]`` at the float point x, exact rationals."""
    z = [_q(v) for v in x]
    out = [fmpq(0)]
    for layer in layers:
        H, a = layer.hidden, layer.readout
        zb = z + [fmpq(1)]
        pre = [sum((zb[i] * _q(H[i, j]) for i in range(len(zb))), fmpq(0)) for j in range(H.shape[1])]
        z = [p if p > 0 else fmpq(0) for p in pre]
        out.append(out[-1] + sum((_q(a[j]) * z[j] for j in range(len(z))), fmpq(0)))
    return out


def residual_balls(layers, target, x) -> list:
    """Balls containing ``e_k(x) = f(x) - G_k(x)``, k = 0..K."""
    f = target.arb(*[arb(v) for v in x])
    return [f - arb(g) for g in exact_outputs(layers, x)]


def excess_ball(layers, target, x, k) -> arb:
    """A ball containing ``|e_k(x)| - |e_(k-1)(x)|`` (arb's own |.|: a superset, still valid)."""
    e = residual_balls(layers, target, x)
    return abs(e[k]) - abs(e[k - 1])
