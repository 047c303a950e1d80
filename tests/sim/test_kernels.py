"""The simulator's compiled pieces against plain reference code: the dimer pairing, the trap bucket
index, the radix-2 FFT and the fGn sequences generated inside the kernels."""

import numpy as np
import pytest

from andimamba.sim._fgn_kernels import (
    _fft_pow2,
    fft_plan,
    fgn_amplitude_nb,
    fgn_sequence_nb,
)
from andimamba.sim._dimer_kernels import _pair_box
from andimamba.sim._kernels import trap_buckets
from andimamba.sim.fbm import fgn_autocovariance


def _pair_reference(lo, hi, xs, ys, partner, r, Pb, rng):
    """The pairing loop of andi's dimerization as first written here: every free n (in index order)
    tests every particle m of its box (in index order), each candidate drawing its coin."""
    newp = np.full(len(xs), -1)
    r2 = 4 * r * r
    for n in range(lo, hi):
        if partner[n] >= 0 or newp[n] >= 0:
            continue
        for m in range(lo, hi):
            if m == n or partner[m] >= 0 or newp[m] >= 0:
                continue
            dx, dy = xs[n] - xs[m], ys[n] - ys[m]
            d2 = dx * dx + dy * dy
            if d2 < r2 and d2 > 0 and (Pb >= 1.0 or (Pb > 0.0 and rng.random() < Pb)):
                newp[n], newp[m] = m, n
                break
    return newp


@pytest.mark.parametrize("Pb", [1.0, 0.4])
@pytest.mark.parametrize("side", [3.0, 30.0])  # crowded (many candidates per particle) and sparse boxes
def test_dimer_pairing_equals_the_all_pairs_loop(Pb, side):
    rng = np.random.default_rng(int(side * 10 + Pb * 10))
    P, r = 90, 0.5
    boxes = [(0, 40), (40, 90)]
    for trial in range(20):
        xs = rng.random(P) * side
        ys = rng.random(P) * side
        xs[5] = xs[6]  # ties in x and a particle on top of another (d2 = 0: never binds)
        xs[7], ys[7] = xs[8], ys[8]
        partner = np.full(P, -1, dtype=np.int64)
        for a, b in rng.choice(P, size=(6, 2), replace=False):
            if (a < 40) == (b < 40):
                partner[a], partner[b] = b, a
        order = rng.permutation(P)  # any start order: sorted per box inside
        order = np.concatenate([np.sort(order[order < 40]), np.sort(order[order >= 40])]).astype(np.int64)
        newp = np.full(P, -1, dtype=np.int64)
        pairs = np.empty((2, 2), dtype=np.int64)  # small: grown inside
        deg, start, adj = np.zeros(P + 1, np.int64), np.zeros(P + 1, np.int64), np.empty(4, np.int64)
        coins, ref_coins = np.random.default_rng(trial), np.random.default_rng(trial)
        for lo, hi in boxes:
            pairs = _pair_box(lo, hi, xs, ys, order, partner, newp, r, Pb, coins, pairs, deg, start, adj)
            if adj.shape[0] < 2 * pairs.shape[0]:
                adj = np.empty(2 * pairs.shape[0], dtype=np.int64)
        ref = np.full(P, -1)
        for lo, hi in boxes:
            ref[lo:hi] = _pair_reference(lo, hi, xs, ys, partner, r, Pb, ref_coins)[lo:hi]
        np.testing.assert_array_equal(newp, ref)
        assert coins.random() == ref_coins.random()  # the same coins were drawn
        for lo, hi in boxes:  # the order is each box's particles sorted by x
            assert sorted(order[lo:hi]) == list(range(lo, hi))
            assert np.all(np.diff(xs[order[lo:hi]]) >= 0)


def test_trap_buckets_give_searchsorted():
    rng = np.random.default_rng(3)
    L = 50.0
    traps_x = np.sort(rng.random((3, 40)) * L, axis=1)
    first, w = trap_buckets(traps_x, L)
    for e in range(3):
        for c in range(first.shape[1]):
            assert first[e, c] == np.searchsorted(traps_x[e], c * w)


