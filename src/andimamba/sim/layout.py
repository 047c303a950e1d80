"""Writing simulated experiments in the official AnDi-2 folder layout (ground truth side).

``OUT/track_2/exp_{e}/trajs_fov_{j}.csv`` (``traj_idx,frame,x,y``), ``traj_labs_fov_{j}.txt``
(one line per track: ``traj_idx,K1,alpha1,state1,CP1,…,Kn,alphan,staten,T``) and
``ensemble_labels.txt`` (``model: …; num_state: k`` then the 5 × k matrix, ``;``-separated),
readable by ``andi_datasets.utils_challenge`` scoring. We also write ``params.json`` with the
experiment's parameters. Everything is first written to a temporary sibling folder and moved in
place at the end, so a failure never leaves a partial experiment folder.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..errors import UserError
from .challenge import FOV, ensemble_matrix
from .params import ExperimentParams


def _fmt(v) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def trajs_csv(fov: FOV) -> str:
    """``traj_idx,frame,x,y`` text of one FOV (x, y with 6 decimals, i.e. µpx)."""
    buf = io.StringIO()
    buf.write("traj_idx,frame,x,y\n")
    for t in fov.tracks:
        for f, (x, y) in zip(t.frames, t.xy):
            buf.write(f"{t.traj_idx},{int(f)},{x:.6f},{y:.6f}\n")
    return buf.getvalue()


def labels_txt(fov: FOV) -> str:
    """Ground-truth lines of one FOV."""
    return "".join(",".join(_fmt(v) for v in t.label_line()) + "\n" for t in fov.tracks)


def ensemble_txt(params: ExperimentParams, fovs: list[FOV], matrix: np.ndarray | None = None) -> str:
    """``ensemble_labels.txt`` text of one experiment (``matrix`` overrides the computed one)."""
    mat = ensemble_matrix(params, fovs) if matrix is None else np.asarray(matrix, dtype=float)
    buf = io.StringIO()
    buf.write(f"model: {params.model}; num_state: {mat.shape[1]} \n")
    np.savetxt(buf, mat, delimiter=";")
    return buf.getvalue()


def write_experiment(out: str | Path, exp_idx: int, params: ExperimentParams, fovs: list[FOV], overwrite: bool = False,
                     ensemble: np.ndarray | None = None) -> Path:
    """Write one experiment atomically into ``out/track_2/exp_{exp_idx}``.

    ``ensemble`` (5 × k) replaces the ensemble matrix computed from the FOVs (e.g. andi-datasets'
    own, for FOVs read back from its generator, whose hidden regimes are unknown).

    Raises
    ------
    FileExistsError
        If the experiment folder exists and ``overwrite`` is False.
    """
    from ..io.outdir import staged_output

    final = Path(out) / "track_2" / f"exp_{exp_idx}"
    if final.exists() and not overwrite:
        raise UserError(f"{final} already exists: choose another --out or --exp-index, or pass --overwrite")
    # staged beside exp_E and swapped in by renames: a kill leaves the previous experiment or the new one
    with staged_output(final, overwrite=True) as tmp:
        for j, fov in enumerate(fovs):
            (tmp / f"trajs_fov_{j}.csv").write_text(trajs_csv(fov))
            (tmp / f"traj_labs_fov_{j}.txt").write_text(labels_txt(fov))
        (tmp / "ensemble_labels.txt").write_text(ensemble_txt(params, fovs, ensemble))
        (tmp / "params.json").write_text(json.dumps(params.to_dict(), indent=1) + "\n")
    return final
