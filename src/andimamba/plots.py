"""Plots of segmentation results (matplotlib; every function takes ``ax=`` and returns the Axes).

- :func:`plot_track`: the track coloured by predicted state, change points marked.
- :func:`plot_traces`: per-frame α(t) and K(t) with the segment values as steps.
- :func:`plot_alpha_logK_map`: every segment as a point in the α–log₁₀K plane (size ∝ length).
- :func:`save_run_plots`: the PNG files of an ``andimamba predict`` run.

Immobile segments are reported with α = K = 0 (the AnDi-2 label convention): log K does not exist
for them, so the map draws them as a separate row of grey triangles below the others, labelled
"immobile (α = K = 0)", and the traces shade them instead of drawing K.
"""

from __future__ import annotations

import numpy as np

from .andi2 import STATE_NAMES

STATE_COLORS = {0: "#7f7f7f", 1: "#d62728", 2: "#1f77b4", 3: "#2ca02c"}


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_track(xy: np.ndarray, result, ax=None, pixel_size: float | None = None):
    """One track coloured by segment state, change points as black crosses.

    Parameters
    ----------
    xy : ndarray, shape (T, 2)
        Positions in pixels.
    result : SegmentResult
        The track's segmentation.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    pixel_size : float, optional
        µm per pixel: axes in µm instead of px.

    Returns
    -------
    matplotlib.axes.Axes
    """
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
    """α(t) and K(t) of one track: per-frame outputs (when present) and segment values as steps.

    Parameters
    ----------
    result : SegmentResult
        The track's segmentation.
    axes : sequence of 2 matplotlib Axes, optional
        For α and K (default: a new figure with two rows sharing the frame axis).

    Returns
    -------
    sequence of 2 matplotlib.axes.Axes
        x: absolute frame; α dimensionless; K in px²/frame^α (log scale; immobile segments shaded).
    """
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
        kf = np.where(result.K_frame > 0, result.K_frame, np.nan)  # K = 0 (immobile) has no log
        axes[1].semilogy(t, kf, color="0.6", lw=1)
    axes[1].semilogy(t, np.where(seg_k > 0, seg_k, np.nan), color="C1", lw=2)
    edges = np.concatenate([[0], result.cps, [result.T]])
    for j, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        if result.states[j] == 0 and result.Ks[j] == 0:
            for ax in axes:
                ax.axvspan(a + result.first_frame, b - 1 + result.first_frame, color=STATE_COLORS[0], alpha=0.2, lw=0,
                           label="immobile (α = K = 0)" if ax is axes[0] else None)
    axes[1].set(ylabel="K (px²/frame^α)", xlabel="frame")
    for c in result.cps:
        for a in axes:
            a.axvline(c + result.first_frame, color="k", ls=":", lw=1)
    axes[0].legend(fontsize=7)
    return axes


