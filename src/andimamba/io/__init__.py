"""Reading user tracks and writing results: see :mod:`.readers`, :mod:`.writers`, :mod:`.results`.

The public names are re-exported here::

    from andimamba.io import read_tracks, write_submission_fov, SegmentResult

Names are imported on first use (PEP 562): importing a light submodule such as
``andimamba.io.outdir`` or ``andimamba.io.atomic`` does not load pandas and the readers.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ColumnMatch": ".columns",
    "parse_columns": ".columns",
    "parse_units": ".columns",
    "recognise_columns": ".columns",
    "TrackFileError": ".errors",
    "FORMATS": ".readers",
    "detect_format": ".readers",
    "read_andi_csv": ".readers",
    "read_andi_folder": ".readers",
    "read_tidy_csv": ".readers",
    "read_tracks": ".readers",
    "read_trackpy_csv": ".readers",
    "tracks_from_dataframe": ".readers",
    "read_trackmate_spots": ".trackmate",
    "read_trackmate_tracks": ".trackmate",
    "read_trackmate_xml": ".trackmate",
    "STATE_NAMES": "..andi2",
    "SegmentResult": "..result",
    "frames_table": ".results",
    "k_physical": ".results",
    "segments_table": ".results",
    "Tracks": ".tracks",
    "atomic_open": ".writers",
    "write_ensemble_labels": ".writers",
    "write_frames_csv": ".writers",
    "write_segments_csv": ".writers",
    "write_submission_fov": ".writers",
}

__all__ = [
    "FORMATS",
    "ColumnMatch",
    "STATE_NAMES",
    "SegmentResult",
    "atomic_open",
    "frames_table",
    "k_physical",
    "segments_table",
    "write_ensemble_labels",
    "write_frames_csv",
    "write_segments_csv",
    "write_submission_fov",
    "TrackFileError",
    "Tracks",
    "detect_format",
    "read_andi_csv",
    "read_andi_folder",
    "read_trackmate_spots",
    "read_trackmate_tracks",
    "read_trackmate_xml",
    "parse_columns",
    "parse_units",
    "read_tidy_csv",
    "read_trackpy_csv",
    "recognise_columns",
    "read_tracks",
    "tracks_from_dataframe",
]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
