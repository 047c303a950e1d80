"""AnDi-2 scoring, reproducing ``andi_datasets.utils_challenge`` (2.1.13) number for number, vectorised.

Glossary (official function each piece mirrors):

- label line ``traj_idx, K_1, α_1, s_1, CP_1, …, K_n, α_n, s_n, T`` → :class:`TrackLabels`
  (``load_file_to_df``; ``cps`` excludes the final ``T``).
- change-point metric (``ensemble_changepoint_error`` with ``changepoint_assignment``): per track
  Hungarian pairing on ``|Δt|``; a pair with ``|Δt| < 10`` is a TP, else FP + FN; unpaired CPs are FP
  or FN; a track with no CP in truth and prediction adds one TP to the JSC only. RMSE over TPs.
- segment pairing (``segment_assignment``, ``check_no_changepoints``, ``segment_property_errors``):
  Hungarian on ``1 − Jaccard`` between the frame sets of ``create_binary_segment``.
- pooled pair metrics (``error_SingleTraj_dataset``): α MAE, K MSLE, state micro-F1.
- ensemble (``error_Ensemble_dataset``): W1 between truncated-normal mixtures on a 10⁶-point grid.

Hungarian problems whose solution is forced (one side without CP, a 2 × 2 matrix without a tie,
a single best column) are solved in bulk; the rest call ``scipy.optimize.linear_sum_assignment``
on the official cost matrix, bit for bit, so ties break the same way. Official quirks are kept on
purpose (listed in ``tests/test_metrics.py`` and the functions' Notes). Not reproduced: blank lines
are skipped (the official parser crashes); a repeated ``traj_idx`` keeps its first line (official:
an unstable sort decides, and a repeated truth line is scored twice); inputs the official scorer
crashes on raise ``ValueError`` with a reason; the ensemble table's ``exp`` holds the experiment
numbers (official: 0, 1, …); the input matrix's weights are not normalised in place; files in
``track_N/`` that are not experiment folders are ignored. Not implemented: the codalab HTML/score files.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special
from scipy.optimize import linear_sum_assignment

__all__ = ["TrackLabels", "parse_line", "read_labels_file", "single_trajectory_scores", "ensemble_scores",
           "score_directory", "SINGLE_FAILURE", "ENSEMBLE_FAILURE"]

# utils_challenge._get_error_bounds and models_phenom bounds
CP_THRESHOLD = 10  # frames
ALPHA_ERROR, K_ERROR, STATE_ERROR = 2.0, 1e5, 0  # substituted for invalid predictions
ALPHA_BOUNDS, K_BOUNDS = (0.0, 1.999), (1e-12, 1e6)
ALPHA_CAP = abs(ALPHA_BOUNDS[1] - ALPHA_BOUNDS[0])  # metric_anomalous_exponent max_error
K_CAP = float((np.log1p(K_BOUNDS[0]) - np.log1p(K_BOUNDS[1])) ** 2)  # msle([1e-12], [1e6])
SINGLE_FAILURE = {"rmse_cp": 10.0, "jsc_cp": 0.0, "alpha_mae": 2.0, "K_msle": 1e5, "state_f1": 0.0}  # when_error_single
ENSEMBLE_FAILURE = (ALPHA_CAP, abs(K_BOUNDS[1] - K_BOUNDS[0]))
_LOG_SQRT_2PI = np.log(np.sqrt(2 * np.pi))  # scipy's _norm_pdf_logC
_TIE = 1e-9  # cost gaps below this go to linear_sum_assignment (costs are rationals; rounding ~1e-16)
_EMPTY_I = np.zeros(0, np.int64)


@dataclass
class TrackLabels:
    """Labels of one track, as one line of an AnDi-2 label/submission file.

    Attributes
    ----------
    traj_idx : int
        Track index within its FOV.
    cps : ndarray of int64, shape (n_cp,)
        Change points (first frame of each new segment, 0-based), without the final ``T``;
        truncated toward zero as the official ``astype(int)``.
    alphas, Ks, states : ndarray of float, shape (n_seg,)
        Per-segment α, K (px²/frame^α) and state code; normally ``n_seg = n_cp + 1``. For a line
        that omits ``T`` the official reader takes the last CP as ``T``, so ``n_seg = n_cp + 2``
        and the last segment is never scored.
    T : int or None
        Track length (frames); None when the line holds no CP/T field at all (a track then
        scored as missing).
    """

    traj_idx: int
    cps: np.ndarray
    alphas: np.ndarray
    Ks: np.ndarray
    states: np.ndarray
    T: int | None


def parse_line(line: str) -> TrackLabels | None:
    """Parse one label line like the official ``load_file_to_df``.

    Returns None for a line the official reader drops: a length that is neither ``4n`` nor
    ``4n + 1`` values (and, unlike the official reader, which crashes there, a blank line).

    Raises
    ------
    ValueError
        If a field is not a number.
    """
    if not line.strip():
        return None
    try:
        v = [float(t) for t in line.split(",")]
    except ValueError as err:
        raise ValueError(f"non-numeric field in label line {line[:80]!r}: {err}") from None
    if len(v) % 4 not in (0, 1):
        return None
    arr = np.array(v)
    if all(abs(c) < 9e18 for c in v[4::4]):
        cps = arr[4::4].astype(np.int64)
    else:
        with np.errstate(invalid="ignore"):
            cps = arr[4::4].astype(np.int64)  # NaN, inf → INT_MIN, as the official astype(int)
    idx = int(v[0]) if v[0].is_integer() else v[0]
    return TrackLabels(idx, cps[:-1], arr[2::4], arr[1::4], arr[3::4], int(cps[-1]) if len(cps) else None)


def read_labels_file(path: str | Path, warn: bool = True) -> dict[int, TrackLabels]:
    """Read a ``traj_labs_fov_J.txt`` / ``fov_J.txt`` file into ``{traj_idx: TrackLabels}``.

    Lines of invalid length are dropped (the official reader drops them silently; we warn when
    ``warn``); a line without ``T`` has its last CP read as ``T``; a repeated ``traj_idx`` keeps
    its first line.
    """
    out: dict[int, TrackLabels] = {}
    dropped, no_t, no_field, dup = [], 0, 0, 0
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        lab = parse_line(line)
        if lab is None:
            if line.strip():
                dropped.append(n)
            continue
        no_field += lab.T is None
        no_t += lab.T is not None and len(lab.alphas) != len(lab.cps) + 1
        if lab.traj_idx in out:
            dup += 1
            continue
        out[lab.traj_idx] = lab
    if warn and (dropped or no_t or no_field or dup):
        msg = [f"{len(dropped)} line(s) of invalid length dropped (lines {dropped[:5]}…): "
               "those tracks score as missing"] if dropped else []
        msg += [f"{no_t} line(s) do not end with T: their last CP is read as T"] if no_t else []
        msg += [f"{no_field} line(s) have no CP/T field: scored as missing"] if no_field else []
        msg += [f"{dup} repeated traj_idx ignored"] if dup else []
        warnings.warn(f"{path}: " + "; ".join(msg), stacklevel=2)
    return out


# ----------------------------------------------------------------------------- ragged helpers
class _Side:
    """One side (truth or prediction) of the present tracks, flattened: per-track counts + offsets."""

    def __init__(self, tracks: list[TrackLabels], name: str):
        T = [t.T for t in tracks]
        cnt = [len(t.cps) for t in tracks]
        nval = [len(t.alphas) for t in tracks]
        bad = [t.traj_idx for t, tt, c, k in zip(tracks, T, cnt, nval)
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


def _segments(side: _Side):
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


# ----------------------------------------------------------------------------- single trajectory
def _cp_counts(G: _Side, P: _Side):
    """(TP, FP, FN, Σ squared TP errors, empty-both tracks) over the present tracks."""
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


def _segment_pairs(G: _Side, P: _Side):
    """Paired (track, truth value index, prediction value index), both within-track."""
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


def single_trajectory_scores(truth: dict, pred: dict) -> dict:
    """Single-trajectory metrics of one experiment, as the official ``error_SingleTraj_dataset``.

    Parameters
    ----------
    truth, pred : dict of {traj_idx: TrackLabels}
        Ground truth and predictions of the same experiment; tracks are scored in ``truth``'s order.

    Returns
    -------
    dict
        ``rmse_cp`` (frames), ``jsc_cp``, ``alpha_mae``, ``K_msle``, ``state_f1``, ``n_tracks``.

    Raises
    ------
    ValueError
        Where the official scorer crashes: no truth track, a present track with ``T < 1`` or too
        few values, a non-finite K after the NaN substitution (e.g. ``inf``) or in the truth.

    Notes
    -----
    A truth track whose prediction is absent, or has no CP/T field, is scored as the official
    placeholder: CP pair 20 vs 10 (FP + FN), α 2 vs 0, K 1e5 + 1 vs 1 (≈117 in the K-MSLE pool),
    state 10 vs 0. Predicted α NaN or outside [0, 2] → truth + 2; K NaN → |truth| + 1e5 (K are
    taken in absolute value, then clipped at 1e-12); state outside [0, 4] → 0; states compare as
    ``astype(int)``. α MAE is capped at 1.999 and K MSLE at ≈190.9. Tracks with no CP on either
    side add one TP to the JSC only; a set with no CP at all scores RMSE 0, JSC 1.
    """
    keys = list(truth)
    if not keys:
        raise ValueError("no ground-truth track to score")
    gt = [truth[k] for k in keys]
    pr = [pred.get(k) for k in keys]
    pres = np.array([p is not None and p.T is not None for p in pr], dtype=bool)
    ipres = np.flatnonzero(pres)
    n_miss = len(keys) - len(ipres)
    G = _Side([gt[i] for i in ipres], "ground truth")
    P = _Side([pr[i] for i in ipres], "prediction")

    tp, fp, fn, sq, tp_empty = _cp_counts(G, P)
    fp, fn = fp + n_miss, fn + n_miss  # placeholder pair |20 − 10| = 10, not < 10
    if tp + fp + fn == 0:
        if G.cnt.sum() + n_miss == 0:
            rmse, jsc = 0.0, 1.0
        else:  # unreachable with valid inputs; kept as the official branch
            warnings.warn("No segments found in your predictions dataset.", stacklevel=2)
            rmse, jsc = float(CP_THRESHOLD), 0.0
    else:
        rmse = float(np.sqrt(np.mean(sq))) if len(sq) else 0.0
        jsc = (tp + tp_empty) / (tp + tp_empty + fp + fn)

    t, g, p = _segment_pairs(G, P)
    gi, pi = G.val_off[t] + g, P.val_off[t] + p
    miss = np.flatnonzero(~pres)
    nm = len(miss)
    order = np.argsort(np.concatenate([ipres[t], miss]), kind="stable")  # official pair order

    def col(side_vals, idx, fill):
        return np.concatenate([side_vals[idx], np.full(nm, fill)])[order]

    ga, pa = col(G.alphas, gi, ALPHA_ERROR), col(P.alphas, pi, 0.0)
    gk, pk = col(G.Ks, gi, 1 + K_ERROR), col(P.Ks, pi, 1.0)
    gsv, psv = col(G.states, gi, 10.0), col(P.states, pi, 0.0)

    pa = np.where(np.isnan(pa) | (pa > 2) | (pa < 0), ga + ALPHA_ERROR, pa)
    nan_k = np.isnan(pk)
    gk, pk = np.abs(gk), np.abs(pk)
    pk = np.where(nan_k, gk + K_ERROR, pk)
    if not (np.isfinite(gk).all() and np.isfinite(pk).all()):
        raise ValueError("K contains inf (or NaN in the ground truth): the official scorer (sklearn) "
                         "rejects it; write finite K values")
    gk, pk = np.maximum(gk, K_BOUNDS[0]), np.maximum(pk, K_BOUNDS[0])
    psv = np.where((psv > 4) | (psv < 0), STATE_ERROR, psv)

    mae = float(np.mean(np.abs(ga - pa)))
    msle = float(np.mean((np.log1p(gk) - np.log1p(pk)) ** 2))
    with np.errstate(invalid="ignore"):
        f1 = float(np.mean(gsv.astype(int) == psv.astype(int)))  # micro-F1 of single labels = accuracy
    return {"rmse_cp": rmse, "jsc_cp": float(jsc), "alpha_mae": ALPHA_CAP if mae > ALPHA_CAP else mae,
            "K_msle": K_CAP if msle > K_CAP else msle, "state_f1": f1, "n_tracks": len(keys)}


# ----------------------------------------------------------------------------- ensemble
@lru_cache(maxsize=1)
def _supports():
    """Official grids (x, dx): 10⁶ points, linear on the α bounds, logarithmic on the K bounds."""
    n = int(1e6)
    x_a = np.linspace(ALPHA_BOUNDS[0], ALPHA_BOUNDS[1], n)
    x_k = np.logspace(np.log10(K_BOUNDS[0]), np.log10(K_BOUNDS[1]), n)
    return (x_a, np.diff(x_a)), (x_k, np.diff(x_k))


def _log_gauss_mass(a: float, b: float) -> float:
    """log(Φ(b) − Φ(a)), as scipy's truncnorm (left tail / right tail by symmetry / central)."""
    if b <= 0 or a > 0:
        a, b = (a, b) if b <= 0 else (-b, -a)
        return float(np.real(special.logsumexp([special.log_ndtr(b), special.log_ndtr(a) + np.pi * 1j], axis=0)))
    return float(special.log1p(-special.ndtr(a) - special.ndtr(-b)))


