"""From raw table cells to validated :class:`Tracks` — the checks every reader shares.

A reader hands :func:`build_tracks` a DataFrame with columns ``track``, ``frame``, ``x``, ``y``
(optionally ``z``) holding the cells as read (strings or numbers) and ``_loc``, the location of
each row (1-based line number, or an id for XML). The policy, in order:

1. no rows -> error; empty or non-numeric cells (a decimal comma is named as such), NaN/inf
   coordinates, non-integer frames, frames beyond ±(2^31 - 1) -> error;
2. z varying -> error (3-D is not supported); a constant z (one focal plane) is dropped;
3. positions multiplied by ``scale`` (µm or nm -> px, the caller's choice); a position beyond
   ±1e12 px (:data:`MAX_POSITION`) -> error: no track is that long, such a value is a wrong
   column or unit, and float32 arithmetic on it would overflow;
4. rows grouped by track (first-appearance order) and sorted by frame; a frame twice in a track
   -> error;
5. a track with a gap in its frame numbers is split at every gap; the pieces are named
   ``"<id>.<k>"`` (k = 1, 2, ...) and the number of split tracks is logged (warning);
6. tracks (pieces) shorter than ``min_length`` are removed, listed in ``Tracks.skipped`` and
   logged; if none remains -> error.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from .errors import TrackFileError, opt
from .tracks import Tracks

logger = logging.getLogger("andimamba.io")

_NAN_WORDS = {"nan", "+nan", "-nan", "na", "n/a", "null", "none"}
MAX_FRAME = 2**31 - 1  # frame numbers are whole numbers within ±MAX_FRAME (int32, as the trackers write)
MAX_POSITION = 1e12  # px; |position| above this is refused (see the module docstring; messages say 1e12)


class _Ctx:
    """Names a row of the raw table in an error message."""

    def __init__(self, raw: pd.DataFrame, path, names: dict[str, str], loc: str):
        self.raw, self.path, self.names, self.loc = raw, path, names, loc
        self.ids: tuple[np.ndarray, np.ndarray] | None = None  # (n,) track code of each row, (n_tracks,) ids, once known

    def where(self, i: int) -> dict:
        v = self.raw["_loc"].iloc[int(i)]
        return {"line": int(v)} if self.loc == "line" else {"where": self.loc.format(v)}

    def error(self, i: int, problem: str, fix: str, track: bool = True) -> TrackFileError:
        tid = None
        if track:
            tid = self.ids[1][self.ids[0][int(i)]] if self.ids is not None else str(self.raw["track"].iloc[int(i)]).strip()
        return TrackFileError(self.path, problem, fix, track=tid, **self.where(i))


def _numbers(ctx: _Ctx, col: str) -> np.ndarray:
    """Column ``col`` as float64 (missing cells -> NaN), or a TrackFileError at a non-numeric cell.

    Numeric columns (what pandas' C parser gives for clean files) pass straight through; only a
    column holding text is inspected cell by cell.
    """
    s = ctx.raw[col]
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(np.float64)
    num = pd.to_numeric(s, errors="coerce")
    txt = s.astype(str).str.strip()
    bad = (num.isna() & s.notna() & ~txt.str.lower().isin(_NAN_WORDS | {""})).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        value = txt.iloc[i][:40]
        if re.fullmatch(r"[-+]?\d*,\d+", value):
            raise ctx.error(i, f"{ctx.names.get(col, col)} is {value!r}, a number written with a decimal comma",
                            "write decimals with a point (e.g. 45.03): export with an English number format")
        raise ctx.error(i, f"{ctx.names.get(col, col)} is not a number ({value!r})",
                        "correct that value or delete the position (use '.' as the decimal separator)")
    return num.to_numpy(np.float64)


def _track_ids(ctx: _Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Track ids as str: (n,) code of each row's track, in order of first appearance, and (n_tracks,) the ids.
    Integer-valued numbers (also written as floats, "3.0") become "3"; equal strings are one track."""
    s = ctx.raw["track"]
    numeric = pd.api.types.is_numeric_dtype(s)
    num = s.to_numpy(np.float64) if numeric else pd.to_numeric(s, errors="coerce").to_numpy(np.float64)
    txt = None if numeric else s.astype(str).str.strip()
    empty = np.isnan(num) & (True if numeric else (s.isna() | txt.str.lower().isin(_NAN_WORDS | {""})).to_numpy())
    if np.any(empty):
        raise ctx.error(int(np.argmax(empty)), f"{ctx.names.get('track', 'track id')} is empty",
                        "give every row a track id, or delete rows that belong to no track", track=False)
    whole = np.isfinite(num) & (num == np.round(num)) & (np.abs(num) < 2**53)
    if numeric and whole.all():
        codes, uniq = pd.factorize(num.astype(np.int64), sort=False)  # distinct integers: distinct strings
        return codes.astype(np.int64), uniq.astype(str)  # each id formatted once, not once per row
    out = (s.astype(str) if numeric else txt).to_numpy(dtype=object)
    out[whole] = num[whole].astype(np.int64).astype(str)
    codes, uniq = pd.factorize(out.astype(str), sort=False)
    return codes.astype(np.int64), np.asarray(uniq).astype(str)


def _bad_value(name: str, v: float) -> str:
    return f"{name} is empty or NaN" if np.isnan(v) else f"{name} is {v} (infinite)"


def build_tracks(raw: pd.DataFrame, *, path, fmt: str, names: dict[str, str] | None = None,
                 loc: str = "line", scale: float = 1.0, min_length: int = 20, split_gaps: bool = True,
                 **meta) -> Tracks:
    """Validate raw cells and return :class:`Tracks` (see the module docstring for the policy).

    Parameters
    ----------
    raw : DataFrame
        Columns ``track, frame, x, y`` (optional ``z``) and ``_loc``.
    path : str or path-like
        File name for messages.
    fmt : str
        Format name stored in ``Tracks.format``.
    names : dict, optional
        Internal column -> column name in the file, for messages.
    loc : str
        ``"line"`` when ``_loc`` is a 1-based line number, else a template such as
        ``"spot ID={}"``.
    scale : float
        Factor taking the file's positions to pixels.
    min_length : int
        Shortest track kept, in frames.
    split_gaps : bool
        Split tracks at frame gaps (rule 5); False refuses a gap with an error naming its line
        (AnDi-2 challenge files, whose submission format needs one position per frame).
    **meta
        Other :class:`Tracks` fields.
    """
    if min_length < 2:
        raise ValueError(f"min_length must be at least 2 frames, got {min_length}")
    names = names or {}
    raw = raw.reset_index(drop=True)
    if len(raw) == 0:
        raise TrackFileError(path, "contains no data rows (no positions)",
                             "check that you exported the tracks (not an empty table) to this file")
    ctx = _Ctx(raw, path, names, loc)
    code, uniq = ctx.ids = _track_ids(ctx)  # (n,), (n_tracks,)
    frame = _numbers(ctx, "frame")
    x, y = _numbers(ctx, "x"), _numbers(ctx, "y")
    for col, v in (("frame", frame), ("x", x), ("y", y)):
        bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.argmax(bad))
            raise ctx.error(i, _bad_value(names.get(col, col), v[i]), "give the value or delete that position")
    bad = frame != np.round(frame)
    if bad.any():
        raise ctx.error(int(np.argmax(bad)), f"{names.get('frame', 'frame')} is {frame[np.argmax(bad)]}, "
                        "not a whole number", "frames must be integer frame numbers, not times")
    if np.abs(frame).max() > MAX_FRAME:
        i = int(np.argmax(np.abs(frame) > MAX_FRAME))
        raise ctx.error(i, f"{names.get('frame', 'frame')} is {frame[i]:.6g}, beyond the largest frame number "
                        f"andimamba accepts ({MAX_FRAME})", "check that this column holds frame numbers "
                        "(not times or ids), or name the right one with " + opt("columns", {"frame": "..."}))
    for col, v in (("x", x), ("y", y)):
        if np.abs(v).max() * scale > MAX_POSITION:
            i = int(np.argmax(np.abs(v) * scale > MAX_POSITION))
            raise ctx.error(i, f"{names.get(col, col)} is {v[i]:.6g} ({v[i] * scale:.3g} px), beyond the "
                            "±1e12 px andimamba can compute with", "check that this column holds "
                            f"positions and that their unit is right ({opt('units')}, {opt('pixel_size')})")
    if "z" in raw.columns:
        z = pd.to_numeric(raw["z"], errors="coerce").to_numpy(np.float64)  # blank/odd z: ignored
        zf = z[np.isfinite(z)]
        if zf.size and zf.min() != zf.max():
            i = int(np.argmax(np.isfinite(z) & (z != zf[0])))
            raise ctx.error(i, f"the tracks are 3-D ({names.get('z', 'z')} varies from {zf.min():g} to "
                            f"{zf.max():g})", "only 2-D tracks are supported: track in 2-D, or drop the "
                            "z column yourself if projecting onto x, y is meaningful")

    same = code[1:] == code[:-1]
    if np.all(code[1:] >= code[:-1]) and np.all(~same | (frame[1:] > frame[:-1])):
        order = np.arange(len(code))  # rows already by track, then frame (most exporters' order): no sort, no copies
        frame = frame.astype(np.int64)
    else:
        order = np.lexsort((frame, code))  # stable: by track, then frame
        code, frame, x, y = code[order], frame[order].astype(np.int64), x[order], y[order]
        same = code[1:] == code[:-1]  # (n - 1,) consecutive rows of one track, in sorted order
    dup = same & (frame[1:] == frame[:-1])
    if dup.any():
        k = int(np.argmax(dup))
        where = ", ".join(f"{a} {b}" if a == "line" else str(b) for a, b in ctx.where(order[k]).items())
        raise ctx.error(int(order[k + 1]), f"frame {frame[k]} appears twice in this track (also at {where})",
                        "each track needs one position per frame: remove the duplicate, or disable "
                        "track splitting/merging in the tracker")

    ids = uniq.astype(object)[code]  # (n,) id per row: references to one str per track (from a numpy str array,
    # pandas would build a million str objects)
    gap = np.r_[False, same & (np.diff(frame) != 1)]  # (n,) first row after a gap
    n_split = 0
    if gap.any() and not split_gaps:
        i = int(np.argmax(gap))
        raise ctx.error(int(order[i]), f"frame {frame[i - 1]} is followed by frame {frame[i]} (a gap)",
                        "AnDi-2 challenge files hold one position per frame: fill the gap, or analyse the file "
                        "on its own (not as part of a challenge folder), which splits tracks at gaps")
    if gap.any():
        split_tracks = np.unique(code[gap])
        n_split = len(split_tracks)
        piece = pd.Series(gap.astype(np.int64)).groupby(code).cumsum().to_numpy() + 1
        is_split = np.isin(code, split_tracks)
        ids = ids.astype(object)
        ids[is_split] = [f"{a}.{k}" for a, k in zip(ids[is_split], piece[is_split])]
        ids = ids.astype(str)
        clash = set(ids[is_split]) & set(uniq)
        if clash:
            raise TrackFileError(path, f"splitting tracks at frame gaps gives the id {sorted(clash)[0]!r}, "
                                 "which another track already has", "rename your tracks (e.g. integer ids)")
        i = int(np.argmax(gap))
        logger.warning("%s: %d track(s) had gaps in their frame numbers (e.g. track %s: frame %d then %d) "
                       "and were split at each gap into %d piece(s) named '<id>.<k>'", path, n_split,
                       uniq[code[i]], frame[i - 1], frame[i], int(len(np.unique(ids[is_split]))))

    data = pd.DataFrame({"track_id": ids, "frame": frame, "x": x * scale, "y": y * scale})
    rows = order.astype(np.int64)  # (n,) row of the raw table behind each row of data
    if n_split:
        lengths = data.groupby("track_id", sort=False).size()
    else:  # rows sorted by track code: the tracks in code order, which is their first appearance
        lengths = pd.Series(np.bincount(code, minlength=len(uniq)), index=uniq)
    short = lengths[lengths < min_length]
    skipped = [(str(k), int(v)) for k, v in short.items()]
    if skipped:
        keep = ~data["track_id"].isin(short.index).to_numpy()
        data, rows = data[keep].reset_index(drop=True), rows[keep]
        eg = ", ".join(f"{k} ({v} frames)" for k, v in skipped[:3])
        logger.warning("%s: skipped %d track(s) shorter than min_length=%d frames (e.g. %s); lower "
                       "min_length to keep them", path, len(skipped), min_length, eg)
    if len(data) == 0:
        raise TrackFileError(path, f"no track has at least min_length={min_length} frames (longest: "
                             f"{int(lengths.max())} frames after splitting at frame gaps)",
                             "lower min_length (--min-length), or check the track and frame columns")
    return Tracks(data=data, source=str(path), format=fmt, skipped=skipped, n_split=n_split, columns=dict(names),
                  source_rows=rows, **meta)
