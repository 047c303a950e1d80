"""The column and unit vocabulary of track tables: which column holds the track id, frame, x, y.

Each tracking tool names the same four things its own way. A column is recognised by its name,
compared case-insensitively and ignoring spaces, ``_``, ``-``, ``.`` and ``#`` (``TRACK_ID``,
``TrackID`` and ``track id`` are one name), after removing a unit written in brackets
(``x [nm]``, ``x (µm)``, ``POSITION_X (micron)``) or glued to a coordinate (``xnm``, ``x_um``).

======================  ============================================  =================
tool (export)           track, frame, x, y columns                    positions
======================  ============================================  =================
trackpy (``to_csv``)    ``particle, frame, x, y`` (+ unnamed index)   px
quot, saspt             ``trajectory, frame, x, y`` (y first)         px
Spot-On CSV             ``frame, t, trajectory, x, y`` (t in s)       µm (the format's)
MOSAIC ParticleTracker  ``Trajectory, Frame, x, y`` (+ index, z, m0)  px
u-track table exports   ``track_id`` or ``TrackID``, ``frame, x, y``  px
Icy (tidy track table)  ``TrackID`` or ``Track #``, ``t, x, y``       px
ThunderSTORM, SMAP      ``particle`` or ``track_id``, ``frame``,      nm (the header's)
                        ``x [nm], y [nm]`` or ``xnm, ynm``
FreeTrace, AnDi-2       ``traj_idx, frame, x, y`` (FreeTrace: + z)    px
======================  ============================================  =================

Names in :data:`NAMES` are recognised in two tiers. A first-tier name (``frame``) always wins
over a second-tier one (``t``). Second-tier names are used only when their content fits:
``t``/``slice`` only when whole numbers (Icy's frame index, not seconds), ``id`` only when whole
numbers that repeat (a track id, not ThunderSTORM's one-id-per-localisation). Two candidates of
one tier are told apart by content (track and frame columns hold whole numbers); when that does
not decide, the reader stops and asks for ``columns=``.

Units are ``px``, ``nm`` or ``um`` (:data:`UNITS`); :func:`parse_units` knows the usual spellings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import UserError
from .errors import TrackFileError, opt

ROLES = ("track", "frame", "x", "y", "z")
UNITS = ("px", "nm", "um")

_UNIT_WORDS = {
    "px": ("px", "pix", "pixel", "pixels"),
    "nm": ("nm", "nanometer", "nanometers", "nanometre", "nanometres"),
    "um": ("um", "µm", "μm", "micron", "microns", "micrometer", "micrometers", "micrometre", "micrometres",
           "\ufffdm"),  # "\ufffdm": a Latin-1 "µm" header decoded as UTF-8
}
_UNIT_OF = {w: u for u, words in _UNIT_WORDS.items() for w in words}

# squeezed name -> (role, tier); tier 2 names need their content to fit (see the module docstring)
NAMES: dict[str, tuple[str, int]] = {
    **{k: ("track", 1) for k in (
        "particle", "particleid", "trajectory", "trajectoryid", "trajectoryidx", "trajectoryindex", "traj",
        "trajid", "trajidx", "track", "trackid", "trackidx", "tracknumber", "tracknum", "trackno")},
    "id": ("track", 2),
    **{k: ("frame", 1) for k in (
        "frame", "frames", "framenumber", "framenum", "frameno", "frameidx", "frameindex", "frameid")},
    **{k: ("frame", 2) for k in ("t", "slice", "timepoint")},
    **{f"{pre}{c}{post}": (c, 1) for c in "xyz"
       for pre, post in (("", ""), ("position", ""), ("pos", ""), ("", "pos"), ("", "position"),
                         ("", "coord"), ("", "coordinate"))},
}
_SPOT_ON = {"frame", "t", "trajectory", "x", "y"}  # Spot-On's CSV: positions in µm, t in s
_SQUEEZE = re.compile(r"[\s_\-.#]+")
_BRACKET = re.compile(r"^(.*?)\s*[\[(]\s*([^\])]*?)\s*[\])]\s*$")


def parse_units(value: str | None) -> str | None:
    """The canonical unit ``"px"``, ``"nm"`` or ``"um"`` for a spelling of it (None stays None).

    Parameters
    ----------
    value : str or None
        ``px``, ``pix``, ``pixel(s)``, ``nm``, ``nanometer(s)``, ``um``, ``µm``, ``μm``,
        ``micron(s)``, ``micrometer(s)`` (any case; brackets ignored).

    Returns
    -------
    str or None

    Raises
    ------
    UserError
        For anything else (one line, naming the accepted values).
    """
    if value is None or not str(value).strip():
        return None
    unit = unit_of(str(value))
    if unit is None:
        raise UserError(f"units must be px, nm or um (µm), got {value!r}; e.g. {opt('units', 'px')}")
    return unit


def unit_of(text: str) -> str | None:
    """``"px"``, ``"nm"`` or ``"um"`` for a unit word such as ``(micron)``, else None."""
    return _UNIT_OF.get(text.strip().strip("()[]").strip().lower())


def parse_columns(spec: str | Mapping[str, str] | None) -> dict[str, str]:
    """The ``columns=`` option as a dict role -> column name.

    Parameters
    ----------
    spec : str, mapping or None
        A mapping such as ``{"track": "cell", "frame": "t"}``, or the same as a string
        ``"track=cell,frame=t,x=px,y=py"`` (the command line's ``--columns``; spaces around names
        are ignored). Keys are among ``track, frame, x, y, z``; roles left out are recognised
        from the column names.

    Returns
    -------
    dict
        Empty when ``spec`` is None or empty.

    Raises
    ------
    UserError
        An unknown key, an item without ``=``, an empty name or a key given twice (one line).
    """
    if spec is None:
        return {}
    example = opt("columns", {"track": "particle", "frame": "frame", "x": "x", "y": "y"})
    if isinstance(spec, str):
        items = []
        for part in (p for p in spec.split(",") if p.strip()):
            if "=" not in part:
                raise UserError(f"columns: {part.strip()!r} has no '=': write role=column, e.g. {example}")
            key, name = part.split("=", 1)
            items.append((key.strip(), name.strip()))
    elif isinstance(spec, Mapping):
        items = [(str(k).strip(), str(v).strip()) for k, v in spec.items()]
    else:
        raise TypeError(f"columns must be a mapping or a 'role=column,...' string, got {type(spec).__name__}")
    out: dict[str, str] = {}
    for key, name in items:
        if key not in ROLES:
            raise UserError(f"columns: unknown key {key!r} (keys are {', '.join(ROLES)}); e.g. {example}")
        if not name:
            raise UserError(f"columns: no column name given for {key!r}; e.g. {example}")
        if key in out:
            raise UserError(f"columns: {key!r} is given twice; e.g. {example}")
        out[key] = name
    return out


def read_name(name: str) -> tuple[str, str | None, str | None]:
    """``(squeezed name, unit, unit text)`` of a header cell.

    ``"x [nm]"`` -> ``("x", "nm", "nm")``; ``"POSITION_X (micron)"`` -> ``("positionx", "um",
    "micron")``; ``"xnm"`` -> ``("x", "nm", "nm")``; ``"Track #"`` -> ``("track", None, None)``.
    Bracketed text that is not a unit (``"x (corrected)"``) is dropped and gives no unit.
    """
    text, unit_text = str(name).strip().strip("\"'").strip(), None
    m = _BRACKET.match(text)
    if m and m.group(1):
        text, unit_text = m.group(1), m.group(2)
    key = _SQUEEZE.sub("", text.lower())
    unit = unit_of(unit_text) if unit_text else None
    if unit_text and unit is None:
        unit_text = None  # "(corrected)": a remark, not a unit
    if key not in NAMES:  # a unit glued to a coordinate: xnm, x_um, position_x_px
        for word, u in _UNIT_OF.items():
            base = key[: -len(word)] if key.endswith(word) else ""
            if base in NAMES and NAMES[base][0] in ("x", "y", "z"):
                return base, u, word
    return key, unit, unit_text


def candidates(header: Sequence[str], columns: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Column names that may hold each role, best first, judged by name alone.

    A role named in ``columns`` has that one candidate; the others get every header name whose
    squeezed form is in :data:`NAMES` for it (first-tier names before second-tier ones).
    """
    given = dict(columns or {})
    out: dict[str, list[str]] = {}
    for role in ROLES:
        if role in given:
            out[role] = [given[role]]
            continue
        found = [(NAMES[k][1], h) for h in header for k in [read_name(h)[0]]
                 if k in NAMES and NAMES[k][0] == role]
        out[role] = [h for _, h in sorted(found, key=lambda t: t[0])]
    return out