def _truncnorm_pdf(x, mean, var, lower, upper):
    """scipy.stats.truncnorm.pdf(x, (lower-mean)/sd, (upper-mean)/sd, loc=mean, scale=sd) on sorted x.

    Same operations as scipy (var floored at 1e-9 as multimode_dist), evaluated only where it can
    be non-zero: returns (i0, values of x[i0:i1]), zero elsewhere; None where scipy gives NaN.
    """
    var = 1e-9 if var < 1e-9 else var
    sd = np.sqrt(var)
    a, b = (lower - mean) / sd, (upper - mean) / sd
    if not (a < b and sd > 0):
        return None
    y = x - mean
    y /= sd  # (x - mean) / sd, non-decreasing in x
    log_mass = _log_gauss_mass(a, b)
    y_max = np.sqrt(2 * (760 - min(log_mass, 0)))  # beyond: exponent < -760, exp() == 0 exactly
    i0 = np.searchsorted(y, max(a, -y_max), "left")
    i1 = np.searchsorted(y, min(b, y_max), "right")
    t = y[i0:i1]  # in place, same rounding as exp((-y**2 / 2.0 - logC) - log_mass) / sd
    np.square(t, out=t)
    t /= -2.0
    t -= _LOG_SQRT_2PI
    t -= log_mass
    np.exp(t, out=t)
    t /= sd
    return i0, t


