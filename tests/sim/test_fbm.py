import numpy as np
import pytest

from andimamba.sim.fbm import fgn_2d, fgn_autocovariance


@pytest.mark.parametrize("alpha", [0.2, 1.0, 1.6, 1.99])
def test_fgn_empirical_autocovariance_matches_theory(alpha):
    rng = np.random.default_rng(1)
    x = fgn_2d(np.full(20000, alpha), 16, rng)  # (n, T, 2)
    for d in range(2):
        xs = x[..., d]
        emp = np.array([np.mean(xs[:, : 16 - k] * xs[:, k:]) for k in range(6)])
        th = fgn_autocovariance(np.array([alpha / 2]), np.arange(6))[0]
        assert np.allclose(emp, th, atol=0.045), (emp, th)
    # x and y are independent
    assert abs(np.mean(x[..., 0] * x[..., 1])) < 0.02


def test_fgn_msd_exponent():
    rng = np.random.default_rng(2)
    for alpha in (0.3, 1.5):
        x = fgn_2d(np.full(3000, alpha), 64, rng)[..., 0].cumsum(1)
        msd = (x ** 2).mean(0)
        t = np.arange(1, 65)
        slope = np.polyfit(np.log(t), np.log(msd), 1)[0]
        assert abs(slope - alpha) < 0.05
        assert abs(msd[0] - 1.0) < 0.08


def test_fgn_reproducible_and_per_row_alpha():
    a = np.array([0.5, 1.0, 1.5, 0.5])
    x1 = fgn_2d(a, 50, np.random.default_rng(7))
    x2 = fgn_2d(a, 50, np.random.default_rng(7))
    assert np.array_equal(x1, x2)
    assert not np.allclose(x1[0], x1[3])


@pytest.mark.parametrize("bad", [0.0, 2.0, -0.1, np.nan])
def test_fgn_rejects_bad_alpha(bad):
    with pytest.raises(ValueError, match="alpha"):
        fgn_2d(np.array([bad]), 10, np.random.default_rng(0))


def test_truncated_normal_draws_match_scipy():
    from scipy import stats

    from andimamba.sim.params import draw_truncated

    rng = np.random.default_rng(0)
    for mean, var, lo, hi in [(1.0, 0.01, 0, 1.999), (1.95, 0.05, 0, 1.999), (0.05, 0.01, 0, 1.999), (0.5, 4.0, 0, 1.999)]:
        x = draw_truncated([mean, var], 4000, (lo, hi), rng)
        assert x.min() >= lo and x.max() <= hi
        sd = np.sqrt(var)
        ref = stats.truncnorm((lo - mean) / sd, (hi - mean) / sd, loc=mean, scale=sd)
        assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    assert np.all(draw_truncated([0.7, 0.0], 5, (0, 1.999), rng) == 0.7)
