"""Hungarian pairing of change points and of segments, per track, on flattened (ragged) arrays.

Mirrors ``andi_datasets.utils_challenge`` (2.1.13): ``changepoint_assignment`` (CPs, on ``|Δt|``)
and ``segment_assignment`` / ``check_no_changepoints`` / ``create_binary_segment`` (segments, on
``1 − Jaccard`` of their frame sets). All tracks are flattened into one set of arrays
(:class:`FlatTracks`); assignments whose solution is forced are solved in bulk and only the rest
call ``scipy.optimize.linear_sum_assignment``, bit for bit on the official cost matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..result import SegmentResult

__all__ = ["CP_THRESHOLD", "FlatTracks", "changepoint_counts", "segment_pairs"]

CP_THRESHOLD = 10  # frames: a CP pair closer than this is a TP (utils_challenge threshold)
_TIE = 1e-9  # cost gaps below this go to linear_sum_assignment (costs are rationals; rounding ~1e-16)
_EMPTY_I = np.zeros(0, np.int64)


class FlatTracks:
    """One side (truth or prediction) of the scored tracks, flattened: per-track counts + offsets.

    Parameters
    ----------
    tracks : list of SegmentResult
        The tracks present on both sides, in scoring order.
    name : str
        The side's name, for error messages.

    Attributes
    ----------
    T, cnt : ndarray, shape (n,), int
        Track lengths and CP counts (without ``T``).
    cp_off, val_off : ndarray, shape (n + 1,), int
        Offsets of each track's CPs in ``cps`` and of its values in ``alphas``, ``Ks``, ``states``.
    cps : ndarray, shape (Σcnt,), int
    alphas, Ks, states : ndarray, shape (Σ values,), float

    Raises
    ------
    ValueError
        For a track without ``T``, with ``T < 1`` or with fewer α/K/state values than segments.
    """

    def __init__(self, tracks: list[SegmentResult], name: str):
        T = [t.T for t in tracks]
        cnt = [len(t.cps) for t in tracks]
        nval = [len(t.alphas) for t in tracks]
        bad = [t.track_id for t, tt, c, k in zip(tracks, T, cnt, nval)
               if tt is None or tt < 1 or k < c + 1 or len(t.Ks) != k or len(t.states) != k]
        if bad:
            raise ValueError(f"{name}: tracks {bad[:5]} have no T, T < 1 or fewer α/K/state values than "
                             "segments (the official scorer crashes on them)")
        self.T = np.array(T, dtype=np.int64)  # (n,)
        self.cnt = np.array(cnt, dtype=np.int64)  # (n,) CPs without T
        self.cp_off, self.val_off = _offsets(self.cnt), _offsets(np.array(nval, dtype=np.int64))
        if tracks:
            self.cps = np.concatenate([t.cps for t in tracks]).astype(np.int64)  # (Σcnt,)
            self.alphas = np.concatenate([t.alphas for t in tracks]).astype(float)  # (Σnval,)
            self.Ks = np.concatenate([t.Ks for t in tracks]).astype(float)
            self.states = np.concatenate([t.states for t in tracks]).astype(float)
        else:
            self.cps, self.alphas, self.Ks, self.states = _EMPTY_I, np.zeros(0), np.zeros(0), np.zeros(0)


def _offsets(counts: np.ndarray) -> np.ndarray:
    off = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=off[1:])
    return off


def _cross(na: np.ndarray, nb: np.ndarray):
    """All (j, k), j < na[i], k < nb[i], row-major per track i: (track, j, k, offsets)."""
    sizes = na * nb
    off = _offsets(sizes)
    tid = np.repeat(np.arange(len(sizes)), sizes)
    local = np.arange(off[-1]) - off[tid]
    return tid, local // nb[tid], local % nb[tid], off


def _segments(side: FlatTracks):
    """Frame intervals [start, stop) of the rows of the official ``create_binary_segment``.

    The official CP list is ``cps + [T]``; ``segment_assignment(T=None)`` drops its last item
    unless it is alone, so a track without CP gets C = [T]: rows ``[0, T)`` and an empty one.
    Row k spans ``[C'[k] + 1, C'[k+1] + 1)`` (C' = [0] + C) with Python slice semantics on an axis
    of length T, the last row ``[C[-1] + 1, T)``, and row 0 also holds frame 0.
    Returns (start, stop, rows, row offsets).
    """
    n, r = len(side.T), np.maximum(side.cnt, 1)
    c_off = _offsets(r)
    C = np.empty(c_off[-1], np.int64)  # (Σr,)
    C[np.repeat(c_off[:-1] - side.cp_off[:-1], side.cnt) + np.arange(len(side.cps))] = side.cps
    C[c_off[:-1][side.cnt == 0]] = side.T[side.cnt == 0]
    rows = r + 1
    row_off = c_off + np.arange(n + 1)
    ext = np.zeros(row_off[-1], np.int64)  # (Σrows,) = [0, C...] per track
    ext[np.arange(len(C)) + np.repeat(np.arange(n), r) + 1] = C
    stop = np.empty_like(ext)
    stop[:-1] = ext[1:] + 1
    T = np.repeat(side.T, rows)
    last = row_off[1:] - 1
    stop[last] = side.T

    def norm(x):  # Python slice index normalisation on an axis of length T
        return np.where(x < 0, np.maximum(x + T, 0), np.minimum(x, T))

    start, stop = norm(ext + 1), norm(stop)
    stop = np.maximum(stop, start)
    first = row_off[:-1]
    start[first], stop[first] = 0, np.maximum(stop[first], 1)
    return start, stop, rows, row_off


def _jaccard_cost(gs, ge, ps, pe):
    """1 − Jaccard of frame intervals; 1 when both are empty (official jaccard_between_segments)."""
    tp = np.maximum(np.minimum(ge, pe) - np.maximum(gs, ps), 0)
    union = (ge - gs) + (pe - ps) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, 1.0 - tp / union, 1.0)


def changepoint_counts(G: FlatTracks, P: FlatTracks):
    """Change-point assignment of every track, as the official ``changepoint_assignment``.

    Per track, Hungarian pairing of truth and predicted CPs on ``|Δt|``; a pair with
    ``|Δt| < CP_THRESHOLD`` is a TP, else one FP and one FN; unpaired CPs are FP or FN.

    Parameters
    ----------
    G, P : FlatTracks
        Truth and prediction of the same tracks.

    Returns
    -------
    tp, fp, fn : int
    sq : ndarray, shape (tp,), int
        Squared ``Δt`` of the TPs.
    empty : int
        Tracks without CP on either side (one TP each for the JSC only).
    """
    ng, npr = G.cnt, P.cnt
    m = np.minimum(ng, npr)
    dists = []
    one = np.flatnonzero(m == 1)  # one side single: Hungarian = nearest, ties give the same |Δt|
    if len(one):
        tid, j, k, off = _cross(ng[one], npr[one])
        d = np.abs(G.cps[G.cp_off[one][tid] + j] - P.cps[P.cp_off[one][tid] + k])
        dists.append(np.minimum.reduceat(d, off[:-1]))
    many = np.flatnonzero(m >= 2)
    if len(many):
        tid, j, k, off = _cross(ng[many], npr[many])
        d = np.abs(G.cps[G.cp_off[many][tid] + j] - P.cps[P.cp_off[many][tid] + k])
        dm = d.astype(float)
        for a, b, i in zip(off[:-1].tolist(), off[1:].tolist(), many.tolist()):
            r, c = linear_sum_assignment(dm[a:b].reshape(ng[i], -1))
            dists.append(d[a:b].reshape(ng[i], -1)[r, c])
    d = np.concatenate(dists) if dists else _EMPTY_I
    tp = d < CP_THRESHOLD
    n_fail = int(np.sum(~tp))
    fp = n_fail + int(np.maximum(npr - ng, 0).sum())
    fn = n_fail + int(np.maximum(ng - npr, 0).sum())
    return int(tp.sum()), fp, fn, d[tp] ** 2, int(np.sum((ng == 0) & (npr == 0)))


def segment_pairs(G: FlatTracks, P: FlatTracks):
    """Segment assignment of every track, as the official ``segment_assignment``.

    Hungarian pairing on ``1 − Jaccard`` between the frame sets of the official
    ``create_binary_segment``; a track without CP on either side pairs its first segments
    (``check_no_changepoints``). Problems whose solution is forced (truth without CP and a single
    best column, a 2 × 2 matrix without a tie) are solved in bulk, the rest by
    ``scipy.optimize.linear_sum_assignment`` on the official cost matrix, so ties break the same way.

    Parameters
    ----------
    G, P : FlatTracks
        Truth and prediction of the same tracks.

    Returns
    -------
    track, g, p : ndarray, shape (n_pairs,), int
        Paired (track, truth value index, prediction value index), both indices within the track.

    Notes
    -----
    Official quirk kept: for a prediction without CP, the truth index is the *position* in
    ``row_ind`` of the row paired with column 0, not that row's segment index.
    """
    ng, npr = G.cnt, P.cnt
    out_t, out_g, out_p = [], [], []
    a = np.flatnonzero((ng == 0) & (npr == 0))  # check_no_changepoints: first with first
    out_t.append(a), out_g.append(np.zeros_like(a)), out_p.append(np.zeros_like(a))
    need = np.flatnonzero((ng > 0) | (npr > 0))
    if len(need) == 0:
        return [np.concatenate(x) for x in (out_t, out_g, out_p)]
    gs, ge, grows, goff = _segments(G)
    ps, pe, prows, poff = _segments(P)
    rg, rp = grows[need], prows[need]
    tid, j, k, off = _cross(rg, rp)
    gi, pi = goff[need][tid] + j, poff[need][tid] + k
    cost = _jaccard_cost(gs[gi], ge[gi], ps[pi], pe[pi])  # (Σ rg·rp,) row-major per track
    kind_b = ng[need] == 0  # truth without CP: its full row takes its best column
    kind_c = npr[need] == 0  # prediction without CP: always via linear_sum_assignment (quirk below)
    slow = kind_c.copy()
    # B: row 0 (truth's whole track) against every predicted segment; row 1 is empty (cost 1)
    qb = np.flatnonzero(kind_b)
    if len(qb):
        sel = kind_b[tid] & (j == 0)
        c0, k0 = cost[sel], k[sel]
        starts = _offsets(rp[qb])[:-1]
        near = c0 <= np.repeat(np.minimum.reduceat(c0, starts), rp[qb]) + _TIE
        uniq = np.add.reduceat(near, starts) == 1
        slow[qb[~uniq]] = True
        hit = near & np.repeat(uniq, rp[qb])
        out_t.append(need[qb[uniq]]), out_g.append(np.zeros(uniq.sum(), np.int64)), out_p.append(k0[hit])
    # D 2 × 2: the cheaper of the two permutations, when clearly cheaper
    qd = np.flatnonzero(~kind_b & ~kind_c & (rg == 2) & (rp == 2))
    if len(qd):
        c = cost[off[qd][:, None] + np.arange(4)]  # (nd, 4): c00 c01 c10 c11
        diag, anti = c[:, 0] + c[:, 3], c[:, 1] + c[:, 2]
        tie = np.abs(diag - anti) <= _TIE
        slow[qd[tie]] = True
        ok, flip = qd[~tie], (anti < diag)[~tie].astype(np.int64)
        out_t += [need[ok]] * 2
        out_g += [np.zeros(len(ok), np.int64), np.ones(len(ok), np.int64)]
        out_p += [flip, 1 - flip]
    slow |= ~kind_b & ~kind_c & ((rg > 2) | (rp > 2))
    lt, lg, lp = [], [], []
    for q in np.flatnonzero(slow).tolist():
        r, c = linear_sum_assignment(cost[off[q]:off[q + 1]].reshape(rg[q], rp[q]))
        if kind_c[q]:  # official quirk: the *position* in row_ind of the row paired with column 0
            lt.append(need[q]), lg.append(c.tolist().index(0)), lp.append(0)  # is used as the truth index
        elif kind_b[q]:
            lt.append(need[q]), lg.append(0), lp.append(c[0])
        else:
            lt += [need[q]] * len(r)
            lg += r.tolist()
            lp += c.tolist()
    out_t.append(np.array(lt, np.int64)), out_g.append(np.array(lg, np.int64)), out_p.append(np.array(lp, np.int64))
    return [np.concatenate(x).astype(np.int64) for x in (out_t, out_g, out_p)]