def _mixture(data: np.ndarray, which: str, x: np.ndarray) -> np.ndarray:
    """Mixture density on x of the α (rows 0, 1) or K (rows 2, 3) modes of a 5 × k ensemble matrix."""
    data = np.array(data, dtype=float)
    if data.ndim == 2 and data.shape[0] == 5:
        w = data[-1]
        if w.sum() > 1:
            w = w / w.sum()
        modes = data[:2].T if which == "alpha" else data[2:4].T
    elif data.ndim == 1 and data.shape[0] == 5:  # one state: weight 1 whatever row 5 says
        w, modes = np.ones(1), (data[:2] if which == "alpha" else data[2:4])[None]
    else:
        raise ValueError("ensemble matrix must be 5 × n_states (mean α, var α, mean K, var K, weight); "
                         f"got shape {data.shape}")
    lo, hi = ALPHA_BOUNDS if which == "alpha" else K_BOUNDS
    dist = np.zeros_like(x)
    for (mean, var), wi in zip(modes, w):
        pdf = _truncnorm_pdf(x, mean, var, lo, hi)
        if pdf is None or not np.isfinite(wi):  # official: NaN everywhere, rejected by wasserstein_distance
            return np.full_like(x, np.nan)
        i0, vals = pdf
        dist[i0:i0 + len(vals)] += wi * vals
    return dist


