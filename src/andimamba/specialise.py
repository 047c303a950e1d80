"""Experiment-level specialisation: fine-tune a copy of the network on simulations of *this* experiment.

The AnDi-2 winners' approach (and the Bi-Mamba paper's stated future work): the first pass over an
experiment gives an ensemble answer — per-state α and K, state occupations, change-point rate. From
it we build AnDi-2 experiments that reproduce that answer (:func:`surrogate_experiments`), simulate
them through the challenge pipeline, fine-tune a copy of the network for a fixed number of steps
(:func:`specialise`: seeded, so the same tracks give the same weights), and predict again — α, K and states of
the first pass's segments: the pipeline keeps its change points, which the fine-tuned copy placed worse
(docs/results.md).

Surrogates (all with the challenge's box, FOV, noise and length filter):

- ``multi_state`` with the mobile ensemble components (≥ 2 components; transition probability per
  frame from the observed change-point rate), or ``single_state`` with one component when neither
  of the next two applies (their free state already is that component);
- ``immobile_traps`` when ≥ 2 % of the frames were called immobile (unbinding probability from the
  mean immobile-segment length);
- ``confinement`` when ≥ 5 % of the frames were called confined (the confined state's α, K from
  the confined segments; compartment crossing from the change-point rate).

Spreads are widened (α variance ≥ 0.01, K relative std ≥ 10 %) so that the fine-tuned network
does not collapse onto the first pass's possibly biased answer.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

import numpy as np

from .ensemble import ensemble_from_segments
from .sim.params import CHALLENGE_N, ExperimentParams

__all__ = ["SpecialiseConfig", "surrogate_experiments", "specialise"]


@dataclass
class SpecialiseConfig:
    """How a network is specialised to one experiment."""

    steps: int = 120  # optimizer steps (about 1 minute on 2 laptop cores for the shipped Bi-Mamba)
    batch_size: int = 64  # tracks per step
    lr: float = 3e-4  # Adam learning rate (constant; the copy starts from trained weights)
    seed: int = 0  # simulation and dropout seed
    boxes_per_call: int = 4  # boxes simulated per call (one surrogate each call)
    min_alpha_var: float = 0.01  # widen the first pass's α spread to at least this variance
    min_K_rel_std: float = 0.1  # ... and K's to at least this relative std

    def to_dict(self) -> dict:
        """JSON-serialisable dict."""
        return asdict(self)


def _segments(results) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Per-segment α, K, state, length (frames) over all tracks, plus the CP count and frame total."""
    a = np.concatenate([r.alphas for r in results])
    k = np.concatenate([r.Ks for r in results])
    s = np.concatenate([r.states for r in results])
    n = np.concatenate([np.diff(np.concatenate([[0], r.cps, [r.T]])) for r in results])
    return a, k, s, n, int(sum(len(r.cps) for r in results)), int(sum(r.T for r in results))


def _pair(mean: float, var: float, lo: float, hi: float, min_var: float) -> list[float]:
    return [float(np.clip(mean, lo, hi)), float(max(var, min_var))]


