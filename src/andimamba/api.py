"""The DataFrame API at the package root: your tracks table in, your track ids out (trackpy style).

::

    import andimamba as am

    segs = am.characterize(tracks_df, pixel_size=0.107, frame_interval=0.05)   # one row per segment
    frames = am.annotate(tracks_df)                                            # your rows + alpha, K, state
    segs = am.analyze_folder("andi_challenge/", submission="submission/")     # AnDi-2 folders

The input is a tidy table with one row per position (``trackpy.link`` output, a quot or TrackMate
table read with pandas, ...). Its track id, frame, x and y columns are recognised by name as
``andimamba predict`` does (:mod:`andimamba.io.columns`: ``particle``, ``trajectory``,
``TRACK_ID``, ``x [nm]``, ...), or named with ``columns=``. The results are keyed by **your**
track id column, with its name and dtype (``particle`` int64 stays ``particle`` int64), so they
merge back onto your data.

Units
-----
In: positions in the unit of the table (pixels by default; ``units=`` or a header such as
``x [nm]`` says otherwise, and nm/µm need ``pixel_size`` in µm per pixel), frames as integers.
Out: α (dimensionless); K in px²/frame^α (``K_px2_per_frame_alpha``, MSD = 4·K·t^α with t in frames)
and, when ``pixel_size`` (µm/px) and ``frame_interval`` (s) are both given, also in µm²/s^α
(``K_um2_per_s_alpha``). The model reads positions in pixels, so K is in px² per frame^α
whatever the input unit.

A track with a gap in its frame numbers is analysed as separate pieces (the model needs one
position per frame); its segments are numbered on across the pieces, and the gap shows in
``start_frame``/``end_frame``. Tracks shorter than ``min_length`` frames are not analysed: they
have no row in :func:`characterize` and NaN/<NA> values in :func:`annotate`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .andi2 import STATE_NAMES
from .errors import UserError
from .io.results import K_PX, K_UM, k_physical
from .short_tracks import SHORT_MIN_LENGTH

__all__ = ["characterize", "annotate", "analyze_folder"]

_COMMON_DOC = """
    Parameters
    ----------
    df : pandas.DataFrame
        One row per position: a track id, a frame number and x, y (any extra columns are kept by
        :func:`annotate` and ignored otherwise).
    pixel_size : float, optional
        µm per pixel: converts µm or nm positions to pixels, and with ``frame_interval`` adds
        K in µm²/s^α.
    frame_interval : float, optional
        Seconds per frame.
    columns : mapping or str, optional
        Your column names when they are not recognised, e.g. ``{"track": "cell", "frame": "t"}``
        or ``"track=cell,frame=t,x=X,y=Y"``.
    units : {"px", "nm", "um"}, optional
        Unit of x, y when the column names do not say (default pixels).
    model : str, path or Predictor
        ``"bimamba"`` (default), ``"bilstm"``, ``"classical"``, a trained run folder, or a
        :class:`~andimamba.predict.Predictor` loaded once with
        :func:`~andimamba.predict.load_predictor` (faster for many calls).
    min_length : int
        Shortest track analysed, in frames (default 6). Tracks of 6-19 frames get one α and K
        (regime ``short``, no change points); from 20 frames on the network finds change points.
    tta : bool
        Average the network over the 8 rotations/reflections of each track (8x slower).
    window : int, None or "model"
        Tracks longer than this run in half-overlapping windows of this many frames; None runs
        whole tracks; ``"model"`` (default): the model's own window (200 frames, the training
        length, for the shipped models).
    batch_size : int
        Tracks per forward pass.
    loc_noise : float, optional
        Localisation noise std per coordinate, in pixels, when known (short tracks).
    progress : bool
        Show a progress bar.
    pool : bool
        Pool the segment states and α over all tracks of ``df``, taken as one experiment (default): each
        segment's state is decided with its population's (:mod:`andimamba.state_pooling`), and the network's α
        of a short segment moves toward the population of the table's segments by how uncertain it is
        (:mod:`andimamba.pooling`). Pass False when ``df`` mixes unrelated experiments.