def _w1_same_support(dx, p, q) -> float:
    """scipy.stats.wasserstein_distance(x, x, p, q) for sorted x (dx = diff(x)), in O(n)."""
    for w in (p, q):
        if np.any(w < 0):
            raise ValueError("All weights must be non-negative.")
        if not 0 < np.sum(w) < np.inf:
            raise ValueError("Weight array-like sum must be positive and finite.")
    u, v = np.cumsum(p), np.cumsum(q)  # CDFs, as scipy's sorted cumulative weights
    u /= u[-1]
    v /= v[-1]
    u -= v
    np.abs(u, out=u)
    return float(np.dot(u[:-1], dx))


def ensemble_scores(true_matrix, pred_matrix) -> tuple[float, float]:
    """Ensemble-task distances, as the official ``error_Ensemble_dataset``.

    Parameters
    ----------
    true_matrix, pred_matrix : array_like, shape (5, n_states) or (5,)
        Rows: mean α, variance α, mean K, variance K, weight (``ensemble_labels.txt``).

    Returns
    -------
    (alpha_distance, K_distance) : tuple of float
        W1 between the mixtures of truncated normals (α on [0, 1.999], K on [1e-12, 1e6]), with the
        densities sampled on the official 10⁶-point grids (linear for α, log for K) used as weights.

    Raises
    ------
    ValueError
        For a matrix of another shape, or negative / NaN / all-zero densities (the official
        scorer fails there too and ``score_directory`` then gives the maximum errors).
    """
    (x_a, dx_a), (x_k, dx_k) = _supports()
    return (_w1_same_support(dx_a, _mixture(true_matrix, "alpha", x_a), _mixture(pred_matrix, "alpha", x_a)),
            _w1_same_support(dx_k, _mixture(true_matrix, "K", x_k), _mixture(pred_matrix, "K", x_k)))


