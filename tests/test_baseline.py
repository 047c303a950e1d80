import numpy as np

from andimamba.baseline import segment_track_classical
from andimamba.sim.fbm import fgn_2d


def test_classical_finds_a_strong_K_change_and_fits_alpha():
    rng = np.random.default_rng(0)
    d1 = fgn_2d(np.array([1.0]), 100, rng)[0] * np.sqrt(2 * 1.0)
    d2 = fgn_2d(np.array([1.0]), 100, rng)[0] * np.sqrt(2 * 0.01)
    xy = np.cumsum(np.concatenate([d1, d2]), axis=0)
    cps, al, ks, st = segment_track_classical(xy)
    assert len(cps) == 1 and abs(cps[0] - 100) <= 3
    assert abs(al[0] - 1.0) < 0.35 and 0.4 < ks[0] < 2.5 and ks[1] < 0.05
    assert st.tolist() == [2, 2]


def test_classical_no_change_on_homogeneous_track():
    rng = np.random.default_rng(1)
    n_cp = []
    for _ in range(20):
        xy = np.cumsum(fgn_2d(np.array([0.7]), 150, rng)[0] * np.sqrt(2 * 0.5), axis=0)
        n_cp.append(len(segment_track_classical(xy)[0]))
    assert np.mean(n_cp) < 0.3