def _segment_arrays(segments) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(α, K px²/frame^α, state, n_frames) per segment from a segments table or SegmentResults."""
    if hasattr(segments, "columns"):  # a DataFrame from andimamba.characterize or Prediction.segments
        from .io.results import K_PX

        return tuple(segments[c].to_numpy() for c in ("alpha", K_PX, "state", "n_frames"))
    a, k, s, n = [], [], [], []
    for r in segments:
        a += list(r.alphas)
        k += list(r.Ks)
        s += list(r.states)
        n += list(np.diff(np.concatenate([[0], r.cps, [r.T]])))
    return tuple(map(np.asarray, (a, k, s, n)))


def plot_alpha_logK_map(segments, ax=None, title: str | None = None):
    """All segments in the α–log₁₀K plane, coloured by state, marker area ∝ segment length.

    Parameters
    ----------
    segments : DataFrame or iterable of SegmentResult
        The table of :func:`andimamba.characterize` (columns ``alpha``, ``K_px2_per_frame_alpha``,
        ``state``, ``n_frames``) or segmentation results.
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    title : str, optional
        Default: the number of segments.

    Returns
    -------
    matplotlib.axes.Axes
        K on the y axis as log₁₀ of px²/frame^α; immobile segments (α = K = 0) on a row of their own.
    """
    ax = _ax(ax)
    a, k, s, n = _segment_arrays(segments)
    zero = k <= 0  # immobile segments reported with K = 0: no log K
    logk = np.log10(np.where(zero, 1.0, k))
    floor = (logk[~zero].min() if (~zero).any() else 0.0) - 0.5
    for st in np.unique(s):
        m = (s == st) & ~zero
        if m.any():
            ax.scatter(a[m], logk[m], s=np.sqrt(n[m]) * 2, alpha=0.5, color=STATE_COLORS.get(int(st), "k"),
                       label=STATE_NAMES.get(int(st), str(st)))
    if zero.any():
        ax.scatter(a[zero], np.full(zero.sum(), floor), s=np.sqrt(n[zero]) * 2, marker="v", alpha=0.5,
                   color=STATE_COLORS[0], label=f"immobile (α = K = 0), {int(zero.sum())}")
        ax.axhline(floor + 0.25, color="0.8", lw=0.8)
    ax.set(xlabel="α", ylabel="log₁₀ K (px²/frame^α)", xlim=(-0.05, 2.05), title=title or f"{len(a)} segments")
    ax.legend(fontsize=7)
    return ax


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in str(name))


def save_run_plots(folder, groups, results, max_plots: int = 20, pixel_size: float | None = None) -> list:
    """Write the PNG plots of a prediction run into ``folder`` and return their paths.

    Parameters
    ----------
    folder : path-like
        Created if missing.
    groups : list of Tracks
        The tracks, one entry per file or AnDi-2 field of view (``experiment`` / ``fov`` set in
        folder mode).
    results : list of list of SegmentResult
        ``results[i]`` belongs to ``groups[i]``.
    max_plots : int
        Tracks plotted individually (the first ones, over all groups).
    pixel_size : float, optional
        µm per pixel, for the track plots' axes.

    Notes
    -----
    Writes ``alpha_logK_map.png`` (all segments); in folder mode also ``alpha_logK_map_exp_E.png``
    for every experiment E; and ``track_<id>.png`` (``track_exp<E>_fov<J>_<id>.png`` in folder mode)
    for the first ``max_plots`` tracks.
    """
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name):
        fig.tight_layout()
        fig.savefig(folder / name, dpi=110)
        plt.close(fig)
        written.append(folder / name)

    flat = [r for res in results for r in res]
    fig, ax = plt.subplots(figsize=(5, 4))
    plot_alpha_logK_map(flat, ax=ax, title=f"all {sum(r.n_segments for r in flat)} segments")
    save(fig, "alpha_logK_map.png")
    by_exp: dict = {}
    for g, res in zip(groups, results):
        if getattr(g, "experiment", None) is not None:
            by_exp.setdefault(g.experiment, []).extend(res)
    if len(by_exp) > 0:
        for e, res in sorted(by_exp.items()):
            fig, ax = plt.subplots(figsize=(5, 4))
            plot_alpha_logK_map(res, ax=ax, title=f"experiment {e}: {sum(r.n_segments for r in res)} segments")
            save(fig, f"alpha_logK_map_exp_{_safe(e)}.png")
    left = max_plots
    for g, res in zip(groups, results):
        if left <= 0:
            break
        xy_by_id = {tid: xy for tid, _, xy in g}
        prefix = f"exp{_safe(g.experiment)}_fov{_safe(g.fov)}_" if getattr(g, "experiment", None) is not None else ""
        for r in res[:left]:
            fig = plt.figure(figsize=(10, 4))
            ax0 = fig.add_subplot(1, 2, 1)
            plot_track(xy_by_id[r.track_id], r, ax=ax0, pixel_size=pixel_size)
            ax1 = fig.add_subplot(2, 2, 2)
            ax2 = fig.add_subplot(2, 2, 4, sharex=ax1)
            plot_traces(r, axes=[ax1, ax2])
            save(fig, f"track_{prefix}{_safe(r.track_id)}.png")
            left -= 1
    return written
