"""``Tracks``: user tracks in memory, in pixels and frames, and their packing into a TrackBatch.

Every reader in :mod:`andimamba.io.readers` returns a :class:`Tracks`. Its ``data`` is a tidy
DataFrame (trackpy style, one row per localisation) with columns

=========  =======  ==================================================================
track_id   str      track identifier as written in the file (``"<id>.<k>"`` for the k-th
                    piece of a track split at a gap in its frame numbers)
frame      int64    absolute frame number; consecutive within a track (no gaps)
x, y       float64  position in **pixels**
=========  =======  ==================================================================

rows grouped by track (tracks in the order they first appear in the file) and sorted by frame
within each track. Physical units live in the metadata: ``pixel_size`` (µm per pixel) and
``frame_interval`` (seconds per frame), each None when unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..batch import TrackBatch

COLUMNS = ("track_id", "frame", "x", "y")


@dataclass
class Tracks:
    """2-D tracks of one field of view, in pixels and frames, with their provenance.

    Attributes
    ----------
    data : pandas.DataFrame
        Columns ``track_id`` (str), ``frame`` (int), ``x``, ``y`` (float, px); grouped by track,
        frames consecutive within a track (see the module docstring).
    source : str, optional
        File the tracks were read from.
    format : str, optional
        Reader format name (``"andi"``, ``"tidy"`` (any recognised track table; ``"dataframe"`` for
        :func:`~andimamba.io.tracks_from_dataframe`), ``"trackmate_spots"``, ``"trackmate_xml"``,
        ``"trackmate_tracks"``).
    pixel_size : float, optional
        µm per pixel, when known (needed only for K in µm²/s^α).
    frame_interval : float, optional
        Seconds per frame, when known.
    experiment, fov : int, optional
        Experiment and field-of-view numbers when read from the AnDi-2 challenge layout.
    skipped : list of (str, int)
        Tracks (or pieces) removed for being shorter than the reader's ``min_length``:
        ``(track_id, n_frames)``.
    n_split : int
        Number of tracks of the file that were split at gaps in their frame numbers.
    n_branched : int
        Number of tracks of the file that branch (TrackMate split/merge events): cut into linear
        pieces named ``"<id>.b<k>"``, or left out where the file mixes their branches (see
        :mod:`andimamba.io.trackmate`).
    n_unlinked_spots : int
        Number of detections in the file that belong to no (visible) track; they are not analysed.
    columns : dict
        Role (``track``, ``frame``, ``x``, ``y``) -> the column (or XML attribute) it was read from,
        e.g. ``{"track": "particle", ...}`` for a trackpy table.
    source_rows : ndarray, shape (n,), int64, optional
        Row position (0-based) in the table the reader parsed of each row of ``data``; for
        :func:`~andimamba.io.tracks_from_dataframe`, the row position in the DataFrame given, which
        is how :func:`andimamba.annotate` joins results back onto the user's rows.
    """

    data: pd.DataFrame
    source: str | None = None
    format: str | None = None
    pixel_size: float | None = None
    frame_interval: float | None = None
    experiment: int | None = None
    fov: int | None = None
    skipped: list[tuple[str, int]] = field(default_factory=list)
    n_split: int = 0
    n_branched: int = 0
    n_unlinked_spots: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    source_rows: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        missing = [c for c in COLUMNS if c not in self.data.columns]
        if missing:
            raise ValueError(f"Tracks.data lacks column(s) {missing}; it needs {list(COLUMNS)}")
        if self.source_rows is not None and len(self.source_rows) != len(self.data):
            raise ValueError(f"Tracks.source_rows has {len(self.source_rows)} entries for {len(self.data)} rows of data")
        d = self.data
        if len(d):
            starts = self._starts()  # (n_runs + 1,) the runs of one id, which the views below rely on
            if len(starts) - 1 != d["track_id"].nunique():
                raise ValueError("Tracks.data must keep the rows of each track together "
                                 "(use andimamba.io.tracks_from_dataframe to build it from any DataFrame)")
            within = np.ones(len(d) - 1, dtype=bool)  # (n - 1,) step t -> t + 1 inside one run
            within[starts[1:-1] - 1] = False
            step = np.diff(d["frame"].to_numpy())
            if np.any(step[within] != 1):
                raise ValueError("Tracks.data must have consecutive frames within each track "
                                 "(use andimamba.io.tracks_from_dataframe, which splits tracks at gaps)")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(cls, tracks: Mapping[str, np.ndarray] | Sequence[np.ndarray],
                    first_frames: Mapping[str, int] | Sequence[int] | None = None,
                    **meta) -> "Tracks":
        """Build from per-track position arrays.

        Parameters
        ----------
        tracks : mapping id -> ndarray (T, 2), or sequence of ndarray (T, 2)
            Positions in pixels, one row per consecutive frame. A sequence gets ids "0", "1", ...
        first_frames : mapping or sequence of int, optional
            Absolute frame number of each track's first position (default 0).
        **meta
            Other :class:`Tracks` fields (``pixel_size``, ``frame_interval``, ``source``, ...).

        Returns
        -------
        Tracks
        """
        items = list(tracks.items()) if isinstance(tracks, Mapping) else [(str(i), a) for i, a in enumerate(tracks)]
        if first_frames is None:
            starts = [0] * len(items)
        elif isinstance(first_frames, Mapping):
            starts = [int(first_frames.get(k, 0)) for k, _ in items]
        else:
            starts = [int(s) for s in first_frames]
        parts = []
        for (k, a), f0 in zip(items, starts):
            a = np.asarray(a, dtype=np.float64)
            if a.ndim != 2 or a.shape[1] != 2:
                raise ValueError(f"track {k}: positions must have shape (T, 2), got {a.shape}")
            parts.append(pd.DataFrame({"track_id": str(k), "frame": np.arange(f0, f0 + len(a), dtype=np.int64),
                                       "x": a[:, 0], "y": a[:, 1]}))
        data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: [] for c in COLUMNS})
        return cls(data=data, **meta)

    # ------------------------------------------------------------------ views
    def _starts(self) -> np.ndarray:
        """(n_tracks + 1,) int64 first row of each track in ``data``, then ``len(data)``: the rows of a
        track are contiguous (checked at construction), so every per-track view below is a slice of
        these runs. Computed once per ``data`` object (a new DataFrame assigned to ``data`` is seen)."""
        cached = self.__dict__.get("_starts_cache")
        if cached is None or cached[0] is not self.data:
            tid = np.asarray(self.data["track_id"].array)  # (n,) no NA-filling copy for pandas' str dtype
            starts = np.r_[0, np.flatnonzero(tid[1:] != tid[:-1]) + 1, len(tid)] if len(tid) else np.zeros(1, np.int64)
            cached = (self.data, starts.astype(np.int64))
            self.__dict__["_starts_cache"] = cached
        return cached[1]

    @property
    def ids(self) -> list[str]:
        """Track ids in order."""
        return np.asarray(self.data["track_id"].array)[self._starts()[:-1]].tolist()

    @property
    def lengths(self) -> np.ndarray:
        """(n_tracks,) int64 number of frames of each track, in :attr:`ids` order."""
        return np.diff(self._starts())

    @property
    def first_frames(self) -> np.ndarray:
        """(n_tracks,) int64 absolute frame of each track's first position, in :attr:`ids` order."""
        return self.data["frame"].to_numpy(np.int64)[self._starts()[:-1]]

    def __len__(self) -> int:
        return len(self._starts()) - 1

    def __iter__(self) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Yield ``(track_id, frames (T,), xy (T, 2))`` per track, in order."""
        for tid, g in self.data.groupby("track_id", sort=False):
            yield str(tid), g["frame"].to_numpy(np.int64), g[["x", "y"]].to_numpy(np.float64)

    def summary(self) -> str:
        """One line: how many tracks and frames, lengths, units, what was split or skipped."""
        n = self.lengths
        s = f"{len(self)} tracks, {int(n.sum())} positions"
        if len(n):
            s += f", lengths {int(n.min())}-{int(n.max())} (median {int(np.median(n))})"
        s += f"; pixel size {self.pixel_size} µm" if self.pixel_size else "; pixel size unknown"
        s += f", frame interval {self.frame_interval} s" if self.frame_interval else ", frame interval unknown"
        if self.n_split:
            s += f"; {self.n_split} track(s) split at gaps"
        if self.n_branched:
            s += f"; {self.n_branched} branched track(s) cut at splits/merges"
        if self.n_unlinked_spots:
            s += f"; {self.n_unlinked_spots} spot(s) in no track ignored"
        if self.skipped:
            s += f"; {len(self.skipped)} short track(s) skipped"
        return s

    # ------------------------------------------------------------------ packing
    def to_batch(self, max_len: int | None = None) -> tuple[TrackBatch, list[str]]:
        """Pack into a padded :class:`~andimamba.batch.TrackBatch` (positions only, float32, px).

        Parameters
        ----------
        max_len : int, optional
            Padded length ``l``. Default: the longest track. A track longer than ``max_len``
            raises ValueError (tracks are never cut silently).

        Returns
        -------
        batch : TrackBatch
            ``positions`` (b, l, 2) float32 in pixels relative to each track's first position
            (all features are translation invariant), ``lengths`` (b,); no labels.
        ids : list of str
            ``ids[i]`` is the track in batch row ``i``. Frame ``t`` of row ``i`` is absolute frame
            ``first_frames[i] + t`` (frames are consecutive within a track).
        """
        ids, lengths = self.ids, self.lengths
        longest = int(lengths.max()) if len(lengths) else 0
        l = longest if max_len is None else int(max_len)
        if longest > l:
            worst = ids[int(np.argmax(lengths))]
            raise ValueError(f"track {worst} has {longest} frames, more than max_len={l}: "
                             "raise max_len or leave it None")
        codes = np.repeat(np.arange(len(ids)), lengths)  # (n,) batch row of each position (tracks contiguous)
        t = np.arange(len(codes)) - np.repeat(self._starts()[:-1], lengths)  # (n,) position within the track
        pos = np.zeros((len(ids), l, 2), np.float32)  # (b, l, 2)
        xy = self.data[["x", "y"]].to_numpy(np.float64)  # (n, 2)
        # each track relative to its first position (in float64), so float32 keeps µpx precision
        first = np.zeros((len(ids), 2))
        first[codes[::-1]] = xy[::-1]  # the last write per row wins: the first position
        pos[codes, t] = (xy - first[codes]).astype(np.float32)
        return TrackBatch(positions=pos, lengths=lengths), ids
