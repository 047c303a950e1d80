"""The five AnDi-2 phenomenological models, vectorised over particles (loops over time only).

Each model mirrors the corresponding method of ``andi_datasets.models_phenom`` (v2.1.13) in
mechanism, parameters and label conventions, but simulates many independent boxes at once with
an explicit ``numpy.random.Generator``. Statistical equality with andi-datasets is checked by
``tests/sim/test_vs_andi.py``.

Glossary: E = boxes (one per field of view), N = particles per box, P = E·N, T = frames.
A *regime* change (new state, binding, unbinding, entering/leaving a compartment) restarts the
particle's fractional Gaussian noise: no memory across segments.

Label alignment (as andi-datasets): in multi_state and confinement the label of frame t describes
the step t → t+1; in immobile_traps and dimerization the step t−1 → t.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.spatial import cKDTree

from .fbm import fgn_2d
from .geometry import box_offsets, close_to_any, place_compartments, reflect_box, reflect_in_circle
from .params import ALPHA_BOUNDS, ALPHA_DIRECTED, K_BOUNDS, ExperimentParams, draw_truncated

__all__ = ["SimResult", "simulate"]


@dataclass
class SimResult:
    """Raw model output (before the challenge pipeline).

    Attributes
    ----------
    positions : ndarray, shape (P, T, 2)
    alpha, K : ndarray, shape (P, T)
        Per-frame labels (α = K = 0 on immobile frames).
    state : ndarray, shape (P, T), int
        0 immobile, 1 confined, 2 free, 3 directed.
    regime : ndarray, shape (P, T), int
        Hidden regime index: Markov state (multi_state), bound flag (traps, dimerization),
        inside-compartment flag (confinement), 0 (single_state).
    box : ndarray, shape (P,), int
        Box (experiment/FOV simulation) each particle belongs to.
    """

    positions: np.ndarray
    alpha: np.ndarray
    K: np.ndarray
    state: np.ndarray
    regime: np.ndarray
    box: np.ndarray


class _Noise:
    """Per-particle scaled fGn streams, restarted at regime changes."""

    def __init__(self, P: int, T: int, rng: np.random.Generator):
        self.T = T
        self.rng = rng
        self.buf = np.zeros((P, T, 2))
        self.ptr = np.zeros(P, dtype=np.int64)
        self.ar = np.arange(P)

    def restart(self, idx: np.ndarray, alpha: np.ndarray, K: np.ndarray, length: int, share: np.ndarray | None = None) -> None:
        """New sequences for particles ``idx``; ``share[j]`` (optional) copies row j's noise."""
        if idx.size == 0:
            return
        seq = fgn_2d(alpha, length, self.rng) * np.sqrt(2 * K)[:, None, None]  # (m, length, 2)
        if share is not None:
            seq = seq[share]
        self.buf[idx, :length] = seq
        self.ptr[idx] = 0

    def take(self) -> np.ndarray:
        d = self.buf[self.ar, np.minimum(self.ptr, self.T - 1)]  # (P, 2)
        self.ptr += 1
        return d


def _free_state_code(alpha: np.ndarray) -> np.ndarray:
    return np.where(alpha >= ALPHA_DIRECTED, 3, 2).astype(np.int8)


def _draw(params: Sequence[ExperimentParams], attr: str, state: int, N: int, rng) -> np.ndarray:
    """Per-particle draw of state ``state``'s α or K for all boxes: shape (E·N,)."""
    rows = np.repeat(np.stack([getattr(p, attr)[state] for p in params]), N, axis=0)  # (P, 2)
    bounds = ALPHA_BOUNDS if attr == "alphas" else K_BOUNDS
    return draw_truncated(rows, rows.shape[0], bounds, rng)


def _walk(pos0: np.ndarray, disp: np.ndarray, L: float) -> np.ndarray:
    """pos[t] = reflect(pos[t−1] + disp[t]) for t ≥ 1 (compiled loop). (P, 2), (P, T, 2) → (P, T, 2)."""
    from ._kernels import walk_reflect

    return walk_reflect(np.ascontiguousarray(pos0, dtype=np.float64), np.ascontiguousarray(disp, dtype=np.float64), float(L))


