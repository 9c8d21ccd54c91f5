"""The optional Sollya cross-check of the 1-D sup norms: it agrees, and it catches a wrong enclosure."""

import numpy as np
import pytest
from flint import fmpq

from mgdl_convex import MultigradeRegressor, get_target
from proofs_check import INCONCLUSIVE, check_scheme, scheme_from_model
from proofs_check import sollya as sollya_module
from proofs_check.balls import Enclosure
from proofs_check.checker import CheckSettings
from proofs_check.drivers import rigorous_1d
from proofs_check.pieces import Piece
from proofs_check.sollya import sollya_binary, sollya_cross_check, sollya_supnorms
from proofs_check.verdicts import c2_verdict

needs_sollya = pytest.mark.skipif(sollya_binary() is None, reason="sollya binary not installed (Debian package sollya)")


@needs_sollya
def test_sollya_supnorm_of_a_known_function():
    """sup |sin(100 x)| on [0, 1] is 1; on [0, 1/100] it is sin(1)."""
    zero = fmpq(0)
    pieces = [Piece(fmpq(0), fmpq(1), (zero,), (zero,)), Piece(fmpq(0), fmpq(1, 100), (zero,), (zero,))]
    whole = sollya_supnorms([pieces[:1]], "sin(100 * x)")[0]
    short = sollya_supnorms([pieces[1:]], "sin(100 * x)")[0]
    assert whole[0] <= 1.0 <= whole[1] and whole[1] - whole[0] < 1e-9
    assert short[0] <= np.sin(1.0) <= short[1]


@pytest.fixture(scope="module")
def sin100_scheme():
    target = get_target("sin100")
    m = MultigradeRegressor(n_grades=2, width=16, random_state=0).fit_target(target, samples=200)
    return scheme_from_model(m, target), target


@needs_sollya
def test_sollya_agrees_with_the_certified_enclosures(sin100_scheme):
    scheme, target = sin100_scheme
    c2 = check_scheme(scheme, target).claim("C2")
    info = c2.details["sollya"]
    assert info["ran"] and all(r["agrees"] for r in info["per_grade"])
    for ours, theirs in zip(c2.per_grade, info["per_grade"]):
        assert theirs["sollya_lower"] <= ours["upper"] and ours["lower"] <= theirs["sollya_upper"]
    assert "Sollya's supnorm agrees (3/3 grades)" in c2.summary


@needs_sollya
def test_a_wrong_enclosure_is_caught_by_sollya(sin100_scheme):
    """Plant a bug: our enclosure of grade 1 halved. Sollya's does not meet it: C2 cannot pass."""
    scheme, target = sin100_scheme
    s = CheckSettings()
    bounds = rigorous_1d(scheme, target, s)
    wrong = [g.sup.enclosure for g in bounds.grades]
    wrong[1] = Enclosure(wrong[1].lower / 2, wrong[1].upper / 2)
    c2 = sollya_cross_check(c2_verdict(bounds, target, scheme.records, scheme.domain, s), bounds.pieces, wrong, target)
    assert c2.outcome == INCONCLUSIVE and "does not meet" in c2.summary
    assert c2.details["sollya"]["per_grade"][1]["agrees"] is False


def test_without_sollya_the_report_says_why(sin100_scheme, monkeypatch):
    scheme, target = sin100_scheme
    monkeypatch.setattr(sollya_module, "sollya_binary", lambda: None)
    c2 = check_scheme(scheme, target).claim("C2")
    assert c2.details["sollya"] == {"ran": False, "reason": "sollya is not installed (Debian package sollya)"}
    off = check_scheme(scheme, target, CheckSettings(sollya="off"))
    assert "sollya" not in off.claim("C2").details
    with pytest.raises(ValueError, match="sollya must be"):
        check_scheme(scheme, target, CheckSettings(sollya="yes"))
