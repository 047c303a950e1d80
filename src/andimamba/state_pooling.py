"""Per-experiment pooling of segment states: each segment's state decided with its population's.

From one track the network cannot always tell a trapped particle from a very slow free one, or a particle in a
small compartment from a slow free one: physically they look alike over a few dozen frames, and the AnDi-2
labels tell them apart by the model that generated the experiment (the slow state of a dimerization experiment
is "free" however slow it is; a trapped particle is "immobile" however short its stay). A fixed cost on calling
a state (:attr:`andimamba.segments.SegmenterConfig.state_weights`) trades one kind of experiment against the
other (docs/results.md). The segments of one experiment, though, are a population with a few kinds of motion,
and the network's posteriors averaged over a whole kind say what that kind is far more reliably than over one
segment.

So, per experiment: the segments' network (α, log₁₀K), noisy measurements with the network's own error for
their length (the calibration :mod:`andimamba.pooling` uses), get a deconvolved Gaussian mixture
(:func:`andimamba.pooling.fit_mixture`, 1 … ``state_components`` components by BIC); each component's state
mix over {immobile, confined, mobile} is the frame-weighted mean of its members' posteriors (as the network
gives them, without the decision weights); and each segment's class is the one maximising
``w · log q + (1 − w) · log π``, with ``q`` the segment's own decision-weighted posterior, ``π`` its
component-membership-weighted population mix and ``w`` = ``state_own_weight``. A segment called mobile keeps
the network's choice between free and directed (that boundary is α = 1.9 within one population).

States change; α and K only where a segment becomes immobile (α = K = 0, when the segmenter reports immobile
segments so) or stops being immobile (the network's α and K come back). Change points are untouched.

Glossary: n segments, k components.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from .andi2 import CONFINED, DIRECTED, FREE, IMMOBILE
from .pooling import PoolingConfig, fit_mixture, segment_bounds
from .result import SegmentResult
from .segments import SegmenterConfig

__all__ = ["pool_states"]

_CLASSES = 3  # immobile, confined, mobile (free or directed)


def _classes(post: np.ndarray) -> np.ndarray:
    """(n, 3) posteriors over immobile, confined, mobile from (n, 4) state posteriors, rows normalised."""
    c = np.stack([post[:, IMMOBILE], post[:, CONFINED], post[:, FREE] + post[:, DIRECTED]], axis=1)
    return c / np.maximum(c.sum(axis=1, keepdims=True), 1e-30)


def pool_states(results: Sequence[SegmentResult], cfg: PoolingConfig, segmenter: SegmenterConfig,
                seed: int = 0) -> tuple[list[SegmentResult], dict | None]:
    """The segments of one experiment with their states decided with their population's.

    Parameters
    ----------
    results : sequence of SegmentResult
        Every track of one experiment. Tracks without the network's per-segment outputs (``state_post``,
        ``net_alpha_K``: the classical method, label files) and tracks of the ``short`` regime are passed
        through and take no part.
    cfg : PoolingConfig
        The model's calibrated errors and ``state_components``, ``state_own_weight``.
    segmenter : SegmenterConfig
        The segmenter that made ``results`` (the predictor's): its ``state_weights`` (costs on calling each state)
        are applied to each segment's own posterior, and with ``immobile_zero`` immobile segments get α = K = 0.
    seed : int
        Seed of the subset the mixture is fitted to when there are more than ``cfg.max_fit_segments`` segments.

    Returns
    -------
    results : list of SegmentResult
        New objects for the tracks whose states changed; the others the objects given.
    population : dict or None
        The fitted population: the :class:`~andimamba.pooling.Mixture`'s ``weights``, ``means``, ``variances``
        (over α, log₁₀K) and each component's ``state_mix`` over (immobile, confined, mobile); None when fewer
        than ``cfg.min_segments`` segments took part and nothing was pooled.
    """
    out = list(results)
    use = [i for i, r in enumerate(results) if r.regime == "full" and r.state_post is not None and r.net_alpha_K is not None]
    counts = np.array([results[i].n_segments for i in use], dtype=np.int64)
    if counts.sum() < cfg.min_segments:
        return out, None
    post = np.concatenate([results[i].state_post for i in use])  # (n, 4)
    net = np.concatenate([results[i].net_alpha_K for i in use])  # (n, 2)
    starts, ends, _, _ = segment_bounds([results[i] for i in use])
    length = (ends - starts).astype(float)  # (n,)
    x = np.stack([np.clip(net[:, 0], 0.0, 2.0), np.log10(np.maximum(net[:, 1], 1e-12))], axis=1)  # (n, 2)
    s2 = cfg.noise_sd(length) ** 2  # (n, 2)
    n = len(x)
    fit = np.arange(n) if n <= cfg.max_fit_segments else np.sort(np.random.default_rng(seed).choice(n, cfg.max_fit_segments, replace=False))
    mix = fit_mixture(x[fit], s2[fit], length[fit], cfg.state_components)
    member = mix.responsibilities(x, s2)  # (n, k)
    r = member * length[:, None]  # (n, k) frame-weighted memberships
    mix_c = r.T @ _classes(post) / np.maximum(r.sum(axis=0), 1e-30)[:, None]  # (k, 3) each component's state mix
    prior = member @ mix_c  # (n, 3) each segment's population mix
    weighted = post * np.asarray(segmenter.state_weights, dtype=float)[None]  # (n, 4)
    w = float(cfg.state_own_weight)
    score = w * np.log(_classes(weighted) + 1e-12) + (1.0 - w) * np.log(prior + 1e-12)  # (n, 3)
    cls = score.argmax(axis=1)
    mobile_state = np.where(weighted[:, DIRECTED] > weighted[:, FREE], DIRECTED, FREE)
    new_states = np.select([cls == 0, cls == 1], [IMMOBILE, CONFINED], mobile_state).astype(np.int64)  # (n,)
    at = np.concatenate([[0], np.cumsum(counts)])
    for j, i in enumerate(use):
        old, new = results[i].states, new_states[at[j]: at[j + 1]]
        if np.array_equal(old, new):
            continue
        r_i = out[i] = copy.copy(results[i])  # not dataclasses.replace: no re-validation of the unchanged fields
        r_i.states = new
        r_i.alphas, r_i.Ks = results[i].alphas.copy(), results[i].Ks.copy()
        back = (old == IMMOBILE) & (new != IMMOBILE)
        r_i.alphas[back], r_i.Ks[back] = results[i].net_alpha_K[back, 0], results[i].net_alpha_K[back, 1]
        if segmenter.immobile_zero:
            to = new == IMMOBILE
            r_i.alphas[to], r_i.Ks[to] = 0.0, 0.0
    return out, {**mix.to_dict(), "state_mix": mix_c.tolist()}
