"""Where does a new grade make the residual larger?  The rigorous C1 search as a separation oracle.

Given the frozen grades 1..k-1, a candidate grade k, a target and the domain (1-D, 2-D or 3-D),
:func:`monotone_violations` searches the whole domain for points where
``|e_k(x)| > |e_(k-1)(x)|`` (``e_j = f - G_j``).  A cutting-plane fit of grade k can add every
returned point as a constraint, solve again and repeat until the search proves the claim.

The search splits the domain into boxes (1-D: the exact linear pieces of the network, then
bisection; 2-D and 3-D: recursive halving) and ends each box in one of three states:

* **proved**: ``|e_k| <= |e_(k-1)|`` on the whole box, in ball arithmetic;
* **counterexample**: the box's midpoint (rounded to a float, 1-D) or centre (2-D, 3-D) is a float
  point x where ``|e_k(x)| - |e_(k-1)(x)| >= excess > 0`` is certified; the box is not split
  further, so a box can hide more violations, which the next search (after x is added) finds;
* **unresolved**: neither within the box budget (or the box became too narrow to split).

The claim holds on the domain exactly when the result's ``status`` is ``"proved"``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .bounds1d import Residual, prove_monotone
from .boundsnd import prove_monotone_nd
from .contract import Layer, Scheme
from .pieces import exact_pieces
from .searches import MonotoneSearch

__all__ = ["monotone_violations"]


def monotone_violations(
    previous: Sequence[Layer],
    layer: Layer,
    target,
    domain,
    max_boxes: int | None = None,
    stop_at_first: bool = False,
) -> MonotoneSearch:
    """Search the domain for certified points where grade ``len(previous) + 1`` raises |e|.

    ``previous``: the frozen grades' layers (any objects with ``hidden`` and ``readout``);
    ``layer``: the candidate grade; ``target``: a target with a ball-arithmetic form and
    gradient (``target.rigorous``); ``domain``: d x 2 with d in (1, 2, 3); ``max_boxes``: the search
    budget (1-D: per linear piece, default 2000; 2-D and 3-D: in all, default 200000).

    Returns a :class:`~proofs_check.searches.MonotoneSearch`: ``status`` ("proved",
    "counterexample" or "unresolved"), ``counterexamples`` (each a float ``point`` and a
    certified lower bound ``excess`` of ``|e_k(point)| - |e_(k-1)(point)|``), ``unresolved``
    boxes (tuples of ``(lo, hi)`` per coordinate) and the number of boxes searched.
    """
    if not getattr(target, "rigorous", False):
        raise ValueError(f"target {getattr(target, 'name', target)!r} has no ball-arithmetic form and gradient")
    scheme = Scheme((*previous, layer), domain)  # validates the shapes
    domain, layers, k = scheme.domain, scheme.layers, scheme.n_grades
    if domain.shape == (1, 2):
        budget = 2000 if max_boxes is None else max_boxes
        parts = []
        for p in exact_pieces(layers, domain[0, 0], domain[0, 1]):
            prev, cur = Residual(target, p.S[k - 1], p.T[k - 1]), Residual(target, p.S[k], p.T[k])
            part = prove_monotone(prev, cur, p.a, p.b, budget, stop_at_first)
            parts.append(part)
            if stop_at_first and part.counterexamples:
                break
        return MonotoneSearch.merge(k, parts)
    if domain.shape in ((2, 2), (3, 2)):
        budget = 200_000 if max_boxes is None else max_boxes
        return prove_monotone_nd(layers, target, domain, k, budget, stop_at_first)
    raise ValueError(f"monotone_violations searches 1-D, 2-D or 3-D domains, got a domain of shape {domain.shape}")
