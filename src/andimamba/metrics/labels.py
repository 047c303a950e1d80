"""Label files of a submission or a reference, read as the official scorer reads them.

``traj_labs_fov_J.txt`` / ``fov_J.txt`` (lines of :func:`andimamba.andi2.label_line`) →
``{traj_idx: SegmentResult}`` (official ``load_file_to_df``), each line parsed by
:func:`andimamba.andi2.parse_label_line` and kept as written (unchecked results).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ..andi2 import parse_label_line
from ..result import SegmentResult

__all__ = ["read_labels_file", "traj_idx"]


def traj_idx(r: SegmentResult) -> int | float:
    """The numeric ``traj_idx`` of a result read from a label file (an int unless the file wrote a fraction).

    Parameters
    ----------
    r : SegmentResult

    Returns
    -------
    int or float
    """
    try:
        return int(r.track_id)
    except ValueError:
        return float(r.track_id)


def read_labels_file(path: str | Path, warn: bool = True) -> dict[int, SegmentResult]:
    """Read a ``traj_labs_fov_J.txt`` / ``fov_J.txt`` file into ``{traj_idx: SegmentResult}``.

    Parameters
    ----------
    path : str or path-like
    warn : bool
        Warn (one warning naming the file) about the lines below.

    Returns
    -------
    dict of {int: SegmentResult}
        In file order. Lines of invalid length are dropped (the official reader drops them
        silently); a line without ``T`` has its last CP read as ``T``; a repeated ``traj_idx``
        keeps its first line (official: an unstable sort decides).

    Raises
    ------
    ValueError
        If a field is not a number.
    """
    out: dict[int, SegmentResult] = {}
    dropped, no_t, no_field, dup = [], 0, 0, 0
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        lab = parse_label_line(line)
        if lab is None:
            if line.strip():
                dropped.append(n)
            continue
        no_field += lab.T is None
        no_t += lab.T is not None and len(lab.alphas) != len(lab.cps) + 1
        key = traj_idx(lab)
        if key in out:
            dup += 1
            continue
        out[key] = lab
    if warn and (dropped or no_t or no_field or dup):
        msg = [f"{len(dropped)} line(s) of invalid length dropped (lines {dropped[:5]}…): "
               "those tracks score as missing"] if dropped else []
        msg += [f"{no_t} line(s) do not end with T: their last CP is read as T"] if no_t else []
        msg += [f"{no_field} line(s) have no CP/T field: scored as missing"] if no_field else []
        msg += [f"{dup} repeated traj_idx ignored"] if dup else []
        warnings.warn(f"{path}: " + "; ".join(msg), stacklevel=2)
    return out