def _single_state(params, N, T, L, rng):
    P = len(params) * N
    alpha = _draw(params, "alphas", 0, N, rng)
    K = _draw(params, "Ks", 0, N, rng)
    disp = fgn_2d(alpha, T, rng) * np.sqrt(2 * K)[:, None, None]
    pos0 = rng.random((P, 2)) * L
    pos = _walk(pos0, disp, L)
    a = np.repeat(alpha[:, None], T, 1)
    k = np.repeat(K[:, None], T, 1)
    return pos, a, k, _free_state_code(a), np.zeros((P, T), np.int8)


def _multi_state(params, N, T, L, rng):
    E = len(params)
    P = E * N
    k = params[0].n_states
    alpha_ps = np.stack([_draw(params, "alphas", s, N, rng) for s in range(k)], 1)  # (P, k)
    K_ps = np.stack([_draw(params, "Ks", s, N, rng) for s in range(k)], 1)
    cumM = np.cumsum(np.repeat(np.stack([p.M for p in params]), N, axis=0), axis=2)  # (P, k, k)
    s = np.empty((P, T), dtype=np.int64)
    s[:, 0] = rng.integers(0, k, P)
    ar = np.arange(P)
    u = rng.random((P, T))
    for t in range(1, T):
        row = cumM[ar, s[:, t - 1]]  # (P, k)
        s[:, t] = np.minimum((u[:, t, None] > row).sum(1), k - 1)
    change = np.ones((P, T), dtype=bool)
    change[:, 1:] = s[:, 1:] != s[:, :-1]
    gid = (np.cumsum(change.ravel()) - 1).reshape(P, T)  # global segment id per frame
    start = np.maximum.accumulate(np.where(change, np.arange(T)[None, :], 0), axis=1)
    seg_first = np.flatnonzero(change.ravel())
    seg_p, seg_t = np.divmod(seg_first, T)
    seg_state = s[seg_p, seg_t]
    noise = fgn_2d(alpha_ps[seg_p, seg_state], T, rng) * np.sqrt(2 * K_ps[seg_p, seg_state])[:, None, None]
    disp = np.zeros((P, T, 2))
    # step t−1 → t uses the regime of frame t−1, at position (t−1 − segment start) of its noise
    disp[:, 1:] = noise[gid[:, :-1], np.arange(T - 1)[None, :] - start[:, :-1]]
    pos = _walk(rng.random((P, 2)) * L, disp, L)
    a = alpha_ps[ar[:, None], s]
    kk = K_ps[ar[:, None], s]
    return pos, a, kk, _free_state_code(a), s.astype(np.int8)


def _immobile_traps(params, N, T, L, rng):
    E = len(params)
    P = E * N
    p0 = params[0]
    r, Pu, Pb, Nt = p0.r, p0.Pu, p0.Pb, int(p0.Nt)
    box = np.repeat(np.arange(E), N)
    alpha = _draw(params, "alphas", 0, N, rng)
    K = _draw(params, "Ks", 0, N, rng)
    pos = np.zeros((P, T, 2))
    pos[:, 0] = rng.random((P, 2)) * L
    traps = rng.random((E * Nt, 2)) * L
    margin = 4 * r + 1
    tree = cKDTree(traps + box_offsets(np.repeat(np.arange(E), Nt), L, margin))
    off = box_offsets(box, L, margin)
    noise = _Noise(P, T, rng)
    noise.restart(np.arange(P), alpha, K, T)
    bound = np.zeros((P, T), dtype=bool)
    b = np.zeros(P, dtype=bool)
    for t in range(1, T):
        stay_free = ~(b & (rng.random(P) < Pu))  # mask_new_free
        close = close_to_any(pos[:, t - 1] + off, tree, r)
        bind = rng.random(P) < Pb
        nb = (b & stay_free) | (close & bind & stay_free)
        unb = np.flatnonzero(b & ~nb)
        noise.restart(unb, alpha[unb], K[unb], T - t)
        b = nb
        bound[:, t] = b
        step = noise.take()
        x = pos[:, t - 1] + (~b)[:, None] * step
        pos[:, t] = reflect_box(x, L)
    a = np.where(bound, 0.0, alpha[:, None])
    kk = np.where(bound, 0.0, K[:, None])
    state = np.where(bound, 0, _free_state_code(a)).astype(np.int8)
    return pos, a, kk, state, bound.astype(np.int8)