# ----------------------------------------------------------------------------- directories
class _Failed(Exception):
    pass


def _experiment_numbers(track_dir: Path) -> list[int]:
    """Official order: sorted folder *names* (exp_10 before exp_2), first integer of each."""
    names = sorted(p.name for p in track_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                   and re.search(r"\d+", p.name))
    return [int(re.findall(r"\d+", n)[0]) for n in names]


def _experiment_labels(pred_exp: Path, ref_exp: Path, track: int, official_offsets: bool):
    """Truth and prediction dicts of one experiment, FOVs merged with the official traj_idx offsets.

    Official (run_single_task): each FOV's indices are shifted by (last index so far + 1),
    computed *separately* for truth and predictions, so a prediction file missing its FOV's
    highest index shifts every later FOV off its truth; and while all predictions so far are
    empty, earlier FOVs are discarded. ``official_offsets=False`` shifts both by the truth's.
    """
    n_fovs = sum(1 for p in ref_exp.iterdir() if p.name.startswith("traj_labs_"))
    keys_t, keys_p, labs_t, labs_p = [], [], [], []
    last_t = last_p = None
    for fov in range(n_fovs):
        preds = read_labels_file(pred_exp / f"fov_{fov}.txt")
        trues = read_labels_file(ref_exp / f"traj_labs_fov_{fov}.txt", warn=False)
        if track == 1:
            vip = np.loadtxt(ref_exp / f"vip_idx_fov_{fov}.txt", ndmin=1).astype(int).tolist()
            if sorted(vip) != sorted(int(k) for k in preds):
                raise _Failed(f"VIP indices of {pred_exp / f'fov_{fov}.txt'} differ from the truth's")
            trues = {k: v for k, v in trues.items() if k in vip}
        t_items, p_items = sorted(trues.items()), sorted(preds.items())
        if fov == 0 or last_t is None:
            off_t = off_p = 0
            keys_t, keys_p, labs_t, labs_p = [], [], [], []
        else:
            off_t = last_t + 1
            off_p = off_t if not official_offsets else (None if last_p is None else last_p + 1)
            if off_p is None:  # official: the IndexError drops what was gathered; truth stays shifted
                off_p, keys_t, keys_p, labs_t, labs_p = 0, [], [], [], []
        keys_t += [k + off_t for k, _ in t_items]
        labs_t += [v for _, v in t_items]
        keys_p += [k + off_p for k, _ in p_items]
        labs_p += [v for _, v in p_items]
        last_t = keys_t[-1] if keys_t else None
        last_p = keys_p[-1] if keys_p else None
    truth = dict(zip(keys_t, labs_t))
    pred = {}
    for k, v in zip(keys_p, labs_p):
        pred.setdefault(k, v)
    return truth, pred


