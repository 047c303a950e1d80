import numpy as np

from andimamba.classical import segment_track_classical
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


def test_optimal_partition_matches_brute_force():
    from itertools import combinations

    from andimamba.classical import _optimal_partition

    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(6, 14))
        u = rng.standard_normal(n) + np.repeat(rng.normal(0, 3, 3), [n // 3, n // 3, n - 2 * (n // 3)])
        pen, ms = float(rng.uniform(0.5, 6)), 2

        def cost(starts):
            b = [0, *starts, n]
            return sum(((u[a:c] - u[a:c].mean()) ** 2).sum() for a, c in zip(b[:-1], b[1:])) + pen * (len(b) - 1)

        best = min((cost(list(c)), list(c)) for k in range(0, n // ms) for c in combinations(range(ms, n - ms + 1), k)
                   if all(y - x >= ms for x, y in zip([0, *c], [*c, n])))
        got = _optimal_partition(u, pen, ms).tolist()
        assert np.isclose(cost(got), best[0]), (got, best)
