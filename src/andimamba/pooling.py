"""Per-experiment pooling of segment α: an empirical-Bayes correction of the network's per-segment α.

The network estimates each segment's α from that track alone, and on a short segment its error is large (rms
≈ 0.25 below 40 frames for the shipped Bi-Mamba, ≈ 0.10 above 80; docs/results.md). The segments of one
experiment, though, come from a few diffusive states shared by all its tracks. Pooling models them as a
population: the segments' (α, log₁₀K) are noisy measurements ``x_i = θ_i + ε_i`` of their true values, with
``ε_i ~ N(0, diag(σ_α²(n_i), σ_K²(n_i)))`` and ``σ(n)`` the network's error for a segment of ``n`` frames,
measured once per model on the tuning set (:func:`calibrate`, run by ``tune-segmenter``) — and ``θ_i`` drawn
from a Gaussian mixture with diagonal covariances (1 … ``max_components`` components, chosen by BIC). The
mixture is fitted to the noisy points by extreme deconvolution (Bovy, Hogg & Roweis 2011, the EM for
heteroscedastic measurement errors), so that its variances are those of the true values, not of the
estimates; each segment's α becomes its posterior mean under that fit: a long segment keeps its own
estimate, a short one moves toward the component it belongs to (which K helps identify). Each predicted state
(confined, free, directed) of an experiment is its own population.

Only α is replaced: the same correction of K made the official K MSLE worse (docs/results.md). Immobile
segments (α = K = 0 by the AnDi-2 convention), tracks of the short-track regime (their own estimator, with
another error) and the segments of a state with fewer than ``min_segments`` of them in the experiment are left
as they are.

Glossary: n segments, k components, d = 2 dimensions (α, log₁₀K).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .andi2 import IMMOBILE
from .result import SegmentResult, labels_from_segments

__all__ = ["PoolingConfig", "Mixture", "calibrate", "fit_mixture", "pool_alphas"]


@dataclass
class PoolingConfig:
    """The network's per-segment error by segment length (what :func:`pool_alphas` needs to know about a model).

    Attributes
    ----------
    length_edges : tuple of int
        Left edges of the segment-length bins (frames), increasing, the first 0; bin i holds lengths in
        ``[length_edges[i], length_edges[i + 1])``, the last bin everything above.
    alpha_sd, log10K_sd : tuple of float
        Root-mean-square error of the segment α and of its log₁₀K in each bin, on the tuning set.
    max_components : int
        Most mixture components per experiment.
    min_segments : int
        States with fewer segments in an experiment are not pooled (too few to estimate a population).
    max_fit_segments : int
        A mixture is fitted to at most this many segments (a fixed, seeded subset; every segment is then
        corrected), which bounds the cost on large experiments.
    state_components : int
        Most mixture components of the population of all segments when the states are pooled
        (:mod:`andimamba.state_pooling`).
    state_own_weight : float
        Weight in [0, 1] of a segment's own (decision-weighted) posterior against its population's state mix
        when the states are pooled (0: the population decides, 1: no pooling).
    """

    length_edges: tuple[int, ...]
    alpha_sd: tuple[float, ...]
    log10K_sd: tuple[float, ...]
    max_components: int = 3
    min_segments: int = 20
    max_fit_segments: int = 2000
    state_components: int = 4
    state_own_weight: float = 0.3

    def __post_init__(self):
        self.length_edges = tuple(int(e) for e in self.length_edges)
        self.alpha_sd = tuple(float(s) for s in self.alpha_sd)
        self.log10K_sd = tuple(float(s) for s in self.log10K_sd)
        e, sa, sk = self.length_edges, self.alpha_sd, self.log10K_sd
        if not e or e[0] != 0 or any(b <= a for a, b in zip(e, e[1:])):
            raise ValueError(f"length_edges={e!r}: increasing, starting at 0")
        if len(sa) != len(e) or len(sk) != len(e):
            raise ValueError(f"alpha_sd and log10K_sd need one value per length bin ({len(e)}), got {len(sa)} and {len(sk)}")
        if not all(np.isfinite(s) and s > 0 for s in sa + sk):
            raise ValueError("alpha_sd and log10K_sd must be finite and > 0")
        if not 0.0 <= float(self.state_own_weight) <= 1.0:
            raise ValueError(f"state_own_weight={self.state_own_weight!r}: a weight in [0, 1]")
        if int(self.state_components) < 1:
            raise ValueError(f"state_components={self.state_components!r}: at least 1")

    def to_dict(self) -> dict:
        """JSON-serialisable dict (lists for the tuples)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def noise_sd(self, lengths: np.ndarray) -> np.ndarray:
        """(n, 2) the error sd of α and log₁₀K for segments of these lengths (frames)."""
        q = np.searchsorted(np.asarray(self.length_edges), np.asarray(lengths), side="right") - 1
        return np.stack([np.asarray(self.alpha_sd)[q], np.asarray(self.log10K_sd)[q]], axis=1)


