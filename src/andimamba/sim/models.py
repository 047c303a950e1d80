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

import sys
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import fft as sp_fft

from ..andi2 import ALPHA_BOUNDS, ALPHA_DIRECTED, K_BOUNDS
from .fbm import fgn_2d, fgn_2d_from_amplitude, fgn_amplitude
from .geometry import place_compartments
from .params import ExperimentParams, draw_truncated

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


def _free_state_code(alpha: np.ndarray) -> np.ndarray:
    return np.where(alpha >= ALPHA_DIRECTED, 3, 2).astype(np.int8)


def _draw(params: Sequence[ExperimentParams], attr: str, state: int, N: int, rng) -> np.ndarray:
    """Per-particle draw of state ``state``'s α or K for all boxes: shape (E·N,)."""
    rows = np.repeat(np.stack([getattr(p, attr)[state] for p in params]), N, axis=0)  # (P, 2)
    bounds = ALPHA_BOUNDS if attr == "alphas" else K_BOUNDS
    return draw_truncated(rows, rows.shape[0], bounds, rng)


def _draw_states(params: Sequence[ExperimentParams], attr: str, k: int, N: int, rng) -> np.ndarray:
    """Per-particle draws for states 0 … k−1: shape (E·N, k)."""
    return np.stack([_draw(params, attr, s, N, rng) for s in range(k)], 1)


def _walk(pos0: np.ndarray, disp: np.ndarray, L: float) -> np.ndarray:
    """pos[t] = reflect(pos[t−1] + disp[t]) for t ≥ 1, reflections as ``_kernels._reflect1``.
    (P, 2), (P, T, 2) → (P, T, 2).

    The compiled ``walk_reflect`` when numba's kernels are already loaded in this process; else the
    same in numpy (``_walk_numpy``, bit-identical), sparing a process that needs no other kernel
    numba's loading (~0.4 s, most of ``andimamba simulate``'s start-up for single_state and
    multi_state).
    """
    if "andimamba.sim._kernels" in sys.modules:
        from ._kernels import walk_reflect

        return walk_reflect(np.ascontiguousarray(pos0, dtype=np.float64), np.ascontiguousarray(disp, dtype=np.float64), float(L))
    return _walk_numpy(pos0, disp, L)