def _greedy_pairs(cand: np.ndarray, P_b: float, rng) -> list[tuple[int, int]]:
    """Sequential greedy dimer formation in particle order (``_make_condensates``): particle n
    tries its close candidates in increasing index and binds the first that accepts (prob Pb)."""
    adj: dict[int, list[int]] = {}
    for i, j in cand:
        adj.setdefault(int(i), []).append(int(j))
        adj.setdefault(int(j), []).append(int(i))
    used: set[int] = set()
    out = []
    for n in sorted(adj):
        if n in used:
            continue
        for m in sorted(adj[n]):
            if m in used:
                continue
            if P_b >= 1 or rng.random() < P_b:
                used.update((n, m))
                out.append((n, m))
                break
    return out


def _dimerization(params, N, T, L, rng):
    E = len(params)
    P = E * N
    p0 = params[0]
    r, Pu, Pb = p0.r, p0.Pu, p0.Pb
    box = np.repeat(np.arange(E), N)
    off = box_offsets(box, L, 4 * r + 1)
    aN = np.stack([_draw(params, "alphas", s, N, rng) for s in range(2)], 1)  # (P, 2)
    KN = np.stack([_draw(params, "Ks", s, N, rng) for s in range(2)], 1)
    pos = np.zeros((P, T, 2))
    pos[:, 0] = rng.random((P, 2)) * L
    noise = _Noise(P, T, rng)
    noise.restart(np.arange(P), aN[:, 0], KN[:, 0], T)
    partner = np.full(P, -1, dtype=np.int64)
    cur_a = aN[:, 0].copy()
    cur_k = KN[:, 0].copy()
    A = np.empty((P, T))
    Kt = np.empty((P, T))
    reg = np.zeros((P, T), dtype=np.int8)
    A[:, 0], Kt[:, 0] = cur_a, cur_k
    for t in range(1, T):
        # 1. unbinding: one coin per dimer
        lead = np.flatnonzero((partner >= 0) & (np.arange(P) < partner))
        esc = lead[rng.random(lead.size) < Pu]
        esc_all = np.concatenate([esc, partner[esc]])
        partner[esc_all] = -1
        # 2. binding among free particles that did not just escape, from positions at t−1
        elig = partner < 0
        elig[esc_all] = False
        idx = np.flatnonzero(elig)
        pairs = []
        if idx.size > 1:
            pts = pos[idx, t - 1] + off[idx]
            cand = cKDTree(pts).query_pairs(2 * r, output_type="ndarray")
            if len(cand):
                d = np.linalg.norm(pts[cand[:, 0]] - pts[cand[:, 1]], axis=1)
                cand = idx[cand[(d < 2 * r) & (d > 0)]]
                pairs = _greedy_pairs(cand, Pb, rng)
        if pairs:
            pr = np.array(pairs)  # (m, 2), pr[:, 0] < pr[:, 1] is the "first" particle
            lo, hi = pr.min(1), pr.max(1)
            partner[lo], partner[hi] = hi, lo
            both = np.concatenate([lo, hi])
            cur_a[both], cur_k[both] = aN[both, 1], KN[both, 1]
            m = lo.size
            noise.restart(both, aN[lo, 1], KN[lo, 1], T - t, share=np.concatenate([np.arange(m), np.arange(m)]))
        if esc_all.size:
            cur_a[esc_all], cur_k[esc_all] = aN[esc_all, 0], KN[esc_all, 0]
            noise.restart(esc_all, aN[esc_all, 0], KN[esc_all, 0], T - t)
        pos[:, t] = reflect_box(pos[:, t - 1] + noise.take(), L)
        A[:, t], Kt[:, t] = cur_a, cur_k
        reg[:, t] = partner >= 0
    return pos, A, Kt, _free_state_code(A), reg


