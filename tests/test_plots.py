"""Plots: immobile segments (alpha = K = 0) drawn as such, not at a fake K floor; run plots per experiment."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from andimamba.result import SegmentResult  # noqa: E402
from andimamba.plots import plot_alpha_logK_map, plot_traces, save_run_plots  # noqa: E402


def _result(tid="a", T=40):
    return SegmentResult(tid, T, cps=[20], alphas=[0.0, 1.2], Ks=[0.0, 0.3], states=[0, 2],
                         alpha_frame=np.full(T, 0.5), K_frame=np.full(T, 0.01), state_frame=np.r_[np.zeros(20), np.full(20, 2)])


def test_map_puts_immobile_segments_on_their_own_row():
    fig, ax = plt.subplots()
    out = plot_alpha_logK_map([_result("a"), _result("b")], ax=ax)
    assert out is ax
    ys = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    assert np.isclose(ys.max(), np.log10(0.3)) and ys.min() == np.log10(0.3) - 0.5  # K = 0 not at log10(1e-6)
    assert any("immobile (α = K = 0)" in t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)


def test_traces_do_not_draw_zero_K():
    fig, axes = plt.subplots(2, 1)
    plot_traces(_result(), axes=axes)
    seg_line = axes[1].get_lines()[1]
    assert np.isnan(seg_line.get_ydata()[:20]).all() and np.allclose(seg_line.get_ydata()[20:], 0.3)
    plt.close(fig)


def test_save_run_plots_per_experiment(tmp_path):
    import pandas as pd

    from andimamba.io import tracks_from_dataframe

    groups = []
    for e in (0, 1):
        df = pd.DataFrame([(tid, f, float(f), 0.0) for tid in ("a", "b") for f in range(40)], columns=["particle", "frame", "x", "y"])
        g = tracks_from_dataframe(df)
        g.experiment, g.fov = e, 0
        groups.append(g)
    results = [[_result("a"), _result("b")] for _ in groups]
    files = save_run_plots(tmp_path / "plots", groups, results, max_plots=3)
    names = sorted(p.name for p in files)
    assert names == sorted(["alpha_logK_map.png", "alpha_logK_map_exp_0.png", "alpha_logK_map_exp_1.png",
                            "track_exp0_fov0_a.png", "track_exp0_fov0_b.png", "track_exp1_fov0_a.png"])
    assert all(p.stat().st_size > 1000 for p in files)


def test_frames_of_immobile_segments_report_zero():
    pf = _result().per_frame()
    assert (pf["alpha"][:20] == 0).all() and (pf["K"][:20] == 0).all() and (pf["state"][:20] == 0).all()
    assert np.allclose(pf["alpha"][20:], 0.5) and np.allclose(pf["K"][20:], 0.01)


def test_plot_track_draws_on_the_given_axes_and_returns_them():
    from andimamba.plots import plot_track

    fig, ax = plt.subplots()
    xy = np.cumsum(np.ones((40, 2)), 0)
    assert plot_track(xy, _result(), ax=ax, pixel_size=0.1) is ax
    assert ax.get_xlabel() == "x (µm)" and len(ax.get_lines()) == 3  # two segments and the change point
    assert np.allclose(ax.get_lines()[0].get_xdata(), xy[:21, 0] * 0.1)
    plt.close(fig)


def test_map_takes_the_characterize_table():
    import pandas as pd

    seg = pd.DataFrame({"particle": [1, 1, 2], "alpha": [0.0, 1.2, 0.5], "K_px2_per_frame_alpha": [0.0, 0.3, 0.1],
                        "state": [0, 2, 1], "n_frames": [20, 20, 40]})
    fig, (a1, a2) = plt.subplots(1, 2)
    plot_alpha_logK_map(seg, ax=a1)
    plot_alpha_logK_map([_result(), SegmentResult("b", 40, cps=[], alphas=[0.5], Ks=[0.1], states=[1])], ax=a2)
    offsets = [np.concatenate([c.get_offsets() for c in a.collections]) for a in (a1, a2)]
    assert np.allclose(np.sort(offsets[0], 0), np.sort(offsets[1], 0))  # the table and the results draw the same points
    plt.close(fig)
