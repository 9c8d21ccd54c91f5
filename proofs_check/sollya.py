"""Independent cross-check of the certified 1-D sup norms with Sollya's ``supnorm`` (optional).

Sollya (Debian package ``sollya``) encloses ``sup_{x in [a, b]} |p(x) - f(x)|`` rigorously for
a polynomial p (Chevillard, Harrison, Joldes, Lauter, TCS 2011: Taylor models and isolation of
the zeros of the derivative).  On every exact piece of the scheme the residual is
``f - (S x + T)`` with rational S, T, a, b, so the sup norm of ``e_k`` is the maximum over the
pieces of Sollya's enclosures.  The two computations share nothing but the exact pieces: an
enclosure of ours that does not meet Sollya's reveals a bug in one of them, and the checker
then refuses to pass C2.

Used when the ``sollya`` binary is on PATH and the target names a Sollya expression (its
``sollya`` attribute, written with exact rational constants).  Targets that Sollya cannot
bound (``|x|`` is not twice differentiable for it) get no cross-check, and the report says so.
:func:`sollya_cross_check` applies it to a C2 verdict.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from flint import fmpq

from .claims import INCONCLUSIVE, PASS, ClaimResult

__all__ = ["sollya_binary", "sollya_supnorms", "sollya_cross_check"]


SHIFT = fmpq(1, 2**200)


def sollya_binary() -> str | None:
    return shutil.which("sollya")


def _q(v) -> str:
    """An exact rational (fmpq) as a Sollya constant expression."""
    return f"({int(v.p)}/{int(v.q)})"


def _run(binary: str, expression: str, jobs: list, accuracy_bits: int, timeout: float) -> list:
    """Sollya's enclosure (lo, hi) of sup |S x + T - f| on [a, b] per job (k, a, b, S, T, shift), or None."""
    lines = ["prec = 200!;", "verbosity = 0!;", f"f = {expression};"]
    for i, (_, a, b, S, T, _) in enumerate(jobs):
        lines.append(f"r = supnorm({_q(T)} + {_q(S)} * x, f, [{_q(a)}; {_q(b)}], absolute, 2^(-{accuracy_bits}));")
        lines.append(f'print("R", {i}, inf(r), sup(r));')
    lines.append("quit;")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "supnorms.sollya"
        script.write_text("\n".join(lines) + "\n")
        try:
            out = subprocess.run(
                [binary, str(script)], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"sollya did not finish in {timeout:g} s") from e
    found: list = [None] * len(jobs)
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[0] != "R":
            continue
        try:
            lo, hi = float(parts[2]), float(parts[3])
        except ValueError:
            continue
        if math.isfinite(lo) and math.isfinite(hi):
            # the decimal output rounded to the nearest float: widen by one ulp each way
            found[int(parts[1])] = (math.nextafter(lo, -math.inf), math.nextafter(hi, math.inf))
    return found


def sollya_supnorms(partitions, expression: str, accuracy_bits: int = 40, timeout: float = 600.0, retries: int = 3):
    """Per grade k, Sollya's enclosure ``(lower, upper)`` of sup |e_k| over ``partitions[k]``, or None.

    ``partitions[k]``: pieces (:class:`~proofs_check.pieces.Piece`) on which ``G_k = S[k] x + T[k]``.

    A piece Sollya cannot bound is tried again with p shifted by 2^-200, then split in two
    (``retries`` rounds in all); a grade is None when some part of it still fails.  Raises
    ``RuntimeError`` when the binary is missing or does not finish in ``timeout`` seconds.
    """
    binary = sollya_binary()
    if binary is None:
        raise RuntimeError("the sollya binary is not on PATH")
    zero = fmpq(0)
    grades = len(partitions) - 1
    jobs = [(k, p.a, p.b, p.S[k], p.T[k], zero) for k, part in enumerate(partitions) for p in part]
    lower = [-math.inf] * (grades + 1)
    upper = [-math.inf] * (grades + 1)
    failed = [False] * (grades + 1)
    for attempt in range(retries + 1):
        retry = []
        for job, res in zip(jobs, _run(binary, expression, jobs, accuracy_bits, timeout)):
            k, a, b, S, T, shift = job
            if res is not None:
                d = 2 * float(shift)  # |sup |p + shift - f| - sup |p - f|| <= shift
                lo, hi = math.nextafter(res[0] - d, -math.inf), math.nextafter(res[1] + d, math.inf)
                lower[k], upper[k] = max(lower[k], lo), max(upper[k], hi)
            elif attempt == 0:
                # Sollya cannot bound an error function that vanishes exactly at an end point
                # (e.g. f(1) = 0 = p(1)): shift p by 2^-200 and widen by it
                retry.append((k, a, b, S, T + SHIFT, SHIFT))
            elif attempt < retries:
                mid = (a + b) / 2
                retry += [(k, a, mid, S, T, shift), (k, mid, b, S, T, shift)]
            else:
                failed[k] = True
        if not retry:
            break
        jobs = retry
    return [None if failed[k] else (lower[k], upper[k]) for k in range(grades + 1)]


def sollya_cross_check(c2: ClaimResult, partitions, sups, target, setting: str = "auto") -> ClaimResult:
    """Compare the certified sup enclosures (``sups``: one Enclosure per grade) with Sollya's.

    ``partitions[k]``: the pieces of grade k (:func:`~proofs_check.pieces.partitions`).

    An enclosure of ours that does not meet Sollya's makes C2 inconclusive (one of the two
    computations is wrong); where Sollya cannot run, the details say why.
    """
    if setting == "off":
        return c2
    expression = getattr(target, "sollya", None)
    reason = None
    if sollya_binary() is None:
        reason = "sollya is not installed (Debian package sollya)"
    elif expression is None:
        reason = f"target {target.name!r} has no Sollya expression"
    if reason is None:
        try:
            enclosures = sollya_supnorms(partitions, expression)
        except RuntimeError as e:
            reason = str(e)
    if reason is not None:
        return replace(c2, details={**c2.details, "sollya": {"ran": False, "reason": reason}})
    rows, disagree = [], []
    for k, (ours, theirs) in enumerate(zip(sups, enclosures)):
        row = {"grade": k, "sollya_lower": None, "sollya_upper": None, "agrees": None}
        if theirs is not None:
            row.update(sollya_lower=theirs[0], sollya_upper=theirs[1])
            row["agrees"] = theirs[0] <= ours.upper and ours.lower <= theirs[1]
            if not row["agrees"]:
                disagree.append(k)
        rows.append(row)
    details = {**c2.details, "sollya": {"ran": True, "per_grade": rows}}
    if disagree:
        line = (
            f"Sollya's supnorm does not meet our certified enclosure at grade(s) {disagree}: one of the two is "
            f"wrong, so nothing is claimed (please report it). {c2.summary}"
        )
        outcome = INCONCLUSIVE if c2.outcome == PASS else c2.outcome  # a failed hypothesis stays failed
        return replace(c2, outcome=outcome, summary=line, details=details)
    checked = sum(r["agrees"] is True for r in rows)
    return replace(c2, summary=f"{c2.summary}; Sollya's supnorm agrees ({checked}/{len(rows)} grades)", details=details)
