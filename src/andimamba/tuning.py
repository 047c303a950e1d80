"""Choosing the per-frame → segments parameters of a trained model on held-out simulated data.

The network's per-frame outputs are computed once on a tuning set (every AnDi-2 model, experiments
drawn from the challenge prior and from the broad prior, and a realisation of the organisers' nine
benchmark experiments, with a seed disjoint from training and from the benchmark's); every candidate
``SegmenterConfig`` is then scored with the official single-trajectory metrics and candidates are
ranked as the AnDi-2 challenge ranked teams: by the
mean of their ranks over CP RMSE, CP JSC, α MAE, K MSLE and state F1. With ``pooled`` (the default) each candidate
is scored on what ``predict`` answers: its segments with states and α pooled per experiment
(:mod:`andimamba.state_pooling`, :mod:`andimamba.pooling`), the per-length errors measured once with the best
candidate without pooling (the calibration depends little on the segmenter). The winner is recorded in the
checkpoint's ``config.json`` (:func:`andimamba.checkpoint.write_segmenter`), where
:func:`andimamba.checkpoint.load_checkpoint` (and so :func:`andimamba.predict.load_predictor`) finds it,
together with the errors of the winner's segment α and K by segment length on the same tuning set
(:func:`andimamba.pooling.calibrate`), which per-experiment pooling needs.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from .segments import SegmenterConfig, segment_batch


def tuning_set(n_fovs: int = 4, seed: int = 777):
    """List of (experiment name, list of FOV): one experiment of each of the five models from each of the
    challenge and broad priors, and the nine experiments of the organisers' published benchmark recipe
    (:mod:`andimamba.sim.recipes`, this seed's own realisation), ``n_fovs`` FOVs each."""
    from .sim.dataset import broad_params
    from .sim.experiment import simulate_experiment
    from .sim.params import MODELS, challenge_params
    from .sim.recipes import published

    out = []
    rng = np.random.default_rng(seed)
    for m in MODELS:
        for prior, fn in (("challenge", challenge_params), ("broad", broad_params)):
            p = fn(m, rng)
            _, fovs = simulate_experiment(params=p, n_fovs=n_fovs, seed=int(rng.integers(1 << 31)), progress=False)
            out.append((f"{m}/{prior}", fovs))
    for e, (_, p) in enumerate(published()):
        _, fovs = simulate_experiment(params=p, n_fovs=n_fovs, seed=int(rng.integers(1 << 31)), progress=False)
        out.append((f"recipe/exp_{e}", fovs))
    return out


def experiment_arrays(fovs) -> tuple[dict, np.ndarray, np.ndarray] | None:
    """The tracks of some simulated FOVs as the scorer and the network take them: ground truth ``{i: SegmentResult}``,
    positions (b, l, 2) float32 relative to each track's first position (padding 0), lengths (b,); None without tracks."""
    from .result import SegmentResult, segments_from_labels

    tracks = [t for f in fovs for t in f.tracks]
    if not tracks:
        return None
    truth = {i: SegmentResult(i, len(t.frames), *segments_from_labels(t.alpha, t.K, t.state)) for i, t in enumerate(tracks)}
    lengths = np.array([len(t.frames) for t in tracks])
    pos = np.zeros((len(tracks), lengths.max(), 2), np.float32)
    for i, t in enumerate(tracks):
        pos[i, : lengths[i]] = t.xy - t.xy[0]
    return truth, pos, lengths


def candidates() -> list[SegmenterConfig]:
    grid = itertools.product((0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95), (True, False), (0, 1), (True, False), STATE_WEIGHTS)
    return [SegmenterConfig(cp_threshold=t, use_state_changes=s, trim=tr, immobile_zero=z, state_weights=w) for t, s, tr, z, w in grid]


# costs on calling a frame immobile or confined (SegmenterConfig.state_weights): none, and two that undo part of
# the up-weighting of these rare states in training (docs/results.md, "state weights")
STATE_WEIGHTS = ((1.0, 1.0, 1.0, 1.0), (0.5, 0.5, 1.0, 1.0), (0.25, 0.5, 1.0, 1.0))


_METRICS = (("rmse_cp", True), ("jsc_cp", False), ("alpha_mae", True), ("K_msle", True), ("state_f1", False))


def _ranked(cands: list, exps: list, pooling=None) -> pd.DataFrame:
    """One row per candidate: its parameters, the five metrics (track-weighted over experiments; segments pooled per
    experiment with ``pooling`` when given) and the mean rank, in the candidates' order."""
    from .metrics import single_trajectory_scores
    from .pooling import pool_alphas
    from .state_pooling import pool_states

    rows = []
    for cfg in cands:
        tot, n = np.zeros(len(_METRICS)), 0
        for _, truth, out, lengths in exps:
            res = segment_batch(out, lengths, cfg=cfg)
            if pooling is not None:
                res = pool_alphas(pool_states(res, pooling, cfg)[0], pooling)[0]
            sc = single_trajectory_scores(truth, dict(enumerate(res)))
            tot += len(truth) * np.array([sc[k] for k, _ in _METRICS])
            n += len(truth)
        rows.append({**cfg.to_dict(), **dict(zip([k for k, _ in _METRICS], tot / n))})
    table = pd.DataFrame(rows)
    table["mean_rank"] = pd.concat([table[c].rank(ascending=asc) for c, asc in _METRICS], axis=1).mean(axis=1)
    return table


def tune_segmenter(model_dir: str | Path, n_fovs: int = 4, seed: int = 777, pooled: bool = True) -> tuple[SegmenterConfig, pd.DataFrame]:
    """Pick the best ``SegmenterConfig`` for the model in ``model_dir`` and record it in its ``config.json``, with
    the :class:`~andimamba.pooling.PoolingConfig` measured with it.

    Parameters
    ----------
    model_dir : path
    n_fovs : int
        FOVs per tuning experiment.
    seed : int
        Seed of the tuning set.
    pooled : bool
        Score the candidates' segments pooled per experiment, as ``predict`` answers by default (see the module
        docstring); False scores each segment from its own track.

    Returns
    -------
    best : SegmenterConfig
    table : DataFrame
        One row per candidate: its parameters, the five metrics (track-weighted over experiments)
        and the mean rank.
    """
    from .checkpoint import write_segmenter
    from .pooling import calibrate
    from .predict import load_predictor

    pred = load_predictor(model_dir)
    exps = []
    for name, fovs in tuning_set(n_fovs, seed):
        if (arrays := experiment_arrays(fovs)) is None:
            continue
        truth, pos, lengths = arrays
        exps.append((name, truth, pred.frame_outputs(pos, lengths), lengths))
    n = sum(len(t) for _, t, _, _ in exps)
    truth = [t[i] for _, t, _, _ in exps for i in range(len(t))]

    def best_of(table):
        return cands[table.sort_values("mean_rank", kind="stable").index[0]]  # the candidate object, not the table's dtypes

    def calibration(cfg):
        return calibrate(truth, [r for _, _, out, lengths in exps for r in segment_batch(out, lengths, cfg=cfg)])

    cands = candidates()
    table = _ranked(cands, exps)
    best = best_of(table)
    pooling = calibration(best)
    if pooled:
        table = _ranked(cands, exps, pooling)
        if (chosen := best_of(table)) is not best:
            best = chosen
            try:
                pooling = calibration(best)
            except ValueError:  # the winner has no mobile segment to measure (a degenerate model): keep the first
                pass
    table = table.sort_values("mean_rank", kind="stable").reset_index(drop=True)
    write_segmenter(model_dir, best, {"n_fovs": n_fovs, "seed": seed, "tracks": n, "pooled": bool(pooled)}, pooling)
    return best, table