def tier(name: str) -> int:
    """1 or 2 for a recognised name (see the module docstring), 0 for any other name."""
    key = read_name(name)[0]
    return NAMES[key][1] if key in NAMES else 0


@dataclass(frozen=True)
class ColumnMatch:
    """The columns chosen for a table and the position unit its header declares.

    Attributes
    ----------
    names : dict
        Role (``track, frame, x, y`` and optionally ``z``) -> column name in the table.
    unit : str or None
        ``"px"``, ``"nm"`` or ``"um"`` declared by the x and y headers (``x [nm]``), else None.
    default_unit : str or None
        The unit the format implies when the header declares none (Spot-On CSV: ``"um"``).
    unit_source : str
        Where ``unit`` or ``default_unit`` comes from, for messages (e.g. ``"the header 'x [nm]'"``).
    """

    names: dict[str, str]
    unit: str | None = None
    default_unit: str | None = None
    unit_source: str = ""


def _whole(values) -> bool:
    """True when every non-empty value is a finite whole number."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
    given = ~pd.isna(pd.Series(values)).to_numpy()
    return bool(given.any()) and bool(np.all(np.isfinite(v[given]) & (v[given] == np.round(v[given]))))


def _fits(role: str, name: str, data) -> bool:
    """Whether column ``name``'s content fits ``role`` (track and frame: whole numbers; a
    second-tier track id must also repeat, as a track has several positions)."""
    if role not in ("track", "frame"):
        return True
    if data is None:
        return True  # judged by name only (format detection)
    col = data[name]
    if not _whole(col):
        return False
    if role == "track" and tier(name) == 2:
        return pd.Series(col).nunique() <= 0.5 * len(col)
    return True


def _choose(role: str, names: list[str], data, path, found: str, line: int | None) -> str | None:
    """One column for ``role`` among its candidates, or None when there is none."""
    if not names:
        return None
    best = [n for n in names if tier(n) == tier(names[0])]
    if len(best) == 1 and tier(best[0]) == 1:
        return best[0]  # one first-tier name: no need to look at the content
    fitting = [n for n in best if _fits(role, n, data)]
    if tier(names[0]) == 2 and not fitting:
        return None  # "t" holding seconds is not a frame column
    if len(best) > 1:
        if len(fitting) != 1:
            raise TrackFileError(path, f"cannot tell which of the columns {', '.join(map(repr, best))} holds the "
                                 f"{_WHAT[role]} ({found})",
                                 f"name it with {opt('columns', {role: best[0]})}", line=line)
        return fitting[0]
    return best[0]


_WHAT = {"track": "track id", "frame": "frame number", "x": "x position", "y": "y position", "z": "z position"}


def recognise_columns(header: Sequence[str], data: pd.DataFrame | None = None,
                      columns: Mapping[str, str] | str | None = None, path=None,
                      line: int | None = None) -> ColumnMatch:
    """Decide which columns of a table hold the track id, frame, x and y (and z).

    Parameters
    ----------
    header : sequence of str
        The table's column names, in order.
    data : DataFrame, optional
        The candidate columns' values (at least those named by :func:`candidates`), used to
        tell apart candidates by content; without it the choice is made by name alone.
    columns : mapping or str, optional
        Names given by the user (see :func:`parse_columns`); they are used as they are.
    path : str or path-like, optional
        The file (or data) named in messages.
    line : int, optional
        The header's line number, named in messages.

    Returns
    -------
    ColumnMatch

    Raises
    ------
    TrackFileError
        A given name that is not in the header, a role without any fitting column, two columns
        that fit one role, x and y declaring different units (one line, with the ``columns=`` fix).
    """
    given = parse_columns(columns)
    header = [str(h).strip() for h in header]
    check_given(header, given, path, line)
    found = _found(header)
    cand = candidates(header, given)
    names = {r: given[r] if r in given else _choose(r, cand[r], data, path, found, line) for r in ROLES}
    lacking = [r for r in ("track", "frame", "x", "y") if names[r] is None]
    if lacking:
        hint = opt("columns", {r: names[r] or "..." for r in ("track", "frame", "x", "y")})
        if lacking == ["track"]:
            raise TrackFileError(path, f"has no track id column ({found})", "link the localisations into tracks "
                                 f"first (e.g. trackpy.link or TrackMate), or name the track id column with {hint}",
                                 line=line)
        raise TrackFileError(path, f"cannot tell which column holds the {', '.join(_WHAT[r] for r in lacking)} "
                             f"({found})", f"name the columns with {hint}", line=line)
    chosen = {r: n for r, n in names.items() if n is not None}
    if len(set(chosen.values())) < len(chosen):
        raise TrackFileError(path, f"one column is used for two roles ({chosen})",
                             f"name the columns with {opt('columns', chosen)}", line=line)
    ux, uy = read_name(names["x"])[1], read_name(names["y"])[1]
    if ux != uy:
        raise TrackFileError(path, f"the x and y columns declare different units ({names['x']!r}, {names['y']!r})",
                             "correct the header so that both are in px, nm or µm", line=line)
    if ux is not None:
        return ColumnMatch(chosen, ux, None, f"the header {names['x']!r}")
    if {read_name(h)[0] for h in header} == _SPOT_ON:
        return ColumnMatch(chosen, None, "um", "the Spot-On CSV format: frame, t, trajectory, x, y in µm")
    return ColumnMatch(chosen)


def check_given(header: Sequence[str], given: Mapping[str, str], path=None, line: int | None = None) -> None:
    """TrackFileError when a column name given by the user is not (or twice) in the header."""
    missing = [v for v in given.values() if v not in header]
    if missing:
        raise TrackFileError(path, f"missing column(s) {', '.join(missing)} ({_found(header)})",
                             f"check the names given with {opt('columns', dict(given))}", line=line)
    dup = sorted({v for v in given.values() if list(header).count(v) > 1})
    if dup:
        raise TrackFileError(path, f"the header has two columns named {dup[0]!r}",
                             "rename one of them in the file", line=line)


def _found(header: Sequence[str]) -> str:
    return "found columns " + ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
