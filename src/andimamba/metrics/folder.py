"""Scoring a submission folder against a reference folder (official ``run_single_task`` + ``run_ensemble_task``).

Walks the reference's ``track_N/exp_E`` folders (:mod:`andimamba.andi2` layout), merges each
experiment's FOVs with the official ``traj_idx`` offsets, scores it with
:func:`.single.single_trajectory_scores` and :func:`.ensemble.ensemble_scores`, and averages over
experiments. As officially, any failure fails a whole task with its maximum errors.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .. import andi2
from ..errors import InputNotFoundError
from .ensemble import ENSEMBLE_FAILURE, ensemble_scores
from .labels import read_labels_file
from .single import SINGLE_FAILURE, single_trajectory_scores

__all__ = ["score_directory", "experiment_numbers", "experiment_labels", "ScoringFailed"]


class ScoringFailed(Exception):
    """A submission the official scorer gives its failure values (missing file, VIP mismatch)."""


def experiment_numbers(track_folder: Path) -> list[int]:
    """Experiments of a ``track_N`` folder, in the official order.

    Parameters
    ----------
    track_folder : path
        A ``track_N`` folder.

    Returns
    -------
    list of int
        The first integer of each sub-folder's name (hidden and ``_``-prefixed ones and names
        without a digit skipped), ordered by the sorted *names* (``exp_10`` before ``exp_2``).
    """
    names = sorted(p.name for p in Path(track_folder).iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                   and re.search(r"\d+", p.name))
    return [int(re.findall(r"\d+", n)[0]) for n in names]


def experiment_labels(pred_exp: Path, ref_exp: Path, track: int = andi2.TRACK, official_offsets: bool = True):
    """Truth and prediction of one experiment, its FOVs merged with the official ``traj_idx`` offsets.

    Parameters
    ----------
    pred_exp, ref_exp : path
        The experiment folders of the submission (``fov_J.txt``) and of the reference
        (``traj_labs_fov_J.txt``, and ``vip_idx_fov_J.txt`` for track 1).
    track : int
        1 (only the VIP tracks are scored) or 2.
    official_offsets : bool
        See below.

    Returns
    -------
    truth, pred : dict of {int: SegmentResult}
        Keyed by the shifted ``traj_idx``.

    Raises
    ------
    ScoringFailed
        For track 1, when a FOV's predicted indices are not its VIP indices.

    Notes
    -----
    Official (run_single_task): each FOV's indices are shifted by (last index so far + 1),
    computed *separately* for truth and predictions, so a prediction file missing its FOV's
    highest index shifts every later FOV off its truth; and while all predictions so far are
    empty, earlier FOVs are discarded. ``official_offsets=False`` shifts both by the truth's.
    """
    n_fovs = andi2.n_truth_fovs(ref_exp)
    keys_t, keys_p, labs_t, labs_p = [], [], [], []
    last_t = last_p = None
    for fov in range(n_fovs):
        preds = read_labels_file(andi2.fov_file(pred_exp, fov))
        trues = read_labels_file(andi2.truth_file(ref_exp, fov), warn=False)
        if track == 1:
            vip = np.loadtxt(andi2.vip_file(ref_exp, fov), ndmin=1).astype(int).tolist()
            if sorted(vip) != sorted(int(k) for k in preds):
                raise ScoringFailed(f"VIP indices of {andi2.fov_file(pred_exp, fov)} differ from the truth's")
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


def score_directory(pred_dir: str | Path, ref_dir: str | Path, track: int = andi2.TRACK,
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

    Raises
    ------
    InputNotFoundError
        If ``ref_dir`` has no ``track_{track}`` folder.
    ValueError
        For a label file with a non-numeric field, or inputs the official scorer crashes on
        (see :func:`~andimamba.metrics.single.single_trajectory_scores`).

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
    if not andi2.track_dir(ref_dir, track).is_dir():
        raise InputNotFoundError(f"{ref_dir}: no track_{track}/ folder — give the reference root that contains "
                                 f"track_{track}/exp_*/")
    exps = experiment_numbers(andi2.track_dir(ref_dir, track))
    ref = {e: andi2.exp_dir(ref_dir, e, track) for e in exps}
    sub = {e: andi2.exp_dir(pred_dir, e, track) for e in exps}
    cols = ["exp", "n_tracks", "rmse_cp", "jsc_cp", "alpha_mae", "K_msle", "state_f1"]
    overall = {}
    try:
        missing = [str(andi2.fov_file(sub[e], j)) for e in exps for j in range(andi2.n_truth_fovs(ref[e]))
                   if not andi2.fov_file(sub[e], j).is_file()]
        if missing:
            raise ScoringFailed(f"missing prediction file(s): {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
        rows = []
        for e in exps:
            s = single_trajectory_scores(*experiment_labels(sub[e], ref[e], track, official_offsets))
            rows.append([e, s["n_tracks"], s["rmse_cp"], s["jsc_cp"], s["alpha_mae"], s["K_msle"], s["state_f1"]])
        per_exp = pd.DataFrame(rows, columns=cols)
        w = per_exp["n_tracks"].to_numpy()
        overall = {c: float(np.average(per_exp[c], weights=w)) for c in cols[2:]}
        overall["n_tracks"] = int(w.sum())
    except ScoringFailed as err:
        warnings.warn(f"single-trajectory task scored as failed (official maximum errors): {err}", stacklevel=2)
        per_exp = pd.DataFrame([[np.nan] * len(cols)], columns=cols)
        overall = {**SINGLE_FAILURE, "n_tracks": 0}

    ens_rows = []
    for e in exps:
        try:
            true = andi2.read_ensemble_matrix(andi2.ensemble_file(ref[e]))
            pred = andi2.read_ensemble_matrix(andi2.ensemble_file(sub[e]))
            ens_rows.append([e, *ensemble_scores(true, pred)])
        except Exception as err:  # official: any failure → maximum errors for the whole task
            warnings.warn(f"ensemble task scored as failed (official maximum errors) at "
                          f"{andi2.ensemble_file(sub[e])}: {err}", stacklevel=2)
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
