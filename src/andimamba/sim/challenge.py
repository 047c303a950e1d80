"""The AnDi-2 challenge pipeline: field-of-view cut, label filter, change points, localisation
noise and ensemble labels (``andi_datasets.datasets_challenge.challenge_phenom_dataset``).

As in the challenge data, every field of view (FOV) of an experiment is an independent box
simulated with the experiment's parameters; the FOV is a 128 × 128 px square whose origin is
drawn uniformly in {11, …, 89}² inside the 230.4 px box, and every run of ≥ 20 consecutive frames
strictly inside it becomes one track. Labels are filtered per column with ``label_filter``
(window 5, minimum segment 3), CPs are taken where any of α, K, state changes, and Gaussian
localisation noise (std 0.12 px) is added to x and y.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..batch import TrackBatch
from ..result import SegmentResult, change_points, segments_from_labels
from .labels import label_filter
from .models import SimResult, simulate
from .params import CHALLENGE_FOV_L, CHALLENGE_MIN_T, CHALLENGE_SIGMA_NOISE, ExperimentParams

FOV_ORIGIN_RANGE = (int(0.05 * 1.8 * CHALLENGE_FOV_L), int(0.95 * 1.8 * CHALLENGE_FOV_L) - CHALLENGE_FOV_L)  # (11, 90)


@dataclass
class Track:
    """One track of a FOV with its filtered per-frame labels."""

    traj_idx: int
    frames: np.ndarray  # (n,) absolute frame numbers
    xy: np.ndarray  # (n, 2) px, with localisation noise
    alpha: np.ndarray  # (n,)
    K: np.ndarray  # (n,)
    state: np.ndarray  # (n,) int
    regime: np.ndarray  # (n,) int, filtered hidden regime (ensemble counts)

    def segments(self) -> SegmentResult:
        """The track's ground truth as segments (``label_continuous_to_list``); its AnDi-2 line is
        :func:`andimamba.andi2.label_line` of it."""
        cps, al, ks, st = segments_from_labels(self.alpha, self.K, self.state)
        return SegmentResult(self.traj_idx, len(self.frames), cps, al, ks, st, first_frame=int(self.frames[0]))


@dataclass
class FOV:
    """All tracks of one field of view."""

    origin: np.ndarray  # (2,) px
    tracks: list[Track] = field(default_factory=list)


def fov_runs(positions: np.ndarray, origin: np.ndarray, fov_L: float = CHALLENGE_FOV_L, min_T: int = CHALLENGE_MIN_T) -> np.ndarray:
    """Runs of ≥ ``min_T`` consecutive frames strictly inside the FOV.

    Parameters
    ----------
    positions : ndarray, shape (P, T, 2)
    origin : ndarray, shape (2,)

    Returns
    -------
    ndarray, shape (m, 3), int
        ``(particle, start, stop)`` rows in particle order then time order (stop exclusive).
    """
    lo = np.asarray(origin, dtype=np.float64)
    inside = np.all((positions > lo) & (positions < lo + fov_L), axis=2)  # (P, T)
    P, T = inside.shape
    pad = np.zeros((P, 1), dtype=bool)
    edge = np.diff(np.concatenate([pad, inside, pad], axis=1).astype(np.int8), axis=1)  # (P, T + 1)
    sp, st = np.nonzero(edge == 1)
    ep, en = np.nonzero(edge == -1)
    keep = (en - st) >= min_T  # starts and ends pair up in the same (row-major) order
    return np.stack([sp[keep], st[keep], en[keep]], axis=1)


def cut_fov(sim: SimResult, rows: np.ndarray, origin: np.ndarray, rng: np.random.Generator, sigma_noise: float = CHALLENGE_SIGMA_NOISE) -> FOV:
    """Turn the particles ``rows`` of a simulation into the tracks of one FOV."""
    runs = fov_runs(sim.positions[rows], origin)
    fov = FOV(origin=np.asarray(origin))
    label_cols = (sim.alpha, sim.K, sim.state, sim.regime)
    # cumulative count of label changes per particle: tracks without any change skip the filter
    chg = np.zeros((len(rows), sim.alpha.shape[1]), dtype=np.int64)
    for c in label_cols:
        chg[:, 1:] += c[rows, 1:] != c[rows, :-1]
    chg = np.cumsum(chg, axis=1)
    for idx, (p, a, b) in enumerate(runs):
        g = rows[p]
        if chg[p, b - 1] == chg[p, a]:
            cols = [c[g, a:b] for c in label_cols]
        else:
            cols = [label_filter(c[g, a:b]) for c in label_cols]
        fov.tracks.append(
            Track(
                traj_idx=idx,
                frames=np.arange(a, b),
                xy=sim.positions[g, a:b].copy(),
                alpha=np.asarray(cols[0], dtype=np.float64),
                K=np.asarray(cols[1], dtype=np.float64),
                state=np.asarray(cols[2]).astype(np.int64),
                regime=np.asarray(cols[3]).astype(np.int64),
            )
        )
    # noise after the cut, all x then all y, as the challenge does on its data frame
    n = sum(len(t.frames) for t in fov.tracks)
    if n:
        nx = rng.standard_normal(n) * sigma_noise
        ny = rng.standard_normal(n) * sigma_noise
        i = 0
        for t in fov.tracks:
            m = len(t.frames)
            t.xy[:, 0] += nx[i : i + m]
            t.xy[:, 1] += ny[i : i + m]
            i += m
    return fov


def draw_fov_origin(rng: np.random.Generator) -> np.ndarray:
    """FOV origin as the challenge: ``randint(11, 90, 2)``."""
    return rng.integers(FOV_ORIGIN_RANGE[0], FOV_ORIGIN_RANGE[1], 2)


def cut_boxes(sim: SimResult, N: int, rng: np.random.Generator, sigma_noise: float = CHALLENGE_SIGMA_NOISE) -> list[FOV]:
    """One FOV (random origin) per box of a simulation of boxes of ``N`` particles."""
    n_boxes = sim.positions.shape[0] // N
    return [cut_fov(sim, np.arange(e * N, (e + 1) * N), draw_fov_origin(rng), rng, sigma_noise) for e in range(n_boxes)]


def simulate_fovs_batched(params: ExperimentParams, n_fovs: int, rng: np.random.Generator, sigma_noise: float = CHALLENGE_SIGMA_NOISE) -> list[FOV]:
    """``n_fovs`` independent FOVs simulated in one vectorised call (one box each)."""
    return cut_boxes(simulate(params, rng, n_boxes=n_fovs), params.N, rng, sigma_noise)


def simulate_fov(params: ExperimentParams, rng: np.random.Generator, sigma_noise: float = CHALLENGE_SIGMA_NOISE) -> FOV:
    """Simulate one box with ``params`` and cut one FOV from it (one challenge 'fake experiment')."""
    return simulate_fovs_batched(params, 1, rng, sigma_noise)[0]


def fov_state_counts(params: ExperimentParams, fov: FOV) -> np.ndarray:
    """Per-state frame counts of one FOV (``extract_ensemble``'s last row), shape (k,)."""
    m = params.model
    if not fov.tracks:
        return np.zeros(params.n_states if m != "immobile_traps" else 2)
    reg = np.concatenate([t.regime for t in fov.tracks])
    st = np.concatenate([t.state for t in fov.tracks])
    if m == "single_state":
        return np.array([float(len(st))])
    if m == "multi_state":
        return np.bincount(reg, minlength=params.n_states).astype(float)
    if m == "immobile_traps":
        return np.array([np.sum(st == 0), np.sum(st == 2)], dtype=float)
    if m == "dimerization":
        return np.array([np.sum(reg == 0), np.sum(reg == 1)], dtype=float)
    return np.array([np.sum(st == 2), np.sum(st == 1)], dtype=float)  # confinement: free, confined


def ensemble_matrix(params: ExperimentParams, fovs: list[FOV]) -> np.ndarray:
    """Experiment ensemble labels (5 × k): mean α, var α, mean K, var K, state weights.

    Weights are the frame counts summed over FOVs and normalised (``file_nonOverlap_reOrg``);
    immobile_traps has the columns (immobile: 0, 0, 0, 0; free: the experiment's α and K).
    """
    if params.model == "immobile_traps":
        a, k = params.alphas[0], params.Ks[0]
        top = np.array([[0.0, a[0]], [0.0, a[1]], [0.0, k[0]], [0.0, k[1]]])
    else:
        top = np.vstack([params.alphas[:, 0], params.alphas[:, 1], params.Ks[:, 0], params.Ks[:, 1]])
    if params.model == "single_state":
        w = np.ones(1)
    else:
        counts = np.sum([fov_state_counts(params, f) for f in fovs], axis=0)
        w = counts / counts.sum() if counts.sum() > 0 else counts
    return np.vstack([top, w[None, :]])


def fovs_to_batch(fovs: list[FOV], pad_to: int | None = None) -> TrackBatch:
    """Compact training format: padded arrays of positions, per-frame labels and lengths."""
    tracks = [t for f in fovs for t in f.tracks]
    n = len(tracks)
    lengths = np.array([len(t.frames) for t in tracks], dtype=np.int64)
    l = int(pad_to or (lengths.max() if n else 0))
    pos = np.zeros((n, l, 2), np.float32)
    alpha = np.zeros((n, l), np.float32)
    K = np.zeros((n, l), np.float32)
    state = np.zeros((n, l), np.int64)
    cp = np.zeros((n, l), bool)
    for i, t in enumerate(tracks):
        m = len(t.frames)
        pos[i, :m] = t.xy
        alpha[i, :m], K[i, :m], state[i, :m] = t.alpha, t.K, t.state
        cp[i, change_points(t.alpha, t.K, t.state)] = True
    return TrackBatch(positions=pos, lengths=lengths, alpha=alpha, K=K, state=state, cp=cp)
