"""Bridge to the official generator (andi-datasets), used only by tests and benchmarks.

Requires the optional extra ``pip install andimamba[andi]``. Converts our ``ExperimentParams`` to
andi's parameter dictionaries and andi's challenge output to our ``FOV``/``Track`` structures so
both can be compared with the same code.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np

from .challenge import FOV, Track
from .params import ExperimentParams


def _import():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from andi_datasets import models_phenom as mp
            from andi_datasets.datasets_challenge import challenge_phenom_dataset
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("andi-datasets is not installed: pip install 'andimamba[andi]'") from exc
    return mp, challenge_phenom_dataset


def seed_andi(seed: int) -> None:
    """Seed andi-datasets' two global generators (numpy and stochastic)."""
    import stochastic.random as srandom

    np.random.seed(seed)
    srandom.seed(seed)


def andi_dic(p: ExperimentParams) -> dict:
    """andi-datasets parameter dictionary equivalent to ``p``."""
    single = p.model in ("single_state", "immobile_traps")
    dic = {
        "model": p.model,
        "N": int(p.N),
        "T": int(p.T),
        "L": float(p.L),
        "alphas": p.alphas[0].copy() if single else p.alphas.copy(),
        "Ds": p.Ks[0].copy() if single else p.Ks.copy(),
    }
    if p.model == "single_state":
        dic["dim"] = 2
    elif p.model == "multi_state":
        dic.update(M=np.asarray(p.M), return_state_num=True)
    elif p.model == "immobile_traps":
        dic.update(Pu=p.Pu, Pb=p.Pb, Nt=int(p.Nt), r=p.r)
    elif p.model == "dimerization":
        dic.update(Pu=p.Pu, Pb=p.Pb, r=p.r, return_state_num=True)
    elif p.model == "confinement":
        dic.update(r=p.r, Nc=int(p.Nc), trans=p.trans)
    return dic


def andi_model_call(p: ExperimentParams):
    """Raw ``models_phenom().<model>(**dic)``: positions (T, N, 2), labels (T, N, c)."""
    mp, _ = _import()
    dic = andi_dic(p)
    dic.pop("model")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(mp.models_phenom(), p.model)(**dic)


def andi_challenge_fovs(p: ExperimentParams, n_fovs: int, seed: int) -> tuple[list[FOV], list[list], np.ndarray]:
    """Run andi's ``challenge_phenom_dataset`` with one simulation per FOV (as the challenge).

    Returns
    -------
    fovs : list of FOV
        Tracks with andi's filtered per-frame labels (regime not available: set to -1).
    lines : list of list
        andi's ground-truth lines per FOV.
    ensemble : ndarray
        andi's per-FOV ensemble matrices (last row raw counts), stacked (n_fovs, 5, k).
    """
    _, challenge = _import()
    seed_andi(seed)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        trajs, labs, ens = challenge(dics=[andi_dic(p) for _ in range(n_fovs)], num_fovs=1, return_timestep_labs=True)
    warnings.resetwarnings()
    fovs = []
    for df in trajs:
        fov = FOV(origin=np.array([np.nan, np.nan]))
        for idx, g in df.groupby("traj_idx", sort=True):
            fov.tracks.append(
                Track(
                    traj_idx=int(idx),
                    frames=g["frame"].to_numpy().astype(np.int64),
                    xy=g[["x", "y"]].to_numpy(),
                    alpha=g["alpha"].to_numpy(),
                    K=g["D"].to_numpy(),
                    state=g["state"].to_numpy().astype(np.int64),
                    regime=np.full(len(g), -1),
                )
            )
        fovs.append(fov)
    return fovs, labs, np.stack(ens)