def _walk_numpy(pos0: np.ndarray, disp: np.ndarray, L: float) -> np.ndarray:
    """``_walk`` in numpy: a coordinate that never leaves [0, L] is the running sum of its steps
    (``cumsum`` adds in the loop's order); only the coordinates that do leave are walked frame by
    frame from their first exit on."""
    L = float(L)
    P, T, _ = disp.shape
    C = np.empty((P, 2, T))  # coordinate-major: each coordinate's frames contiguous
    C[:, :, 0] = pos0
    C[:, :, 1:] = disp[:, 1:].transpose(0, 2, 1)
    np.cumsum(C, axis=2, out=C)
    C = C.reshape(2 * P, T)
    rows = np.flatnonzero((C.max(axis=1, initial=0.0) > L) | (C.min(axis=1, initial=0.0) < 0))  # the coordinates that leave
    if rows.size:
        X = np.ascontiguousarray(C[rows].T)  # (T, n), time-major
        D = np.ascontiguousarray(disp[rows // 2, :, rows % 2].T)
        t0 = int(((X > L) | (X < 0)).argmax(axis=0).min())  # the earliest first exit (≥ 1)
        x = X[t0 - 1].copy()
        for t in range(t0, T):
            x += D[t]  # inside, before its first exit, x equals the running sum
            bad = np.flatnonzero((x > L) | (x < 0))
            while bad.size:  # _reflect1: x > L → 2L − x, then x < 0 → −x, until inside
                v = x[bad]
                v = np.where(v > L, 2 * L - v, v)
                v = np.where(v < 0, -v, v)
                x[bad] = v
                bad = bad[(v > L) | (v < 0)]
            X[t] = x
        C[rows] = X.T
    return np.ascontiguousarray(C.reshape(P, 2, T).transpose(0, 2, 1))


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
    alpha_ps = _draw_states(params, "alphas", k, N, rng)  # (P, k)
    K_ps = _draw_states(params, "Ks", k, N, rng)
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


class _Streams:
    """Noise sequences for the compiled kernels: the current sequence of every particle and at
    most one pending sequence per (particle, state), generated lazily in batches.

    The fGn amplitudes (the α-dependent eigenvalues) and √(2K) of a (particle, state) are computed
    once, the first time it needs a sequence, and reused for every later one: a fresh sequence
    then costs its normal draws and one FFT (same numbers as ``fgn_2d``).
    """

    def __init__(self, alpha: np.ndarray, K: np.ndarray, T: int, rng: np.random.Generator):
        P, S = alpha.shape  # per-particle, per-state α and K of the noise source
        self.alpha, self.K, self.T, self.rng = alpha, K, T, rng
        self.cur = np.zeros((P, T, 2))
        self.ptr = np.zeros(P, dtype=np.int64)
        self.pend = np.zeros((P, S, T, 2))
        self.has_pend = np.zeros((P, S), dtype=np.bool_)
        self.need = np.zeros((P, S), dtype=np.bool_)
        self.amp = np.empty((P, S, 2 * T))  # fgn_amplitude rows, valid where has_amp
        self.scale = np.sqrt(2 * K)  # (P, S)
        self.has_amp = np.zeros((P, S), dtype=np.bool_)

    def _sequences(self, amp: np.ndarray, scale: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``fgn_2d_from_amplitude(amp, T, rng, scale, out)``: the same numbers, with the steps around
        scipy's FFT compiled (normals drawn from the same Generator). amp (n, 2T) → (n, T, 2)."""
        from ._fgn_kernels import normals_times_amplitude, scaled_xy

        if self.T == 1:
            return fgn_2d_from_amplitude(amp, self.T, self.rng, scale, out)
        out = np.empty((amp.shape[0], self.T, 2)) if out is None else out
        z = np.empty(amp.shape, dtype=np.complex128)  # (n, M)
        normals_times_amplitude(self.rng, amp, z)
        scaled_xy(sp_fft.fft(z, axis=1, overwrite_x=True), np.ascontiguousarray(scale), out)
        return out

    def _gen(self, p: np.ndarray, s: np.ndarray) -> np.ndarray:
        new = ~self.has_amp[p, s]
        if new.any():
            pn, sn = p[new], s[new]
            self.amp[pn, sn] = fgn_amplitude(self.alpha[pn, sn], self.T)
            self.has_amp[pn, sn] = True
        return self._sequences(self.amp[p, s], self.scale[p, s])

    def start(self, state0: np.ndarray, all_amplitudes: bool = False) -> None:
        """cur = a first sequence for every particle p, in state state0[p]; with ``all_amplitudes``,
        the amplitudes of every (particle, state) are computed now in one batch (cheaper than one
        small batch per later return from the kernel when most particles change state)."""
        p = np.arange(state0.shape[0])
        if all_amplitudes:
            P, S, M = self.amp.shape
            self.amp[:] = fgn_amplitude(self.alpha.ravel(), self.T).reshape(P, S, M)  # rows are independent of the batch
            self.has_amp[:] = True
        if not np.any(state0):  # everyone in state 0 (a view of the amplitudes, no gathers)
            if not self.has_amp[:, 0].all():
                self.amp[:, 0] = fgn_amplitude(self.alpha[:, 0], self.T)
                self.has_amp[:, 0] = True
            self._sequences(self.amp[:, 0], self.scale[:, 0], out=self.cur)
        else:
            self.cur[:] = self._gen(p, state0)

    def fill_needed(self) -> None:
        p, s = np.nonzero(self.need)
        self.pend[p, s] = self._gen(p, s)
        self.has_pend[p, s] = True
        self.need[p, s] = False


def _run(kernel, T: int, streams: _Streams, *args) -> None:
    t = 1
    while t < T:
        t = kernel(t, *args)
        if t < T:
            streams.fill_needed()


def _immobile_traps(params, N, T, L, rng):
    E = len(params)
    P = E * N
    p0 = params[0]
    r, Pu, Pb, Nt = float(p0.r), float(p0.Pu), float(p0.Pb), int(p0.Nt)
    box = np.repeat(np.arange(E), N)
    alpha = _draw(params, "alphas", 0, N, rng)
    K = _draw(params, "Ks", 0, N, rng)
    pos = np.empty((P, T, 2))
    pos[:, 0] = rng.random((P, 2)) * L
    traps = rng.random((E, Nt, 2)) * L
    traps = np.take_along_axis(traps, np.argsort(traps[:, :, 0], axis=1)[:, :, None], axis=1)  # sorted by x
    coin_u = rng.random((P, T))
    coin_b = np.ascontiguousarray(rng.random((P, T)).T)  # (T, P): read for every free particle every frame
    ns = _Streams(alpha[:, None], K[:, None], T, rng)
    ns.start(np.zeros(P, dtype=np.int64))
    bound = np.zeros((P, T), dtype=np.bool_)
    from ._kernels import trap_buckets, traps_kernel

    # kernel state: frame t − 1 of every particle, and the decisions of frame dec_t
    xs, ys, bnow = pos[:, 0, 0].copy(), pos[:, 0, 1].copy(), np.zeros(P, dtype=np.bool_)
    dec, dec_t = np.zeros(P, dtype=np.bool_), np.zeros(1, dtype=np.int64)
    traps_x = np.ascontiguousarray(traps[:, :, 0])
    first, w = trap_buckets(traps_x, L)
    _run(traps_kernel, T, ns, pos, bound, xs, ys, bnow, box, traps_x, traps, first, w, r, Pu, Pb, L, coin_u, coin_b, ns.cur, ns.ptr, ns.pend,
         ns.has_pend, ns.need, dec, dec_t)
    a = np.where(bound, 0.0, alpha[:, None])
    kk = np.where(bound, 0.0, K[:, None])
    state = np.where(bound, 0, _free_state_code(a)).astype(np.int8)
    return pos, a, kk, state, bound.astype(np.int8)


def _dimerization(params, N, T, L, rng):
    E = len(params)
    P = E * N
    p0 = params[0]
    r, Pu, Pb = float(p0.r), float(p0.Pu), float(p0.Pb)
    box = np.repeat(np.arange(E), N)
    aN = _draw_states(params, "alphas", 2, N, rng)  # (P, 2): free, dimer
    KN = _draw_states(params, "Ks", 2, N, rng)
    pos = np.empty((P, T, 2))
    pos[:, 0] = rng.random((P, 2)) * L
    ns = _Streams(aN, KN, T, rng)
    ns.start(np.zeros(P, dtype=np.int64))  # the initial (free-state) sequences, batched; later ones (and coins) in the kernel
    partner = np.full(P, -1, dtype=np.int64)
    reg = np.zeros((P, T), dtype=np.int8)
    from ._fgn_kernels import fft_plan
    from ._dimer_kernels import dimer_kernel

    tw, rev = fft_plan(T)
    dimer_kernel(pos, partner, reg, box * N + N, r, Pu, Pb, L, ns.cur, ns.ptr, aN, ns.scale, rng, tw, rev)
    ar = np.arange(P)[:, None]
    A = aN[ar, reg]  # every particle keeps its own label for its current state
    Kt = KN[ar, reg]
    return pos, A, Kt, _free_state_code(A), reg


def _confinement(params, N, T, L, rng):
    E = len(params)
    P = E * N
    p0 = params[0]
    r, Nc, trans = float(p0.r), int(p0.Nc), float(p0.trans)
    aS = _draw_states(params, "alphas", 2, N, rng)  # (P, 2): free, confined
    KS = _draw_states(params, "Ks", 2, N, rng)
    centres, _ = place_compartments(P, Nc, r, L, rng)  # one layout per particle, as andi
    centres = np.where(np.isnan(centres), 1e12, centres)
    pos = np.zeros((P, T, 2))
    pos[:, 0] = rng.random((P, 2)) * L
    d0 = np.linalg.norm(centres - pos[:, 0, None, :], axis=2)  # (P, Nc)
    st = np.zeros((P, T), dtype=np.int8)
    st[:, 0] = d0.min(1) < r
    comp = d0.argmin(1).astype(np.int64)
    coin_t = rng.random((P, T))
    ns = _Streams(aS, KS, T, rng)
    ns.start(st[:, 0].astype(np.int64), all_amplitudes=True)  # particles cross compartment walls all the time
    from ._kernels import confinement_kernel

    _run(confinement_kernel, T, ns, pos, st, comp, centres, r, trans, L, coin_t, ns.cur, ns.ptr, ns.pend, ns.has_pend, ns.need)
    ar = np.arange(P)[:, None]
    A = aS[ar, st]
    Kt = KS[ar, st]
    state = np.where(st == 1, 1, _free_state_code(aS[:, :1])).astype(np.int8)  # free code from the free α
    return pos, A, Kt, state, st


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