def test_radix2_fft_equals_numpy():
    for T in (2, 3, 100, 200):
        tw, rev = fft_plan(T)
        M = rev.shape[0]
        assert M >= 2 * T and M & (M - 1) == 0
        for n in (M, M // 2, 4):  # the full size and smaller ones with the same plan
            x = np.random.default_rng(T + n).standard_normal((n, 2)) @ np.array([1, 1j])
            y = x.copy()
            _fft_pow2(y, tw, rev)
            np.testing.assert_allclose(y, np.fft.fft(x), atol=1e-11 * n)


@pytest.mark.parametrize("alpha", [0.2, 1.0, 1.8])
@pytest.mark.parametrize("plan_T", [64, 200])  # the circulant of a 64-value sequence alone, or within a bigger plan
def test_kernel_fgn_has_the_fgn_autocovariance(alpha, plan_T):
    T, n = 64, 8000
    tw, rev = fft_plan(plan_T)
    M = 128
    amp, buf = np.empty(M), np.empty(M, dtype=np.complex128)
    fgn_amplitude_nb(alpha, amp, buf, tw, rev)
    rng = np.random.default_rng(int(alpha * 10))
    seq = np.empty((n, T, 2))
    for i in range(n):
        fgn_sequence_nb(amp, 2.0, rng, seq[i], buf, tw, rev)
    seq /= 2.0
    lags = np.arange(5)
    for d in range(2):
        emp = [np.mean(seq[:, 10 : T - 5, d] * seq[:, 10 + k : T - 5 + k, d]) for k in lags]
        np.testing.assert_allclose(emp, fgn_autocovariance(np.array([alpha / 2]), lags)[0], atol=0.03)
    assert abs(np.mean(seq[..., 0] * seq[..., 1])) < 0.01  # x and y independent
    np.testing.assert_allclose(seq[:, [0, T - 1]].var(axis=0), 1.0, atol=0.06)  # stationary: unit variance at both ends


def test_compiled_sequence_steps_give_fbm_numbers_bit_for_bit():
    """models._Streams draws its sequences with the compiled steps around scipy's FFT: the same
    numbers as sim.fbm (which the seeded outputs of traps and confinement rest on), and the
    generator is left in the same state."""
    from andimamba.sim.fbm import fgn_2d_from_amplitude, fgn_amplitude
    from andimamba.sim.models import _Streams

    alpha = np.random.default_rng(0).uniform(0.1, 1.9, (7, 1))
    K = np.random.default_rng(1).uniform(0.01, 3, (7, 1))
    for T in (1, 2, 50, 200):
        amp = fgn_amplitude(alpha[:, 0], T)
        rng = np.random.default_rng(5)
        ref = fgn_2d_from_amplitude(amp, T, rng) * np.sqrt(2 * K)[:, :, None]
        streams = _Streams(alpha, K, T, np.random.default_rng(5))
        got = streams._sequences(amp, streams.scale[:, 0])
        np.testing.assert_array_equal(got, ref)
        assert streams.rng.random() == rng.random()


@pytest.mark.parametrize("P,T,L,step", [(300, 200, 230.4, 1.0), (40, 100, 5.0, 3.0), (7, 3, 1.0, 5.0), (5, 1, 1.0, 1.0), (0, 10, 1.0, 1.0)])
def test_numpy_walk_equals_the_compiled_walk(P, T, L, step):
    """single_state and multi_state walk in numpy unless numba is loaded: both give the same bits."""
    from andimamba.sim._kernels import walk_reflect
    from andimamba.sim.models import _walk_numpy

    rng = np.random.default_rng(P + T)
    pos0 = rng.random((P, 2)) * L
    disp = rng.standard_normal((P, T, 2)) * step
    np.testing.assert_array_equal(_walk_numpy(pos0, disp, L), walk_reflect(pos0, disp, L))