def score_directory(pred_dir: str | Path, ref_dir: str | Path, track: int = 2,
                    official_offsets: bool = True) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Score a submission folder against a reference folder, as ``run_single_task`` + ``run_ensemble_task``.

    Parameters
    ----------
    pred_dir : path
        Holds ``track_{track}/exp_E/fov_J.txt`` and ``ensemble_labels.txt``.
    ref_dir : path
        Holds ``track_{track}/exp_E/traj_labs_fov_J.txt`` and ``ensemble_labels.txt`` (and
        ``vip_idx_fov_J.txt`` for track 1). Experiments and FOVs are those of the reference.
    track : int
        1 (videos: only the VIP tracks are scored) or 2 (trajectories).
    official_offsets : bool
        Reproduce the official FOV index offsets (see Notes); False aligns each FOV's
        predictions with its own truth.

    Returns
    -------
    per_experiment : DataFrame
        ``exp, n_tracks, rmse_cp, jsc_cp, alpha_mae, K_msle, state_f1`` (one NaN row on failure).
    overall : dict
        The five single-trajectory metrics averaged over experiments weighted by ``n_tracks``,
        ``n_tracks``, and ``ensemble_alpha``, ``ensemble_K`` (mean over experiments).
    ensemble : DataFrame
        ``exp, alpha_w1, K_w1`` (one NaN row on failure).

    Notes
    -----
    As officially: one missing prediction file (or a track-1 VIP mismatch) gives the whole
    single-trajectory task its failure values ``SINGLE_FAILURE``; any failure in the ensemble task
    (missing or malformed file) gives ``ENSEMBLE_FAILURE``. We warn naming the files. Each FOV's
    indices are shifted by the last index gathered so far + 1, separately for truth and
    predictions (official ``run_single_task``): a FOV file lacking its highest-index track
    misaligns every later FOV.
    """
    pred_dir, ref_dir = Path(pred_dir), Path(ref_dir)
    exps = _experiment_numbers(ref_dir / f"track_{track}")
    ref = {e: ref_dir / f"track_{track}" / f"exp_{e}" for e in exps}
    sub = {e: pred_dir / f"track_{track}" / f"exp_{e}" for e in exps}
    cols = ["exp", "n_tracks", "rmse_cp", "jsc_cp", "alpha_mae", "K_msle", "state_f1"]
    overall = {}
    try:
        missing = [str(sub[e] / f"fov_{j}.txt") for e in exps
                   for j in range(sum(1 for p in ref[e].iterdir() if p.name.startswith("traj_labs_")))
                   if not (sub[e] / f"fov_{j}.txt").is_file()]
        if missing:
            raise _Failed(f"missing prediction file(s): {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
        rows = []
        for e in exps:
            s = single_trajectory_scores(*_experiment_labels(sub[e], ref[e], track, official_offsets))
            rows.append([e, s["n_tracks"], s["rmse_cp"], s["jsc_cp"], s["alpha_mae"], s["K_msle"], s["state_f1"]])
        per_exp = pd.DataFrame(rows, columns=cols)
        w = per_exp["n_tracks"].to_numpy()
        overall = {c: float(np.average(per_exp[c], weights=w)) for c in cols[2:]}
        overall["n_tracks"] = int(w.sum())
    except _Failed as err:
        warnings.warn(f"single-trajectory task scored as failed (official maximum errors): {err}", stacklevel=2)
        per_exp = pd.DataFrame([[np.nan] * len(cols)], columns=cols)
        overall = {**SINGLE_FAILURE, "n_tracks": 0}

    ens_rows = []
    for e in exps:
        try:
            true = np.loadtxt(ref[e] / "ensemble_labels.txt", skiprows=1, delimiter=";")
            pred = np.loadtxt(sub[e] / "ensemble_labels.txt", skiprows=1, delimiter=";")
            ens_rows.append([e, *ensemble_scores(true, pred)])
        except Exception as err:  # official: any failure → maximum errors for the whole task
            warnings.warn(f"ensemble task scored as failed (official maximum errors) at "
                          f"{sub[e] / 'ensemble_labels.txt'}: {err}", stacklevel=2)
            ens_rows = None
            break
    if ens_rows is None:
        ens = pd.DataFrame([[np.nan] * 3], columns=["exp", "alpha_w1", "K_w1"])
        overall["ensemble_alpha"], overall["ensemble_K"] = ENSEMBLE_FAILURE
    else:
        ens = pd.DataFrame(ens_rows, columns=["exp", "alpha_w1", "K_w1"])
        overall["ensemble_alpha"] = float(np.mean(ens["alpha_w1"]))
        overall["ensemble_K"] = float(np.mean(ens["K_w1"]))
    return per_exp, overall, ens