def _confinement(params, N, T, L, rng):
    E = len(params)
    P = E * N
    p0 = params[0]
    r, Nc, trans = p0.r, int(p0.Nc), p0.trans
    aS = np.stack([_draw(params, "alphas", s, N, rng) for s in range(2)], 1)  # (P, 2): free, confined
    KS = np.stack([_draw(params, "Ks", s, N, rng) for s in range(2)], 1)
    centres, _ = place_compartments(P, Nc, r, L, rng)  # one layout per particle, as andi
    centres = np.where(np.isnan(centres), 1e12, centres)
    ar = np.arange(P)
    pos = np.zeros((P, T, 2))
    pos[:, 0] = rng.random((P, 2)) * L
    d0 = np.linalg.norm(centres - pos[:, 0, None, :], axis=2)  # (P, Nc)
    st = (d0.min(1) < r).astype(np.int64)
    comp = d0.argmin(1)
    noise = _Noise(P, T, rng)
    noise.restart(ar, aS[ar, st], KS[ar, st], T)
    S = np.zeros((P, T), dtype=np.int8)
    S[:, 0] = st
    for t in range(1, T):
        prev = pos[:, t - 1]
        x = prev + noise.take()
        inside = st == 1
        d_own = np.linalg.norm(centres[ar, comp] - x, axis=1)
        exit_try = inside & (d_own > r)
        coin = rng.random(P) < trans
        escaping = exit_try & coin
        refl = np.flatnonzero(exit_try & ~coin)
        dall = np.linalg.norm(centres - x[:, None, :], axis=2)
        in_any = dall.min(1) < r
        new = st.copy()
        check = ~inside | escaping
        new[check] = in_any[check]
        enter = check & in_any
        comp[enter] = dall[enter].argmin(1)
        if refl.size:
            x[refl] = reflect_in_circle(prev[refl], x[refl], centres[refl, comp[refl]], r)
        sw = np.flatnonzero(new != st)
        noise.restart(sw, aS[sw, new[sw]], KS[sw, new[sw]], T - t)
        st = new
        pos[:, t] = reflect_box(x, L)
        S[:, t] = st
    A = aS[ar[:, None], S]
    Kt = KS[ar[:, None], S]
    free = np.where(aS[:, 0] >= ALPHA_DIRECTED, 3, 2)[:, None]
    state = np.where(S == 1, 1, free).astype(np.int8)
    return pos, A, Kt, state, S


_MODEL_FUNCS = {
    "single_state": _single_state,
    "multi_state": _multi_state,
    "immobile_traps": _immobile_traps,
    "dimerization": _dimerization,
    "confinement": _confinement,
}


def simulate(params: ExperimentParams | Sequence[ExperimentParams], rng: np.random.Generator, n_boxes: int = 1) -> SimResult:
    """Simulate boxes of particles with one of the five AnDi-2 models.

    Parameters
    ----------
    params : ExperimentParams or sequence of ExperimentParams
        One experiment (repeated for ``n_boxes`` boxes) or one per box. All boxes must share the
        model, N, T, L, the number of states and the model's geometric parameters.
    rng : numpy.random.Generator
        The only source of randomness.
    n_boxes : int
        Number of boxes when a single ``params`` is given.

    Returns
    -------
    SimResult
        Particles ordered box by box (particle i of box e is row e·N + i).
    """
    plist = [params] * int(n_boxes) if isinstance(params, ExperimentParams) else list(params)
    if not plist:
        raise ValueError("no boxes to simulate: give at least one ExperimentParams")
    p0 = plist[0]
    for p in plist[1:]:
        for key in ("model", "N", "T", "L", "r", "Nt", "Nc", "trans", "Pu", "Pb"):
            if getattr(p, key) != getattr(p0, key):
                raise ValueError(f"all boxes simulated together must share {key}: {getattr(p, key)!r} != {getattr(p0, key)!r}")
        if p.n_states != p0.n_states:
            raise ValueError("all boxes simulated together must have the same number of states")
    N, T, L = int(p0.N), int(p0.T), float(p0.L)
    pos, a, k, state, regime = _MODEL_FUNCS[p0.model](plist, N, T, L, rng)
    return SimResult(
        positions=pos,
        alpha=np.asarray(a, dtype=np.float64),
        K=np.asarray(k, dtype=np.float64),
        state=np.asarray(state, dtype=np.int8),
        regime=np.asarray(regime, dtype=np.int8),
        box=np.repeat(np.arange(len(plist)), N),
    )
