"""Reading user tracks and writing results: see :mod:`.readers`, :mod:`.writers`, :mod:`.results`.

The public names are re-exported here::

    from andimamba.io import read_tracks, write_submission_fov, SegmentResult
"""

from .columns import ColumnMatch, parse_columns, parse_units, recognise_columns
from .errors import TrackFileError
from .readers import (
    FORMATS,
    detect_format,
    read_andi_csv,
    read_andi_folder,
    read_tidy_csv,
    read_tracks,
    read_trackpy_csv,
    tracks_from_dataframe,
)
from .trackmate import read_trackmate_spots, read_trackmate_tracks, read_trackmate_xml
from ..andi2 import STATE_NAMES
from ..result import SegmentResult
from .results import frames_table, k_physical, segments_table
from .tracks import Tracks
from .writers import (
    atomic_open,
    write_ensemble_labels,
    write_frames_csv,
    write_segments_csv,
    write_submission_fov,
)

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
