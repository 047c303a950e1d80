"""Single-trajectory metrics of one experiment (official ``error_SingleTraj_dataset``).

Change points: per-track Hungarian pairing on ``|Δt|`` (:func:`.pairing.changepoint_counts`);
RMSE over the TPs and the Jaccard similarity coefficient ``TP / (TP + FP + FN)``. Segments: paired
by frame overlap (:func:`.pairing.segment_pairs`), then pooled over the experiment: α mean absolute
error, K mean squared logarithmic error, state micro-F1 (= accuracy of single labels), with the
official substitutions for missing tracks and invalid values, and the official caps.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..andi2 import ALPHA_BOUNDS, K_BOUNDS
from .pairing import CP_THRESHOLD, FlatTracks, changepoint_counts, segment_pairs

__all__ = ["single_trajectory_scores", "SINGLE_FAILURE", "ALPHA_CAP", "K_CAP", "METRICS"]

# utils_challenge._get_error_bounds
ALPHA_ERROR, K_ERROR, STATE_ERROR = 2.0, 1e5, 0  # substituted for invalid predictions
ALPHA_CAP = abs(ALPHA_BOUNDS[1] - ALPHA_BOUNDS[0])  # metric_anomalous_exponent max_error
K_CAP = float((np.log1p(K_BOUNDS[0]) - np.log1p(K_BOUNDS[1])) ** 2)  # msle([1e-12], [1e6])
SINGLE_FAILURE = {"rmse_cp": 10.0, "jsc_cp": 0.0, "alpha_mae": 2.0, "K_msle": 1e5, "state_f1": 0.0}  # when_error_single
METRICS = tuple(SINGLE_FAILURE)  # the five single-trajectory metrics, in the official order


def single_trajectory_scores(truth: dict, pred: dict) -> dict:
    """Single-trajectory metrics of one experiment, as the official ``error_SingleTraj_dataset``.

    Parameters
    ----------
    truth, pred : dict of {traj_idx: SegmentResult}
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
    G = FlatTracks([gt[i] for i in ipres], "ground truth")
    P = FlatTracks([pr[i] for i in ipres], "prediction")

    tp, fp, fn, sq, tp_empty = changepoint_counts(G, P)
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

    t, g, p = segment_pairs(G, P)
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