@dataclass
class Mixture:
    """A deconvolved Gaussian mixture over (α, log₁₀K): weights (k,), means (k, 2), variances (k, 2)."""

    weights: np.ndarray
    means: np.ndarray
    variances: np.ndarray

    def to_dict(self) -> dict:
        return {"weights": self.weights.tolist(), "means": self.means.tolist(), "variances": self.variances.tolist()}

    def responsibilities(self, x: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """(n, k) probability that each measurement x (n, 2), with error variances s2 (n, 2), comes from each component."""
        v = self.variances[None] + s2[:, None]  # (n, k, 2)
        lp = (-0.5 * ((x[:, None] - self.means[None]) ** 2 / v + np.log(v))).sum(-1) + np.log(self.weights)[None]  # (n, k)
        r = np.exp(lp - lp.max(axis=1, keepdims=True))
        return r / r.sum(axis=1, keepdims=True)

    def posterior_mean(self, x: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """(n, 2) E[θ | x] for measurements x (n, 2) with error variances s2 (n, 2)."""
        r = self.responsibilities(x, s2)  # (n, k)
        v = self.variances[None] + s2[:, None]  # (n, k, 2)
        post = (self.variances[None] * x[:, None] + s2[:, None] * self.means[None]) / v  # (n, k, 2)
        return (r[..., None] * post).sum(axis=1)


_VAR_FLOOR = 1e-4


def _xd_em(x: np.ndarray, s2: np.ndarray, w: np.ndarray, k: int, iters: int = 500, tol: float = 1e-4):
    """Extreme-deconvolution EM for a diagonal mixture of k components: (Mixture, weighted mean log-likelihood).
    Started from k slices of the points by log K; the iterations run compiled (:func:`andimamba.mixture_em.xd_em`)."""
    w = w / w.sum()
    parts = np.array_split(np.argsort(x[:, 1], kind="stable"), k)  # start: k slices of the points by log K
    mu = np.array([np.average(x[p], axis=0, weights=w[p] + 1e-300) for p in parts])  # (k, 2)
    spread = np.average((x - np.average(x, axis=0, weights=w)) ** 2, axis=0, weights=w)
    tau2 = np.tile(np.maximum(spread / k, _VAR_FLOOR), (k, 1))  # (k, 2)
    pi = np.full(k, 1.0 / k)
    from .mixture_em import preload, xd_em

    preload()  # loaded from numba's cache (or waits for the pipeline's background load)
    f64 = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    mu, tau2 = f64(mu), f64(tau2)
    ll = float(xd_em(f64(x), f64(s2), f64(w), mu, tau2, pi, int(iters), float(tol), float(_VAR_FLOOR)))  # in place
    pi = np.maximum(pi, 1e-12)
    return Mixture(pi / pi.sum(), mu, tau2), ll


def fit_mixture(x: np.ndarray, s2: np.ndarray, w: np.ndarray, max_components: int = 3) -> Mixture:
    """Deconvolved diagonal Gaussian mixture of noisy points, the number of components chosen by BIC (1, 2, … until
    one more component no longer lowers it).

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Measured points.
    s2 : ndarray, shape (n, d)
        Their error variances.
    w : ndarray, shape (n,)
        Weights (segment lengths in :func:`pool_alphas`: the population of frames, as the AnDi-2 ensemble).
    max_components : int

    Returns
    -------
    Mixture
    """
    n, d = x.shape
    best = None
    for k in range(1, min(max_components, n) + 1):
        mix, ll = _xd_em(x, s2, w, k)
        bic = -2.0 * ll * n + (k * 2 * d + k - 1) * np.log(n)  # ll is a per-point weighted mean
        if best is not None and bic >= best[0]:
            break  # one more component did not pay for itself; more are not tried
        best = (bic, mix)
    return best[1]


def _mobile(states: np.ndarray, Ks: np.ndarray) -> np.ndarray:
    """Which segments can be pooled: not immobile, K > 0 (bool, the shape of the inputs)."""
    return (states != IMMOBILE) & (Ks > 0)


def segment_bounds(results: Sequence[SegmentResult]) -> tuple[np.ndarray, ...]:
    """Every segment of ``results`` (track 0's first): (starts, ends) positions within their tracks, (n,) each, and
    (first, last) index of each track's first and last segment, (tracks,) each."""
    counts = np.array([len(r.alphas) for r in results], dtype=np.int64)  # segments per track
    cps = np.concatenate([r.cps for r in results]).astype(np.int64)  # (n - tracks,) every track's CPs, in order
    last = np.cumsum(counts) - 1
    first = last - counts + 1
    ends, starts = np.empty(counts.sum(), np.int64), np.zeros(counts.sum(), np.int64)
    ends[last] = [r.T for r in results]
    ends[np.setdiff1d(np.arange(len(ends)), last, assume_unique=True)] = cps
    starts[np.setdiff1d(np.arange(len(starts)), first, assume_unique=True)] = cps
    return starts, ends, first, last


def pool_alphas(results: Sequence[SegmentResult], cfg: PoolingConfig, seed: int = 0) -> tuple[list[SegmentResult], dict]:
    """The segments of one experiment with the α of every mobile segment replaced by its pooled estimate.

    Segments are pooled with the segments of the same predicted state only (confined, free, directed: one
    population each), so that a rare state keeps its own α instead of being drawn into the majority's and a
    segment's α stays consistent with its state.

    Parameters
    ----------
    results : sequence of SegmentResult
        Every track of one experiment (tracks of the ``short`` regime are passed through).
    cfg : PoolingConfig
        The model's calibrated errors.
    seed : int
        Seed of the subset a mixture is fitted to when a state has more than ``cfg.max_fit_segments`` segments.

    Returns
    -------
    results : list of SegmentResult
        New objects for the tracks with a pooled segment; the others the objects given. Per-frame outputs are
        untouched.
    mixtures : dict
        State code → the fitted population (:class:`Mixture`) of every state that was pooled; states with
        fewer than ``cfg.min_segments`` mobile segments are left as they are and absent here.
    """
    out = list(results)
    if not out:
        return out, {}
    starts, ends, first, last = segment_bounds(results)
    alphas = np.concatenate([r.alphas for r in results]).astype(float)  # (n,) every segment
    Ks = np.concatenate([r.Ks for r in results]).astype(float)
    states = np.concatenate([r.states for r in results])
    full = np.repeat([r.regime == "full" for r in results], last - first + 1)
    mobile = np.flatnonzero(full & _mobile(states, Ks))  # the segments that can be pooled
    x = np.stack([alphas[mobile], np.log10(Ks[mobile])], axis=1)  # (m, 2)
    length = (ends - starts)[mobile].astype(float)  # (m,)
    s2 = cfg.noise_sd(length) ** 2  # (m, 2)
    new, fits = alphas.copy(), {}
    rng = np.random.default_rng(seed)
    for s in np.unique(states[mobile]):
        m = np.flatnonzero(states[mobile] == s)
        if len(m) < cfg.min_segments:
            continue
        fit = m if len(m) <= cfg.max_fit_segments else np.sort(rng.choice(m, cfg.max_fit_segments, replace=False))
        fits[int(s)] = mix = fit_mixture(x[fit], s2[fit], length[fit], cfg.max_components)
        new[mobile[m]] = np.clip(mix.posterior_mean(x[m], s2[m])[:, 0], 0.0, 2.0)
    changed = np.zeros(len(alphas), bool)
    changed[mobile[np.isin(states[mobile], list(fits))]] = True
    for i in np.flatnonzero(np.add.reduceat(changed, first) > 0) if fits else ():
        out[i] = copy.copy(results[i])  # not dataclasses.replace: its re-validation of every track took 40 % of the time
        out[i].alphas = new[first[i]: last[i] + 1].copy()
    return out, fits


def calibrate(truth: Sequence[SegmentResult], pred: Sequence[SegmentResult],
              length_edges: Sequence[int] = (0, 6, 11, 21, 41, 81)) -> PoolingConfig:
    """A model's :class:`PoolingConfig` from its segments on simulated tracks with known labels.

    The error of a predicted mobile segment is its α (log₁₀K) minus the mean true α (log₁₀K) over its
    frames; segments overlapping an immobile true frame are skipped. A bin without segments takes its
    neighbour's value.

    Parameters
    ----------
    truth, pred : sequence of SegmentResult
        The same tracks, in the same order: ground truth and the model's segments (``full`` regime).
    length_edges : sequence of int
        Left edges of the segment-length bins (frames), the first 0.
    """
    ea, ek, n = [], [], []
    for t, p in zip(truth, pred):
        ta, tk = labels_from_segments(t.cps, t.alphas, t.T), labels_from_segments(t.cps, t.Ks, t.T)  # (T,) per-frame truth
        bounds = p.bounds()
        for j in np.flatnonzero(_mobile(p.states, p.Ks)):
            a, b = bounds[j]
            if (tk[a:b] <= 0).any():
                continue
            ea.append(p.alphas[j] - ta[a:b].mean())
            ek.append(np.log10(p.Ks[j]) - np.log10(tk[a:b]).mean())
            n.append(b - a)
    edges = np.asarray(length_edges)
    q = np.searchsorted(edges, np.asarray(n), side="right") - 1
    ea, ek = np.asarray(ea), np.asarray(ek)
    sa = [float(np.sqrt(np.mean(ea[q == i] ** 2))) if (q == i).any() else np.nan for i in range(len(edges))]
    sk = [float(np.sqrt(np.mean(ek[q == i] ** 2))) if (q == i).any() else np.nan for i in range(len(edges))]
    if all(np.isnan(sa)):
        raise ValueError("no mobile segment to calibrate on")
    for v in (sa, sk):  # fill empty bins from the nearest filled one
        for i in range(len(v)):
            if np.isnan(v[i]):
                v[i] = next(v[j] for j in sorted(range(len(v)), key=lambda j: abs(j - i)) if not np.isnan(v[j]))
    return PoolingConfig(tuple(int(e) for e in edges), tuple(sa), tuple(sk))
