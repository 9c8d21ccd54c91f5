"""The loss rows of a restricted grade program, compressed without ever holding them.

For the blocks ``b = 1..B`` kept by the working set (pattern ``D_b``, sign ``s_b``) the loss
is ``||F x - e||^2 / (2n)`` with ``F = [s_b D_b Zb]_b`` (n x qB): row j of F is the
Kronecker product ``m_j (x) Zb_j`` of the sample's signed mask ``m_j = (s_b D_jb)_b`` and
its input row.  Dense, F takes 8 n qB bytes (3.3 GB at n = 2^18, q = 33, B = 48) and its QR
2 n (qB)^2 flops.  :func:`compress_loss` returns ``R``, ``Q'e`` and a constant with::

    ||F x - e||^2 = ||R x - Q'e||^2 + const      for every x,

in two steps, each an orthogonal transformation of the rows (no normal equations, so no
squared conditioning):

1. **Samples with the same mask share one block structure.**  On a group G of samples
   with one mask m, ``F_G x = Zb_G y`` with ``y = (m (x) I_q) x``; the QR factorisation of
   ``[Zb_G, e_G]`` turns the group's rows into the q rows ``m (x) R_G`` with right-hand
   side ``Q_G' e_G``, plus the constant ``rho_G^2`` (its last diagonal entry, the part of
   ``e_G`` outside the range of ``Zb_G``); an SVD of ``R_G`` then keeps only its numerical
   rank of rows (two for samples along a straight stretch of a curve).  A mask changes only where a sample crosses one
   of the B gates, so on samples along a curve or a surface (every grade of a 1-D or 2-D
   scheme) the groups are few and n rows become a few thousand.  Every group of three or more
   samples is reduced, however small: on a later grade at n = 1024 most groups hold 5-20
   samples, and leaving those as they were kept all 1024 rows (260 once reduced).
2. **Streamed QR.**  The rows left are taken in chunks, ``R <- qr([R; F_chunk, e_chunk])``,
   keeping only the (qB + 1)-square triangle: its last column holds ``Q'e`` and its last
   diagonal entry the part of e outside the range of F.  If no more than qB rows are left
   they are returned as they are.

**Atoms: step 1 once per program.**  A grade's patterns stay the same along its regularization
path, so its training rows are reduced once (:func:`loss_atoms`, from the patterns' runs of
:mod:`mgdl_convex.pattern_runs`): an *atom* is a run of consecutive samples (along the curve
or grid line) on which every pattern is constant, so it
lies inside one mask group of every restricted program, and its rows reduce to its rank as in
step 1.  Every restricted solve of the program then starts step 1 from the atoms' rows (a few
thousand) instead of the n samples.

Samples are read ``sample_chunk`` at a time (masks included), and rows are factored
``row_chunk_bytes`` at a time: memory is O((qB)^2 + chunks), whatever n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .pattern_runs import PatternRuns

__all__ = ["block_features", "compress_loss", "LossAtoms", "loss_atoms"]

SAMPLE_CHUNK = 2**15
ROW_CHUNK_BYTES = 2**25
RANK_RTOL = 1e-13
FIRST_FAN_IN = 8


def block_features(Z: np.ndarray, masks: np.ndarray, sign: np.ndarray) -> np.ndarray:
    """Rows ``(sign * mask_j) (x) Z_j``: the k x qB matrix F of the rows ``Z`` (k x q) with ``masks`` (k x B)."""
    k, q = Z.shape
    return ((masks * sign)[:, :, None] * Z[:, None, :]).reshape(k, q * masks.shape[1])


def _groups(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples with equal mask rows: (samples sorted by group, their group ids, sizes of the groups)."""
    k = masks.shape[0]
    packed = np.packbits(masks, axis=1)
    keys = np.zeros((k, -(-packed.shape[1] // 8) * 8), dtype=np.uint8)
    keys[:, : packed.shape[1]] = packed
    keys = keys.view(np.uint64)  # a few integer sort keys per sample, not a byte-string sort
    by_group = np.lexsort(keys.T[::-1])
    sorted_keys = keys[by_group]
    first = np.r_[True, np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)]
    return by_group, np.cumsum(first) - 1, np.diff(np.r_[np.flatnonzero(first), k])


def _merge(items: np.ndarray, group: np.ndarray, fan_in: int) -> tuple[np.ndarray, np.ndarray]:
    """QR of up to ``fan_in`` consecutive items (stacked rows) of the same group, all in one batched call."""
    k = group.size
    first = np.r_[True, group[1:] != group[:-1]]
    slot = (np.arange(k) - np.maximum.accumulate(np.where(first, np.arange(k), 0))) % fan_in
    block = np.cumsum(slot == 0) - 1
    buf = np.zeros((block[-1] + 1, fan_in) + items.shape[1:])
    buf[block, slot] = items
    R = np.linalg.qr(buf.reshape(block[-1] + 1, -1, items.shape[2]), mode="r")
    return R, group[slot == 0]


def _group_triangles(A: np.ndarray, group: np.ndarray) -> np.ndarray:
    """R of the rows of ``A`` in each group (rows sorted by group), shape (groups, w, w).

    A tree of batched QRs (blocks of ``FIRST_FAN_IN`` rows, then four triangles at a time): a few
    numpy calls on small matrices, whatever the number and the sizes of the groups.  A group
    leaves the tree as soon as it is one triangle, so most of the buffers are as small as the
    rows, however many small groups there are.
    """
    w = A.shape[1]
    group = np.cumsum(np.r_[True, group[1:] != group[:-1]]) - 1  # numbered 0, 1, ... in order
    out = np.zeros((int(group[-1]) + 1, w, w))
    items, group = _merge(A[:, None, :], group, FIRST_FAN_IN)
    while group.size:
        new = np.r_[True, group[1:] != group[:-1]]
        done = new & np.r_[new[1:], True]  # the group's only item: its triangle
        out[group[done], : items.shape[1]] = items[done]
        items, group = items[~done], group[~done]
        if group.size:
            items, group = _merge(items, group, 4)
    return out


def _reduce_groups(Z: np.ndarray, e: np.ndarray, members: np.ndarray, group: np.ndarray):
    """Each group's rows ``[Z, e]`` reduced to its rank (``members``: rows sorted by ``group``).

    A group's triangle ``[R_G, r_G; 0, rho_G]`` of ``[Z_G, e_G]`` is reduced further by the SVD
    ``R_G = U S V'``: the rows ``S V'`` with right-hand side ``U' r_G``, dropping the directions
    with ``s_i <= RANK_RTOL s_1`` (their right-hand side goes to the constant).  Samples along
    a straight stretch of a curve give rank 2: two rows, not q.  Returns the rows, their
    right-hand sides, the position (in ``members``) of a member of each row's group, and the constant.
    """
    q = Z.shape[1]
    R = _group_triangles(np.column_stack([Z[members], e[members]]), group)
    U, S, Vt = np.linalg.svd(R[:, :q, :q])
    rhs = np.einsum("gij,gi->gj", U, R[:, :q, q])
    keep = S > RANK_RTOL * S[:, :1]
    const = float(np.sum(R[:, q, q] ** 2) + np.sum(rhs[~keep] ** 2))
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return (S[:, :, None] * Vt)[keep], rhs[keep], first[np.nonzero(keep)[0]], const


def _group_rows(Z: np.ndarray, masks: np.ndarray, e: np.ndarray):
    """Step 1 on some samples: rows (Z, masks, e) and the constant; groups of more than two samples compressed."""
    by_group, group_sorted, counts = _groups(masks)
    alone = np.empty(by_group.size, dtype=bool)
    alone[by_group] = counts[group_sorted] <= 2  # rank >= min(size, 2) on a curve: nothing to gain
    members = by_group[~alone[by_group]]
    if members.size == 0:
        return Z, masks, e, 0.0
    rows, rhs, owner, const = _reduce_groups(Z, e, members, group_sorted[~alone[by_group]])
    return (
        np.concatenate([Z[alone], rows]),
        np.concatenate([masks[alone], masks[members[owner]]]),
        np.concatenate([e[alone], rhs]),
        const,
    )


@dataclass(frozen=True)
class LossAtoms:
    """The training rows of one grade program reduced once, for every restricted solve of it.

    An *atom* is a run of consecutive samples (along the samples' order) on which every
    pattern of the program is constant.  Whatever blocks a restricted program keeps, an atom
    lies inside one of its mask groups, so step 1 may start from the atoms' reduced rows
    instead of the n samples: ``Z``, ``e`` (their right-hand sides) and ``sample`` (a sample of
    each row's atom, whose mask row the row carries), with ``const`` the part of e they drop.
    ``source`` is the program data they were computed from (``Zb``, ``D``, ``e``); they are
    used only for that very data.
    """

    Z: np.ndarray
    e: np.ndarray
    sample: np.ndarray
    const: float
    source: tuple

    def describe(self, Zb, D, e) -> bool:
        """Whether these atoms were computed from exactly these arrays (identity, not equality)."""
        return len(self.source) == 3 and all(a is b for a, b in zip(self.source, (Zb, D, e)))


#: atoms are kept when they number at most this share of the samples
MAX_ATOM_SHARE = 1 / 8


def loss_atoms(Zb: np.ndarray, e: np.ndarray, runs: PatternRuns | None) -> LossAtoms | None:
    """The atoms of a program's training rows (:class:`LossAtoms`), from its patterns' runs.

    An atom ends wherever some pattern's run starts or ends, so the runs (read along the
    samples' order, :func:`mgdl_convex.pattern_runs.pattern_runs`) give the atoms without
    reading D again.  ``None`` without runs (scattered samples: atoms, at least as many as any
    one pattern's runs, would not pay either) or with more than ``MAX_ATOM_SHARE`` n atoms.
    """
    if runs is None or runs.shape[0] != Zb.shape[0] or e.shape != (Zb.shape[0],):
        return None
    n = Zb.shape[0]
    changes = np.zeros(n + 1, dtype=bool)
    changes[runs.starts] = changes[runs.ends] = True
    changes[0] = True
    atom = np.cumsum(changes[:n]) - 1
    if atom[-1] + 1 > MAX_ATOM_SHARE * n:
        return None
    perm = np.arange(n) if runs.perm is None else runs.perm
    rows, rhs, owner, const = _reduce_groups(Zb, e, perm, atom)
    return LossAtoms(rows, rhs, perm[owner], const, (Zb, runs.source, e))


class _StreamedQR:
    """Step 2: rows arrive in pieces; R of ``[F, e]`` is updated once a chunk has gathered."""

    def __init__(self, q: int, sign: np.ndarray, row_chunk_bytes: int):
        self.sign = sign
        self.width = q * sign.size + 1  # columns of [F, e]
        self.chunk_rows = max(2 * self.width, row_chunk_bytes // (8 * self.width))
        self.R = None
        self.pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.count = 0

    def add(self, Z: np.ndarray, masks: np.ndarray, e: np.ndarray) -> None:
        self.pending.append((Z, masks, e))
        self.count += e.size
        if self.count >= self.chunk_rows:
            self._factor()

    def _rows(self) -> tuple[np.ndarray, np.ndarray]:
        Z, masks, e = (np.concatenate(parts) for parts in zip(*self.pending))
        self.pending, self.count = [], 0
        return block_features(Z, masks, self.sign), e

    def _factor(self) -> None:
        F, e = self._rows()
        top = 0 if self.R is None else self.R.shape[0]
        A = np.empty((top + e.size, self.width), order="F")
        if top:
            A[:top] = self.R
        A[top:, :-1] = F
        A[top:, -1] = e
        del F
        self.R = sla.qr(A, mode="r", overwrite_a=True, check_finite=False)[0]

    def result(self) -> tuple[np.ndarray, np.ndarray, float]:
        """``(F_loss, e_loss, const)``: R and Q'e, or the rows as they are if there are no more than qB."""
        N = self.width - 1
        if self.R is None and self.count <= N:
            if not self.pending:
                return np.zeros((0, N)), np.zeros(0), 0.0
            F, e = self._rows()
            return F, e, 0.0
        if self.pending:
            self._factor()
        R = self.R  # at least N + 1 rows: a chunk holds at least that many
        return R[:N, :N], R[:N, N], float(R[N, N]) ** 2


def compress_loss(
    Zb: np.ndarray,
    D,
    e: np.ndarray,
    pattern: np.ndarray,
    sign: np.ndarray,
    sample_chunk: int = SAMPLE_CHUNK,
    row_chunk_bytes: int = ROW_CHUNK_BYTES,
    atoms: LossAtoms | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """``(F_loss, e_loss, const)`` with ``||F x - e||^2 = ||F_loss x - e_loss||^2 + const`` (module docstring).

    ``F = [sign_b D[:, pattern_b] Zb]_b``; ``D`` is read ``sample_chunk`` rows at a time.
    ``F_loss`` has at most qB rows.  ``atoms``: :func:`loss_atoms` of these very ``Zb, D, e``
    (step 1 then starts from their rows, not from the n samples; other atoms are ignored).
    """
    n, q = Zb.shape
    sign = np.asarray(sign, dtype=float)
    if sign.size == 0:
        return np.zeros((0, 0)), np.zeros(0), float(e @ e)
    stream = _StreamedQR(q, sign, row_chunk_bytes)
    if atoms is not None and atoms.describe(Zb, D, e):
        Z, masks, r, c = _group_rows(atoms.Z, D[np.ix_(atoms.sample, pattern)], atoms.e)
        stream.add(Z, masks, r)
        F_loss, e_loss, c2 = stream.result()
        return F_loss, e_loss, atoms.const + c + c2
    const = 0.0
    for start in range(0, n, sample_chunk):
        rows = slice(start, start + sample_chunk)
        Z, masks, r, c = _group_rows(Zb[rows], D[rows, pattern], e[rows])
        stream.add(Z, masks, r)
        const += c
    F_loss, e_loss, c = stream.result()
    return F_loss, e_loss, const + c
