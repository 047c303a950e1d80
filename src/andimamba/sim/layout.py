"""Writing simulated experiments in the official AnDi-2 folder layout (ground truth side).

In ``OUT/track_2/exp_E/`` (:mod:`andimamba.andi2` spells the layout and the formats):
``trajs_fov_J.csv`` (``traj_idx,frame,x,y``), ``traj_labs_fov_J.txt`` (one
:func:`~andimamba.andi2.label_line` per track) and ``ensemble_labels.txt``
(:func:`~andimamba.andi2.ensemble_text`), readable by ``andi_datasets.utils_challenge`` scoring.
We also write ``params.json`` with the experiment's parameters. Everything is first written to a temporary sibling folder and moved in
place at the end, so a failure never leaves a partial experiment folder.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from .. import andi2
from ..errors import UserError
from .challenge import FOV, ensemble_matrix
from .params import ExperimentParams


def trajs_csv(fov: FOV) -> str:
    """``traj_idx,frame,x,y`` text of one FOV (x, y with 6 decimals, i.e. µpx)."""
    buf = io.StringIO()
    buf.write("traj_idx,frame,x,y\n")
    for t in fov.tracks:
        for f, (x, y) in zip(t.frames, t.xy):
            buf.write(f"{t.traj_idx},{int(f)},{x:.6f},{y:.6f}\n")
    return buf.getvalue()


def labels_txt(fov: FOV) -> str:
    """Ground-truth lines of one FOV (``traj_labs_fov_J.txt`` text)."""
    return "".join(andi2.label_line(t.segments()) + "\n" for t in fov.tracks)


def ensemble_txt(params: ExperimentParams, fovs: list[FOV], matrix: np.ndarray | None = None) -> str:
    """``ensemble_labels.txt`` text of one experiment (``matrix`` overrides the computed one)."""
    return andi2.ensemble_text(params.model, ensemble_matrix(params, fovs) if matrix is None else matrix)


def write_experiment(out: str | Path, exp_idx: int, params: ExperimentParams, fovs: list[FOV], overwrite: bool = False,
                     ensemble: np.ndarray | None = None) -> Path:
    """Write one experiment atomically into ``out/track_2/exp_{exp_idx}`` (:func:`andimamba.andi2.exp_dir`).

    ``ensemble`` (5 × k) replaces the ensemble matrix computed from the FOVs (e.g. andi-datasets'
    own, for FOVs read back from its generator, whose hidden regimes are unknown).

    Raises
    ------
    UserError
        If the experiment folder exists and ``overwrite`` is False.
    """
    from ..io.outdir import staged_output

    final = andi2.exp_dir(out, exp_idx)
    if final.exists() and not overwrite:
        raise UserError(f"{final} already exists: choose another --out or --exp-index, or pass --overwrite")
    # staged beside exp_E and swapped in by renames: a kill leaves the previous experiment or the new one
    with staged_output(final, overwrite=True) as tmp:
        for j, fov in enumerate(fovs):
            andi2.trajs_file(tmp, j).write_text(trajs_csv(fov))
            andi2.truth_file(tmp, j).write_text(labels_txt(fov))
        andi2.ensemble_file(tmp).write_text(ensemble_txt(params, fovs, ensemble))
        (tmp / "params.json").write_text(json.dumps(params.to_dict(), indent=1) + "\n")
    return final