def surrogate_experiments(results, cfg: SpecialiseConfig | None = None, T: int = 200) -> list[ExperimentParams]:
    """AnDi-2 experiments whose simulations resemble a first pass's answer on one experiment.

    Parameters
    ----------
    results : sequence of SegmentResult
        The first pass over every track of the experiment.
    cfg : SpecialiseConfig, optional
        Spread floors.
    T : int
        Frames simulated per particle.

    Returns
    -------
    list of ExperimentParams
        One to three experiments (see the module docstring).
    """
    cfg = cfg or SpecialiseConfig()
    a, k, s, n, n_cp, frames = _segments(results)
    if frames == 0:
        raise ValueError("specialise: no tracks to learn from")
    cp_rate = float(np.clip(n_cp / frames, 1e-3, 0.2))  # change points per frame
    mobile = k > 0
    if not mobile.any():  # everything immobile: a slow free state that traps (nothing else to learn)
        a, k, n, mobile = np.array([0.5]), np.array([0.01]), np.array([1]), np.array([True])
    ens = ensemble_from_segments(a[mobile], k[mobile], n[mobile], max_states=3)  # (5, c), by decreasing K
    comps = []
    for j in range(ens.shape[1]):
        mK = float(ens[2, j])
        comps.append((_pair(ens[0, j], ens[1, j], 0.05, 1.95, cfg.min_alpha_var),
                      _pair(mK, ens[3, j], 1e-4, 1e3, (cfg.min_K_rel_std * mK) ** 2)))
    out = []
    w = lambda m: float(n[m].sum() / n.sum())  # noqa: E731  fraction of frames
    free = comps[0]  # the fastest component plays the free state of traps and confinement
    immobile = (s == 0) & ~mobile
    if w(immobile) >= 0.02:
        Pu = float(np.clip(1.0 / max(n[immobile].mean(), 1.0), 1e-3, 0.5))
        out.append(ExperimentParams(model="immobile_traps", alphas=[free[0]], Ks=[free[1]], Pu=Pu, Pb=1.0, Nt=300, r=0.5, T=T))
    confined = (s == 1) & mobile
    if w(confined) >= 0.05:
        ca = float(np.average(a[confined], weights=n[confined]))
        ck = float(np.exp(np.average(np.log(k[confined]), weights=n[confined])))
        ca, fa = min(ca, free[0][0]), free[0]
        ck = min(ck, free[1][0] * 0.9)
        out.append(ExperimentParams(
            model="confinement", alphas=[fa, _pair(ca, cfg.min_alpha_var, 0.05, 1.95, cfg.min_alpha_var)],
            Ks=[free[1], _pair(ck, 0.0, 1e-4, 1e3, (cfg.min_K_rel_std * ck) ** 2)],
            r=5.0, Nc=30, trans=float(np.clip(10 * cp_rate, 0.02, 0.5)), N=CHALLENGE_N, T=T))
    if len(comps) > 1 or not out:  # traps / confinement alone already hold a one-component mobile part
        if len(comps) == 1:
            out.insert(0, ExperimentParams(model="single_state", alphas=[comps[0][0]], Ks=[comps[0][1]], T=T))
        else:
            c = len(comps)
            stay = 1.0 - cp_rate
            M = np.full((c, c), (1 - stay) / (c - 1))
            np.fill_diagonal(M, stay)
            out.insert(0, ExperimentParams(model="multi_state", alphas=[x[0] for x in comps], Ks=[x[1] for x in comps], M=M, T=T))
    return out


def _stream(experiments: Sequence[ExperimentParams], cfg: SpecialiseConfig) -> Iterator:
    """Endless training batches from the surrogates (round robin, one experiment per simulation call)."""
    from .sim.challenge import FOV, cut_boxes, fovs_to_batch
    from .sim.models import simulate

    rng = np.random.default_rng(cfg.seed)
    pool: list = []
    i = 0
    while True:
        while len(pool) < cfg.batch_size:
            p = experiments[i % len(experiments)]
            i += 1
            for fov in cut_boxes(simulate(p, rng, n_boxes=cfg.boxes_per_call), p.N, rng):
                pool.extend(fov.tracks)
            pool = [pool[j] for j in rng.permutation(len(pool))]
        take, pool = pool[: cfg.batch_size], pool[cfg.batch_size :]
        yield fovs_to_batch([FOV(origin=np.zeros(2), tracks=take)], pad_to=experiments[0].T)


def specialise(model, results, cfg: SpecialiseConfig | None = None, progress: bool = False, desc: str = "specialise"):
    """A copy of ``model`` fine-tuned on simulations of the experiment that ``results`` describe.

    Parameters
    ----------
    model : AnDiNet
        The trained network (left unchanged).
    results : sequence of SegmentResult
        The first pass of ``model`` over the experiment's tracks.
    cfg : SpecialiseConfig, optional
    progress : bool
        Show a progress bar over the steps.
    desc : str
        Progress bar label.

    Returns
    -------
    AnDiNet
        The fine-tuned copy, in eval mode. The same inputs and ``cfg`` give the same weights.
    """
    import torch
    from tqdm.auto import tqdm

    from .nn.losses import LossWeights
    from .train import TrainConfig, train_step

    cfg = cfg or SpecialiseConfig()
    experiments = surrogate_experiments(results, cfg)
    net = copy.deepcopy(model).train()
    device = next(net.parameters()).device
    tcfg = TrainConfig(model=net.config, batch_size=cfg.batch_size, lr=cfg.lr, loss=LossWeights())
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    batches = _stream(experiments, cfg)
    first = next(batches)
    # plain cross-entropy: the surrogates already carry this experiment's state frequencies, and the
    # official state metric (micro-F1) is frame accuracy on them
    cw = torch.ones(4, dtype=torch.float32, device=device)
    rng_state = torch.get_rng_state()
    try:
        torch.manual_seed(cfg.seed)
        batch = first
        for step in tqdm(range(cfg.steps), disable=not progress, desc=desc, unit="step", leave=False):
            train_step(net, opt, batch, cw, tcfg, device, (0, step))
            batch = next(batches)
    finally:
        torch.set_rng_state(rng_state)
    return net.eval()
