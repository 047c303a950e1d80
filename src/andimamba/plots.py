"""Plots of segmentation results (matplotlib; every function takes ``ax=`` and returns the Axes).

- :func:`plot_track`: the track coloured by predicted state, change points marked.
- :func:`plot_traces`: per-frame α(t) and K(t) with the segment values as steps.
- :func:`plot_alpha_logK_map`: every segment as a point in the α–log₁₀K plane (size ∝ length).
"""

from __future__ import annotations

import numpy as np

STATE_COLORS = {0: "#7f7f7f", 1: "#d62728", 2: "#1f77b4", 3: "#2ca02c"}
STATE_NAMES = {0: "immobile", 1: "confined", 2: "free", 3: "directed"}


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_track(xy: np.ndarray, result, ax=None, pixel_size: float | None = None):
    """Track coloured by segment state; CPs as black crosses. ``xy`` (T, 2) in px."""
    ax = _ax(ax)
    s = pixel_size or 1.0
    bounds = np.concatenate([[0], result.cps, [result.T]])
    for j, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        st = int(result.states[j])
        seg = xy[a : min(b + 1, result.T)] * s
        ax.plot(seg[:, 0], seg[:, 1], "-", lw=1, color=STATE_COLORS.get(st, "k"), label=STATE_NAMES.get(st, str(st)))
    if len(result.cps):
        c = xy[result.cps] * s
        ax.plot(c[:, 0], c[:, 1], "kx", ms=8, mew=2, label="change point")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="best")
    unit = "µm" if pixel_size else "px"
    ax.set(xlabel=f"x ({unit})", ylabel=f"y ({unit})", title=f"track {result.track_id}")
    ax.set_aspect("equal", adjustable="datalim")
    return ax


def plot_traces(result, axes=None):
    """α(t) and K(t) (per-frame outputs when present, segment values as steps). Returns 2 Axes."""
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(2, 1, sharex=True)
    t = np.arange(result.T) + result.first_frame
    seg_a = np.repeat(result.alphas, np.diff(np.concatenate([[0], result.cps, [result.T]])))
    seg_k = np.repeat(result.Ks, np.diff(np.concatenate([[0], result.cps, [result.T]])))
    if result.alpha_frame is not None:
        axes[0].plot(t, result.alpha_frame, color="0.6", lw=1, label="per frame")
    axes[0].plot(t, seg_a, color="C0", lw=2, label="segment")
    axes[0].set(ylabel="α", ylim=(-0.05, 2.05))
    if result.K_frame is not None:
        axes[1].semilogy(t, np.maximum(result.K_frame, 1e-6), color="0.6", lw=1)
    axes[1].semilogy(t, np.maximum(seg_k, 1e-6), color="C1", lw=2)
    axes[1].set(ylabel="K (px²/frame^α)", xlabel="frame")
    for c in result.cps:
        for a in axes:
            a.axvline(c + result.first_frame, color="k", ls=":", lw=1)
    axes[0].legend(fontsize=7)
    return axes


def plot_alpha_logK_map(results, ax=None):
    """All segments in the α–log₁₀K plane, coloured by state, marker area ∝ segment length."""
    ax = _ax(ax)
    a, k, s, n = [], [], [], []
    for r in results:
        lens = np.diff(np.concatenate([[0], r.cps, [r.T]]))
        a += list(r.alphas)
        k += list(r.Ks)
        s += list(r.states)
        n += list(lens)
    a, k, s, n = map(np.asarray, (a, k, s, n))
    for st in np.unique(s):
        m = s == st
        ax.scatter(a[m], np.log10(np.maximum(k[m], 1e-6)), s=np.sqrt(n[m]) * 2, alpha=0.5, color=STATE_COLORS.get(int(st), "k"), label=STATE_NAMES.get(int(st), str(st)))
    ax.set(xlabel="α", ylabel="log₁₀ K (px²/frame^α)", xlim=(-0.05, 2.05), title=f"{len(a)} segments")
    ax.legend(fontsize=7)
    return ax
