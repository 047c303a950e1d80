"""The AnDi-2 challenge format: state codes, bounds, the label line, the ensemble file, the folder layout.

The one home of what ``andi_datasets`` (2.1.13) fixes for the AnDi-2 challenge files; the simulator
(:mod:`andimamba.sim.layout`), the writers (:mod:`andimamba.io.writers`), the readers and the scorer
(:mod:`andimamba.metrics`) all use it.

Folder layout (``track_2`` holds trajectories; ``track_1`` videos, whose scoring reads only labels)::

    ROOT/track_2/exp_E/trajs_fov_J.csv        traj_idx,frame,x,y (px)          input
    ROOT/track_2/exp_E/traj_labs_fov_J.txt    one label line per track         ground truth
    ROOT/track_2/exp_E/fov_J.txt              one label line per track         submission
    ROOT/track_2/exp_E/ensemble_labels.txt    the experiment's ensemble        both
    ROOT/track_1/exp_E/vip_idx_fov_J.txt      the scored track indices         track-1 truth

Label line (:func:`label_line`, :func:`parse_label_line`)::

    traj_idx,K_1,alpha_1,state_1,CP_1,...,K_n,alpha_n,state_n,T

K before α; CPs are 0-based positions within the track (the first frame of each new segment); the
line ends with T, the track length (the official reader takes the last CP as T otherwise), so it
has 4·n + 1 values. Ensemble file (:func:`ensemble_text`): a header ``model: NAME; num_state: k``
then a ``;``-separated 5 × k matrix whose rows are mean α, variance of α, mean K, variance of K
and the weight of each state.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from .result import SegmentResult

__all__ = [
    "IMMOBILE", "CONFINED", "FREE", "DIRECTED", "STATE_NAMES", "N_STATES",
    "ALPHA_BOUNDS", "K_BOUNDS", "ALPHA_DIRECTED",
    "label_line", "parse_label_line", "ensemble_text", "read_ensemble_matrix",
    "TRACK", "track_dir", "exp_dir", "trajs_file", "truth_file", "fov_file", "ensemble_file", "vip_file",
    "EXP_GLOB", "TRAJS_GLOB", "TRUTH_PREFIX", "EXP_NAME", "TRAJS_NAME", "n_truth_fovs",
]

# ----------------------------------------------------------------------------- states and bounds
IMMOBILE, CONFINED, FREE, DIRECTED = 0, 1, 2, 3  # AnDi-2 state codes
STATE_NAMES = {IMMOBILE: "immobile", CONFINED: "confined", FREE: "free", DIRECTED: "directed"}
N_STATES = len(STATE_NAMES)
ALPHA_BOUNDS = (0.0, 1.999)  # α range of the challenge (models_phenom bound_alpha)
K_BOUNDS = (1e-12, 1e6)  # K range, px²/frame^α (models_phenom bound_D)
ALPHA_DIRECTED = 1.9  # free motion with α ≥ 1.9 is labelled directed (models_phenom alpha_directed)

_INT_ID = re.compile(r"-?\d+")


# ----------------------------------------------------------------------------- label line
def _num(v) -> str:
    return repr(float(v))


def label_line(r: SegmentResult) -> str:
    """The AnDi-2 label line of one track (no newline): ``traj_idx,K1,alpha1,state1,CP1,...,T``.

    The same line serves as ground truth (``traj_labs_fov_J.txt``) and submission (``fov_J.txt``).
    Floats are written with ``repr`` precision (exact round trip), states, CPs and T as integers.

    Parameters
    ----------
    r : SegmentResult
        The track; its ``track_id`` is written as it is.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If the track id is not an integer (the scorer reads it as a number) or an α or K is not finite.
    """
    if not _INT_ID.fullmatch(r.track_id):
        raise ValueError(f"track {r.track_id!r}: AnDi-2 files need integer traj_idx (pieces of tracks "
                         "split at frame gaps cannot be submitted)")
    if not (np.all(np.isfinite(r.alphas)) and np.all(np.isfinite(r.Ks))):
        raise ValueError(f"track {r.track_id}: alpha and K must be finite, got alphas {r.alphas.tolist()}, "
                         f"Ks {r.Ks.tolist()}")
    out = [r.track_id]
    for i in range(r.n_segments):
        out += [_num(r.Ks[i]), _num(r.alphas[i]), str(int(r.states[i]))]
        out.append(str(int(r.cps[i])) if i < r.n_segments - 1 else str(r.T))
    return ",".join(out)


def parse_label_line(line: str) -> SegmentResult | None:
    """Parse one label line like the official ``load_file_to_df``, keeping every value as written.

    Parameters
    ----------
    line : str
        ``traj_idx,K_1,alpha_1,state_1,CP_1,...,T``.

    Returns
    -------
    SegmentResult or None
        An unchecked result (``check=False``): ``track_id`` is the ``traj_idx`` as a number's
        string (``"3"`` for ``3.0``); ``cps`` (int64, without the final ``T``) truncated toward
        zero as the official ``astype(int)`` (NaN, inf → INT_MIN); ``alphas``, ``Ks``, ``states``
        float64. A line with 4·n values has no ``T``: the official reader takes its last CP as
        ``T``, so it has ``n_cp + 2`` values and its last segment is never scored. ``T`` is None
        for a line without any CP/T field (the track then scores as missing). None for a line the
        official reader drops: a length that is neither 4·n nor 4·n + 1 values, and (the official
        reader crashes there) a blank line.

    Raises
    ------
    ValueError
        If a field is not a number.
    """
    if not line.strip():
        return None
    try:
        v = [float(t) for t in line.split(",")]
    except ValueError as err:
        raise ValueError(f"non-numeric field in label line {line[:80]!r}: {err}") from None
    if len(v) % 4 not in (0, 1):
        return None
    arr = np.array(v)
    if all(abs(c) < 9e18 for c in v[4::4]):
        cps = arr[4::4].astype(np.int64)
    else:
        with np.errstate(invalid="ignore"):
            cps = arr[4::4].astype(np.int64)  # NaN, inf → INT_MIN, as the official astype(int)
    idx = int(v[0]) if v[0].is_integer() else v[0]
    return SegmentResult(idx, int(cps[-1]) if len(cps) else None, cps[:-1], arr[2::4], arr[1::4], arr[3::4],
                         check=False)


# ----------------------------------------------------------------------------- ensemble file
def ensemble_text(model_name: str, matrix) -> str:
    """Text of an ``ensemble_labels.txt`` file.

    Parameters
    ----------
    model_name : str
        Diffusion model (e.g. ``"multi_state"``); one word without ``;``.
    matrix : array_like, shape (5, k) or (5,)
        Rows: mean α, variance of α, mean K, variance of K, weight of each of the k states.

    Returns
    -------
    str
        ``model: NAME; num_state: k \\n`` then the matrix, ``;``-separated (``numpy.savetxt``).

    Raises
    ------
    ValueError
        For a matrix of another shape or with non-finite values, or a bad model name.
    """
    mat = np.asarray(matrix, dtype=np.float64)
    if mat.ndim == 1:
        mat = mat[:, None]
    if mat.ndim != 2 or mat.shape[0] != 5:
        raise ValueError(f"the ensemble matrix must have shape (5, k), got {mat.shape}")
    if not np.all(np.isfinite(mat)):
        raise ValueError("the ensemble matrix must be finite")
    if not model_name or re.search(r"[\s;]", model_name):
        raise ValueError(f"model_name must be one word without ';', got {model_name!r}")
    buf = io.StringIO()
    buf.write(f"model: {model_name}; num_state: {mat.shape[1]} \n")
    np.savetxt(buf, mat, delimiter=";")
    return buf.getvalue()


def read_ensemble_matrix(path: str | Path) -> np.ndarray:
    """The matrix of an ``ensemble_labels.txt`` file, read as the official scorer does.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    ndarray, shape (5, k), or (5,) for one state (``numpy.loadtxt``)

    Raises
    ------
    OSError, ValueError
        For a missing or malformed file.
    """
    return np.loadtxt(path, skiprows=1, delimiter=";")


# ----------------------------------------------------------------------------- folder layout
TRACK = 2  # the trajectory track
EXP_GLOB, TRAJS_GLOB, TRUTH_PREFIX = "exp_*", "trajs_fov_*.csv", "traj_labs_"
EXP_NAME = re.compile(r"exp_(\d+)")  # fullmatch: an experiment folder's name, group 1 its number
TRAJS_NAME = re.compile(r"trajs_fov_(\d+)\.csv")  # fullmatch: a trajectory file's name, group 1 its FOV


def track_dir(root: str | Path, track: int = TRACK) -> Path:
    """``root/track_{track}``."""
    return Path(root) / f"track_{int(track)}"


def exp_dir(root: str | Path, exp: int, track: int = TRACK) -> Path:
    """``root/track_{track}/exp_{exp}``, the folder of one experiment."""
    return track_dir(root, track) / f"exp_{int(exp)}"


def trajs_file(exp_folder: str | Path, fov: int) -> Path:
    """``exp_folder/trajs_fov_{fov}.csv``: the trajectories of one FOV."""
    return Path(exp_folder) / f"trajs_fov_{int(fov)}.csv"


def truth_file(exp_folder: str | Path, fov: int) -> Path:
    """``exp_folder/traj_labs_fov_{fov}.txt``: the ground-truth label lines of one FOV."""
    return Path(exp_folder) / f"{TRUTH_PREFIX}fov_{int(fov)}.txt"


def fov_file(exp_folder: str | Path, fov: int) -> Path:
    """``exp_folder/fov_{fov}.txt``: the submitted label lines of one FOV."""
    return Path(exp_folder) / f"fov_{int(fov)}.txt"


def ensemble_file(exp_folder: str | Path) -> Path:
    """``exp_folder/ensemble_labels.txt``."""
    return Path(exp_folder) / "ensemble_labels.txt"


def vip_file(exp_folder: str | Path, fov: int) -> Path:
    """``exp_folder/vip_idx_fov_{fov}.txt``: the indices of the scored tracks of one FOV (track 1)."""
    return Path(exp_folder) / f"vip_idx_fov_{int(fov)}.txt"


def n_truth_fovs(exp_folder: str | Path) -> int:
    """Number of FOVs of a reference experiment, counted as the official scorer does.

    Parameters
    ----------
    exp_folder : str or path-like

    Returns
    -------
    int
        The number of files whose name starts with ``traj_labs_``.
    """
    return sum(1 for p in Path(exp_folder).iterdir() if p.name.startswith(TRUTH_PREFIX))