"""


def _predict(df, pixel_size, frame_interval, columns, units, model, min_length, tta, window, batch_size, loc_noise, progress, pool):
    """Read ``df``, run the model; returns (Tracks, results, Prediction, label of the track id column)."""
    from .io import tracks_from_dataframe
    from .pipeline import as_predictor, run_predictor

    if not isinstance(df, pd.DataFrame):
        raise UserError(f"df must be a pandas DataFrame with one row per position, got {type(df).__name__}")
    pred = as_predictor(model, window, batch_size, loc_noise)
    tracks = tracks_from_dataframe(df, pixel_size=pixel_size, frame_interval=frame_interval, columns=columns, units=units,
                                   min_length=min_length, name="df")
    run = run_predictor([tracks], pred, tta=tta, pixel_size=pixel_size, frame_interval=frame_interval, progress=progress, pool=pool)
    label = {str(c).strip(): c for c in df.columns}[tracks.columns["track"]]
    return tracks, run.results[0], run, label


def _track_keys(tracks, results, df, label) -> tuple[np.ndarray, np.ndarray]:
    """Per analysed piece (results order): the df row position of its first position, and the
    number of segments of the earlier pieces of the same user track (the segment offset)."""
    first = np.r_[0, np.cumsum([r.T for r in results])[:-1]].astype(np.int64)  # (n_pieces,) first data row of each
    rows = tracks.source_rows[first]  # (n_pieces,) df row position
    user = pd.factorize(df[label].iloc[rows], sort=False)[0] if len(rows) else np.zeros(0, np.int64)
    nseg = pd.Series([r.n_segments for r in results], dtype=np.int64)
    offset = (nseg.groupby(user).cumsum() - nseg).to_numpy(np.int64)
    return rows, offset


def _check_free(df, names) -> None:
    taken = [c for c in names if c in df.columns]
    if taken:
        raise UserError(f"df already has column(s) {', '.join(map(repr, taken))}, which annotate adds: rename or drop "
                        "them (e.g. the columns of an earlier annotate)")


def characterize(df: pd.DataFrame, pixel_size: float | None = None, frame_interval: float | None = None, columns=None,
                 units: str | None = None, model="bimamba", *, min_length: int = SHORT_MIN_LENGTH, tta: bool = False,
                 window: int | str | None = "model", batch_size: int = 512, loc_noise: float | None = None,
                 progress: bool = False, pool: bool = True) -> pd.DataFrame:
    """Change points and per-segment α, K and state of every track of a tidy table.
    {common}
    Returns
    -------
    pandas.DataFrame
        One row per segment, in the order of the tracks in ``df``: your track id column (same name
        and dtype), ``segment`` (0-based within the track), ``start_frame``, ``end_frame``
        (inclusive, your frame numbers), ``n_frames``, ``alpha``, ``K_px2_per_frame_alpha``
        (px²/frame^α), ``K_um2_per_s_alpha`` (µm²/s^α, only with ``pixel_size`` and
        ``frame_interval``), ``state`` (0 immobile, 1 confined, 2 free, 3 directed),
        ``state_name``, ``regime`` (``full``, or ``short`` for a 6-19-frame track). Immobile
        segments have α = K = 0 (the AnDi-2 convention).

    Raises
    ------
    UserError
        A table whose columns cannot be recognised, bad values (one line naming the row).

    Examples
    --------
    >>> import andimamba as am
    >>> segs = am.characterize(linked, pixel_size=0.107, frame_interval=0.05)  # doctest: +SKIP
    >>> segs.groupby("state_name").alpha.median()  # doctest: +SKIP
    """
    tracks, results, run, label = _predict(df, pixel_size, frame_interval, columns, units, model, min_length, tta, window,
                                           batch_size, loc_noise, progress, pool)
    seg = run.segments()
    if label in seg.columns:
        raise UserError(f"your track id column is named {label!r}, like a result column: rename it")
    rows, offset = _track_keys(tracks, results, df, label)
    piece = np.repeat(np.arange(len(results)), [r.n_segments for r in results])  # (n_segments,) piece of each row
    seg["segment"] = seg["segment"].to_numpy() + offset[piece]
    ids = df[label].iloc[rows[piece]].reset_index(drop=True)  # your ids, your dtype
    seg = seg.drop(columns="track_id")
    seg.insert(0, label, ids)
    return seg


if characterize.__doc__:  # None under python -OO
    characterize.__doc__ = characterize.__doc__.format(common=_COMMON_DOC)


def annotate(df: pd.DataFrame, pixel_size: float | None = None, frame_interval: float | None = None, columns=None,
             units: str | None = None, model="bimamba", *, min_length: int = SHORT_MIN_LENGTH, tta: bool = False,
             window: int | str | None = "model", batch_size: int = 512, loc_noise: float | None = None,
             progress: bool = False, pool: bool = True) -> pd.DataFrame:
    """Your table with per-frame α, K, state and change-point probability added.
    {common}
    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` (same rows, order, index and columns) with, per row: ``alpha``,
        ``K_px2_per_frame_alpha`` (px²/frame^α), ``K_um2_per_s_alpha`` (µm²/s^α, only with
        ``pixel_size`` and ``frame_interval``), ``state`` (Int64: 0 immobile, 1 confined, 2 free,
        3 directed), ``state_name``, ``cp_prob`` (probability that this frame starts a new segment;
        NaN for short-regime tracks and the classical method), ``segment`` (Int64, as in
        :func:`characterize`, so the two merge on your track id and ``segment``) and ``regime``.
        Rows of tracks that were not analysed (shorter than ``min_length``) hold NaN / <NA>.
        The per-frame α and K are the model's frame-by-frame estimates (segment values for the
        classical method and short tracks); a segment's values are in :func:`characterize`.

    Raises
    ------
    UserError
        As :func:`characterize`, and when ``df`` already has one of the added columns.
    """
    k_um = pixel_size is not None and frame_interval is not None
    added = ["alpha", K_PX] + ([K_UM] if k_um else []) + ["state", "state_name", "cp_prob", "segment", "regime"]
    _check_free(df, added)
    tracks, results, run, label = _predict(df, pixel_size, frame_interval, columns, units, model, min_length, tta, window,
                                           batch_size, loc_noise, progress, pool)
    _, offset = _track_keys(tracks, results, df, label)
    n = len(df)
    where = tracks.source_rows  # (n_kept,) df row of each analysed position, in results order
    cols = {"alpha": np.full(n, np.nan), K_PX: np.full(n, np.nan), "cp_prob": np.full(n, np.nan)}
    state = np.full(n, -1, np.int64)
    segment = np.full(n, -1, np.int64)
    regime = np.full(n, None, dtype=object)
    if len(results):
        pf = [r.per_frame() for r in results]
        cols["alpha"][where] = np.concatenate([p["alpha"] for p in pf])
        cols[K_PX][where] = np.concatenate([p["K"] for p in pf])
        cols["cp_prob"][where] = np.concatenate([p["cp_prob"] for p in pf])
        state[where] = np.concatenate([p["state"] for p in pf])
        segment[where] = np.concatenate([np.searchsorted(r.cps, np.arange(r.T), side="right") + o for r, o in zip(results, offset)])
        regime[where] = np.repeat([r.regime for r in results], [r.T for r in results])
    out = df.copy()
    out["alpha"] = cols["alpha"]
    out[K_PX] = cols[K_PX]
    if k_um:
        out[K_UM] = k_physical(cols[K_PX], cols["alpha"], pixel_size, frame_interval)
    out["state"] = pd.array(np.where(state >= 0, state, 0), dtype="Int64")
    out.loc[state < 0, "state"] = pd.NA
    out["state_name"] = pd.Series(state, index=out.index).map(STATE_NAMES)
    out["cp_prob"] = cols["cp_prob"]
    out["segment"] = pd.array(np.where(segment >= 0, segment, 0), dtype="Int64")
    out.loc[segment < 0, "segment"] = pd.NA
    out["regime"] = regime
    return out


if annotate.__doc__:
    annotate.__doc__ = annotate.__doc__.format(common=_COMMON_DOC)


def analyze_folder(path, model="bimamba", *, submission=None, min_length: int = SHORT_MIN_LENGTH, tta: bool = False,
                   specialise: bool = False, specialise_steps: int | None = None, window: int | str | None = "model",
                   batch_size: int = 512, progress: bool = False, pool: bool = True) -> pd.DataFrame:
    """Segments of every track of an AnDi-2 challenge folder (``track_2/exp_E/trajs_fov_J.csv``).

    Parameters
    ----------
    path : str or path-like
        The folder holding ``track_2/``, ``track_2`` itself, or one ``exp_E`` folder. Positions in
        pixels, frames as integers (the challenge's units).
    model : str, path or Predictor
        As in :func:`characterize`.
    submission : str or path-like, optional
        Also write the official submission there: ``track_2/exp_E/fov_J.txt`` per field of view
        and ``ensemble_labels.txt`` per experiment (files replaced atomically).
    min_length, tta, window, batch_size, progress
        As in :func:`characterize`.
    pool : bool
        Pool the segment states and α of each experiment (``exp_E``) (default; :mod:`andimamba.state_pooling`,
        :mod:`andimamba.pooling`).
    specialise : bool
        Second pass per experiment with a copy of the network fine-tuned on simulations matching
        the first pass (about a minute per experiment on 2 cores; networks only).
    specialise_steps : int, optional
        Fine-tuning steps per experiment (default 120).

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``experiment``, ``fov``, ``traj_idx`` (int64, as in the files), then
        the columns of :func:`characterize` from ``segment`` on; K in px²/frame^α.
    """
    from .pipeline import predict_folder

    run = predict_folder(path, model=model, min_length=min_length, tta=tta, specialise=specialise,
                         specialise_steps=specialise_steps, window=window, batch_size=batch_size, progress=progress,
                         pool=pool)
    if submission is not None:
        run.write_submission(submission)
    seg = run.segments()
    seg.insert(seg.columns.get_loc("track_id"), "traj_idx", seg.pop("track_id").astype(np.int64))
    return seg
