"""Decision levers measured on a fresh realisation of the organisers' AnDi-2 benchmark recipe: how much the
per-frame → segments rules, a local CP refinement, a two-model ensemble and perfect change points would
change the five official single-trajectory metrics of a model's per-frame outputs.

The network runs once per model; every lever re-decides from the same outputs and is scored with
:func:`andimamba.metrics.single_trajectory_scores`, pooled per experiment and weighted by tracks over the nine
experiments (as ``andi2_benchmark.py`` reports). Use a ``--seed`` other than the benchmark's (2024) so that
what is chosen here is judged on other tracks there.

Levers:

- ``shipped``: the model's own segmenter settings (``config.json``), without the per-experiment pooling of α.
- ``threshold T``: the CP-probability threshold set to T (other settings shipped).
- ``peak window ±w``: a CP-probability peak must be the largest within ±w frames (shipped: 3).
- ``CP mass ±m ≥ T``: CPs at the peaks of the CP probability summed over ±m frames (a peak spread over
  neighbouring frames counts as much as a sharp one), threshold T on that sum.
- ``refine ±w``: each CP moved within ±w frames to the split that best separates the mean log squared step on
  either side (a mean-shift fit over the segment's neighbours, at most 15 frames each side).
- ``α [and K] of 6–M-frame segments from the likelihood``: the shipped segments, with the α (and K) of every
  mobile segment of 6 to M frames re-estimated from that segment's positions alone by the exact noisy-fBm
  likelihood of the short-track regime (:func:`andimamba.short_tracks.estimate_short`).
- ``free/directed by α ≥ 1.9``: the shipped segments, every free or directed one relabelled by the AnDi-2 label
  rule (directed iff its α ≥ 1.9) instead of the network's state posterior.
- ``state prior adapted per experiment``: the state posteriors of all frames of one experiment re-weighted for
  that experiment's own state mix (label-shift EM, Saerens et al. 2002: the mix is re-estimated as the mean
  re-weighted posterior, ``--em-iters`` rounds), relative to the model's mean posterior on simulations from the
  broad training prior (2,048 tracks, seed 99); then the shipped settings. What ``predict`` could do per file or FOV
  folder without any fine-tuning.
- ``immobile × w0, confined × w1``: the state posteriors of immobile and confined scaled by w0 and w1 before the
  segments' states are decided (a cost on calling a frame immobile or confined; the AnDi-2 labels call the slow
  state of a dimerization experiment free however slow it is).
- ``α pooled per experiment``: the shipped segments with every mobile segment's α replaced by its pooled
  estimate (:func:`andimamba.pooling.pool_alphas`, what ``predict`` does by default, with the model's own
  calibration from ``tune-segmenter``); ``… all states together``: one population for all mobile states.
- ``states pooled per experiment (own weight w), then α``: each segment's state decided with the state mix of its
  population (:func:`andimamba.state_pooling.pool_states`, ``state_own_weight`` w), then α pooled (what ``predict``
  does by default, w = 0.3).
- ``ensemble``: per-frame outputs of the first two models averaged, then the first model's settings; and the
  same with α from the first model only.
- ``oracle CPs``: the true change points with the network's per-segment values (how much is left to gain by CPs).

Per-segment values everywhere follow the shipped rule (:func:`andimamba.segments.segment_batch`, given the
change points where a lever moves them).

Usage: ``python benchmarks/decision_levers.py --models bimamba [RUN …] [--fovs 10] [--seed 5000]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from andimamba.sim.recipes import RECIPES  # noqa: E402

from andimamba.metrics import METRICS, single_trajectory_scores  # noqa: E402
from andimamba.predict import load_predictor  # noqa: E402
from andimamba.segments import SegmenterConfig, segment_batch  # noqa: E402
from andimamba.sim.experiment import simulate_experiment  # noqa: E402


def realisation(seed: int, n_fovs: int) -> list[dict]:
    """The nine experiments: padded positions (b, l, 2) px, lengths (b,), ground truth {i: SegmentResult}."""
    exps = []
    for e, (desc, p) in enumerate(RECIPES["published"]()):
        _, fovs = simulate_experiment(params=p, n_fovs=n_fovs, seed=seed + e, progress=False)
        tracks = [t for f in fovs for t in f.tracks]
        L = np.array([len(t.frames) for t in tracks])
        pos = np.zeros((len(tracks), L.max(), 2), np.float32)
        for i, t in enumerate(tracks):
            pos[i, : L[i]] = t.xy - t.xy[0]
        exps.append({"desc": desc, "pos": pos, "L": L, "truth": {i: t.segments() for i, t in enumerate(tracks)}})
    return exps


def frame_outputs(model: str, exps: list[dict]) -> list[dict]:
    """Per-frame outputs of ``model`` for every experiment (each (b, l[, 4]))."""
    pred = load_predictor(model)
    return [pred.frame_outputs(ex["pos"], ex["L"]) for ex in exps]


def cp_mass(cp_prob: np.ndarray, m: int) -> np.ndarray:
    """(b, l) the CP probability summed over frames t − m … t + m (padding frames hold 0)."""
    pad = np.pad(cp_prob, [(0, 0), (m, m)])
    return np.lib.stride_tricks.sliding_window_view(pad, 2 * m + 1, axis=1).sum(axis=2)


def refine(cps: np.ndarray, xy: np.ndarray, w: int, reach: int = 15) -> np.ndarray:
    """Each CP moved within ±w frames to the best mean-shift split of the log squared steps around it."""
    d = np.diff(xy, axis=0)
    u = np.log((d**2).sum(axis=1) + 1e-12)  # (T − 1,) u[k]: step from frame k to k + 1
    bounds = np.r_[0, cps, len(u) + 1].astype(int)
    out = []
    for j, c in enumerate(cps):
        lo, hi = max(bounds[j] + 1, c - reach), min(bounds[j + 2] - 1, c + reach)
        best, score = c, -np.inf
        for t in range(max(c - w, lo + 2), min(c + w, hi - 2) + 1):  # a CP at frame t splits steps < t from steps ≥ t
            a, b = u[lo:t], u[t:hi]
            s = len(a) * a.mean() ** 2 + len(b) * b.mean() ** 2 - (len(a) + len(b)) * u[lo:hi].mean() ** 2
            if s > score:
                best, score = t, s
        out.append(best)
    return np.unique(np.array(out, int))


def likelihood_alpha(results: dict, pos: np.ndarray, max_len: int, with_K: bool) -> dict:
    """``results`` with the α (and K) of every mobile segment of 6..``max_len`` frames replaced by the exact
    noisy-fBm likelihood estimate from the segment's own positions (``andimamba.short_tracks.estimate_short``)."""
    from copy import deepcopy

    from andimamba.short_tracks import SHORT_MIN_LENGTH, estimate_short

    out = deepcopy(results)
    where = []  # (track, segment, start, stop)
    for i, r in out.items():
        for j, (a, b) in enumerate(r.bounds()):
            if SHORT_MIN_LENGTH <= b - a <= max_len and not (r.states[j] == 0 and r.alphas[j] == 0):
                where.append((i, j, a, b))
    if not where:
        return out
    seg = np.zeros((len(where), max_len, 2))
    n = np.array([b - a for _, _, a, b in where])
    for k, (i, _, a, b) in enumerate(where):
        seg[k, : b - a] = pos[i, a:b] - pos[i, a]
    alpha, K = estimate_short(seg, n)
    for k, (i, j, _, _) in enumerate(where):
        out[i].alphas[j] = alpha[k]
        if with_K:
            out[i].Ks[j] = K[k]
    return out


def directed_by_alpha(results: dict) -> dict:
    """``results`` with every free or directed segment relabelled by the AnDi-2 label rule: directed iff α ≥ 1.9."""
    from copy import deepcopy

    from andimamba.andi2 import ALPHA_DIRECTED, DIRECTED, FREE

    out = deepcopy(results)
    for r in out.values():
        mobile = (r.states == FREE) | (r.states == DIRECTED)
        r.states[mobile] = np.where(r.alphas[mobile] >= ALPHA_DIRECTED, DIRECTED, FREE)
    return out


def reference_prior(model: str, n: int = 2048, seed: int = 99) -> np.ndarray:
    """(4,) mean state posterior of ``model`` over valid frames of simulations from the broad training prior."""
    from andimamba.sim.dataset import TrainingStream

    pred = load_predictor(model)
    b = next(TrainingStream(n, seed=seed, prior="broad"))
    out = pred.frame_outputs(b.positions.astype(np.float32), b.lengths)
    m = np.arange(out["state_prob"].shape[1])[None, :] < b.lengths[:, None]
    return out["state_prob"][m].mean(axis=0)


def adapt_state_prior(out: dict, L: np.ndarray, ref: np.ndarray, iters: int) -> dict:
    """``out`` with ``state_prob`` re-weighted for the experiment's own state mix (label-shift EM)."""
    p = out["state_prob"].astype(np.float64)
    m = np.arange(p.shape[1])[None, :] < L[:, None]
    pi = ref.copy()
    for _ in range(iters):
        q = p * (pi / ref)
        q /= np.maximum(q.sum(axis=-1, keepdims=True), 1e-30)  # padding frames: all 0
        pi = np.clip(q[m].mean(axis=0), 1e-6, None)
    q = p * (pi / ref)
    q /= np.maximum(q.sum(axis=-1, keepdims=True), 1e-30)
    return {**out, "state_prob": q.astype(out["state_prob"].dtype)}


def best_threshold(out: dict, L: np.ndarray, truth: dict, cfg: SegmenterConfig, grid) -> tuple[float, dict]:
    """The CP threshold of ``grid`` with the best CP JSC on ``truth`` for these outputs, and its segments."""
    best = (-1.0, None, None)
    for t in grid:
        pred = dict(enumerate(segment_batch(out, L, cfg=SegmenterConfig(**{**cfg.to_dict(), "cp_threshold": t}))))
        j = single_trajectory_scores(truth, pred)["jsc_cp"]
        if j > best[0]:
            best = (j, t, pred)
    return best[1], best[2]


def surrogate_threshold(model: str, first_pass: list, cfg: SegmenterConfig, grid, n: int = 1000, seed: int = 0) -> float:
    """The CP threshold that scores the best CP JSC on ``n`` tracks simulated from the experiments that reproduce
    ``first_pass`` (states pooled first; :func:`andimamba.specialise.surrogate_experiments`)."""
    from andimamba.sim.challenge import cut_boxes
    from andimamba.sim.models import simulate
    from andimamba.specialise import surrogate_experiments
    from andimamba.state_pooling import pool_states

    pred = load_predictor(model)
    sur = surrogate_experiments(pool_states(first_pass, pred.pooling, cfg)[0] if pred.pooling else first_pass)
    rng, tracks, i = np.random.default_rng(seed), [], 0
    while len(tracks) < n:
        p = sur[i % len(sur)]
        i += 1
        for fov in cut_boxes(simulate(p, rng, n_boxes=4), p.N, rng):
            tracks.extend(fov.tracks)
    tracks = tracks[:n]
    L = np.array([len(t.frames) for t in tracks])
    pos = np.zeros((n, L.max(), 2), np.float32)
    for j, t in enumerate(tracks):
        pos[j, : L[j]] = t.xy - t.xy[0]
    return best_threshold(pred.frame_outputs(pos, L), L, {j: t.segments() for j, t in enumerate(tracks)}, cfg, grid)[0]


def score(exps: list[dict], preds: list[dict]) -> dict:
    """Track-weighted mean over experiments of the five metrics, and the per-experiment rows."""
    rows = [single_trajectory_scores(ex["truth"], p) for ex, p in zip(exps, preds)]
    n = np.array([len(ex["truth"]) for ex in exps], float)
    return {"all": {m: float(np.average([r[m] for r in rows], weights=n)) for m in METRICS}, "per_exp": rows}


def levers(exps, outs: dict[str, list[dict]], models: list[str], em_iters=(1, 3, 10), only: str | None = None):
    """(name, per-experiment predictions) of every lever (those whose name contains ``only``, if given)."""
    first = models[0]
    cfg = load_predictor(first).segmenter

    def want(name: str) -> bool:
        return only is None or only in name

    def decide(o, L, c=cfg, cps=None):
        return dict(enumerate(segment_batch(o, L, cfg=c, cps=cps)))

    shipped = [decide(o, ex["L"]) for ex, o in zip(exps, outs[first])]
    yield f"{first}: shipped ({cfg.cp_threshold}){', α not pooled' if load_predictor(first).pooling else ''}", shipped
    if em_iters and want("state prior"):
        ref = reference_prior(first)
        for it in em_iters:
            yield (f"{first}: state prior adapted per experiment ({it} EM rounds)",
                   [decide(adapt_state_prior(o, ex["L"], ref, it), ex["L"]) for ex, o in zip(exps, outs[first])])
    for w0, w1 in ((0.5, 1.0), (1.0, 0.5), (0.5, 0.5), (0.25, 0.5), (0.25, 0.25)):
        if want(name := f"{first}: immobile × {w0}, confined × {w1}"):
            wts = np.array([w0, w1, 1.0, 1.0], np.float32)
            yield name, [decide({**o, "state_prob": o["state_prob"] * wts}, ex["L"]) for ex, o in zip(exps, outs[first])]
    for pw in (1, 2, 5):
        if want(name := f"{first}: peak window ±{pw}"):
            c = SegmenterConfig(**{**cfg.to_dict(), "peak_window": pw})
            yield name, [decide(o, ex["L"], c) for ex, o in zip(exps, outs[first])]
    for thr in (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95):
        if want(name := f"{first}: threshold {thr}"):
            c = SegmenterConfig(**{**cfg.to_dict(), "cp_threshold": thr})
            yield name, [decide(o, ex["L"], c) for ex, o in zip(exps, outs[first])]
    for m, thrs in ((1, (1.0, 1.5, 1.8, 2.1)), (2, (1.5, 2.0, 2.5))):
        for thr in thrs:
            if want(name := f"{first}: CP mass ±{m} ≥ {thr}"):
                c = SegmenterConfig(**{**cfg.to_dict(), "cp_threshold": thr})
                yield name, [decide({**o, "cp_prob": cp_mass(o["cp_prob"], m)}, ex["L"], c) for ex, o in zip(exps, outs[first])]
    grid = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
    if want(name := f"{first}: CP threshold per experiment, best on the truth (an upper bound, not a method)"):
        yield name, [best_threshold(o, ex["L"], ex["truth"], cfg, grid)[1] for ex, o in zip(exps, outs[first])]
    if want(name := f"{first}: CP threshold per experiment, best on simulations of its first pass"):
        preds = []
        for e, (ex, o, sh) in enumerate(zip(exps, outs[first], shipped)):
            t = surrogate_threshold(first, list(sh.values()), cfg, grid, seed=e)
            preds.append(decide(o, ex["L"], SegmenterConfig(**{**cfg.to_dict(), "cp_threshold": t})))
        yield name, preds
    for w in (1, 2):
        if want(name := f"{first}: refine ±{w}"):
            preds = []
            for ex, o, sh in zip(exps, outs[first], shipped):
                moved = [refine(sh[i].cps, ex["pos"][i, :T].astype(np.float64), w) for i, T in enumerate(ex["L"])]
                preds.append(decide(o, ex["L"], cps=moved))
            yield name, preds
    pooling = load_predictor(first).pooling
    if pooling is not None and want(name := f"{first}: α pooled per experiment"):
        from andimamba.pooling import pool_alphas

        yield name, [dict(enumerate(pool_alphas(list(sh.values()), pooling)[0])) for sh in shipped]
        if want(name := f"{first}: α pooled per experiment, all states together"):
            together = [{i: dataclasses.replace(r, states=np.where(r.states > 0, 2, 0)) for i, r in sh.items()} for sh in shipped]
            yield name, [{i: dataclasses.replace(sh[i], alphas=r.alphas) for i, r in enumerate(pool_alphas(list(t.values()), pooling)[0])}
                         for sh, t in zip(shipped, together)]
    for w in (0.3, 0.5):
        if pooling is not None and want(name := f"{first}: states pooled per experiment (own weight {w}), then α"):
            from andimamba.pooling import pool_alphas
            from andimamba.state_pooling import pool_states

            pc = dataclasses.replace(pooling, state_own_weight=w)
            yield name, [dict(enumerate(pool_alphas(pool_states(list(sh.values()), pc, cfg)[0], pc)[0]))
                         for sh in shipped]
    if want(name := f"{first}: free/directed by α ≥ 1.9"):
        yield name, [directed_by_alpha(sh) for sh in shipped]
    for max_len, with_K in ((19, False), (40, False), (40, True)):
        if want(name := f"{first}: α{' and K' if with_K else ''} of 6–{max_len}-frame segments from the likelihood"):
            yield name, [likelihood_alpha(sh, ex["pos"].astype(np.float64), max_len, with_K) for ex, sh in zip(exps, shipped)]
    for m in models[1:]:
        if want(name := f"{m}: shipped settings of {first}"):
            yield name, [decide(o, ex["L"]) for ex, o in zip(exps, outs[m])]
    if len(models) > 1:
        ens = [{k: (a[k] + b[k]) / 2 for k in a} for a, b in zip(outs[first], outs[models[1]])]
        if want(name := f"ensemble {first} + {models[1]}"):
            yield name, [decide(o, ex["L"]) for ex, o in zip(exps, ens)]
        if want(name := f"ensemble, α from {first} only"):
            yield name, [decide({**o, "alpha": a["alpha"]}, ex["L"]) for ex, o, a in zip(exps, ens, outs[first])]
    if want(name := f"{first}: oracle CPs"):
        yield name, [decide(o, ex["L"], cps=[ex["truth"][i].cps for i in range(len(ex["L"]))]) for ex, o in zip(exps, outs[first])]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["bimamba"], help="shipped model names or run folders (first: the one decided on)")
    ap.add_argument("--fovs", type=int, default=10, help="FOVs per experiment")
    ap.add_argument("--seed", type=int, default=5000, help="seed of experiment 0 (experiment e: seed + e); the benchmark's is 2024")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--em-iters", default="1,3,10", help="EM rounds of the per-experiment state-prior lever (comma-separated; '' for none)")
    ap.add_argument("--only", default=None, help="only the levers whose name contains this text (and the shipped row)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    exps = realisation(a.seed, a.fovs)
    outs = {m: frame_outputs(m, exps) for m in a.models}
    n = sum(len(ex["L"]) for ex in exps)
    print(f"machine: {platform.machine()} | cpus {os.cpu_count()} | torch {torch.__version__} | published recipe, "
          f"{a.fovs} FOVs per experiment, seed {a.seed}: {n} tracks\n")
    print("| lever | CP RMSE (JSC) | α MAE | K MSLE | state F1 | α MAE per experiment 0–8 |\n|---|---:|---:|---:|---:|---|")
    em = tuple(int(x) for x in a.em_iters.split(",") if x.strip())
    for name, preds in levers(exps, outs, a.models, em, a.only):
        s = score(exps, preds)
        o = s["all"]
        per = " ".join(f"{r['alpha_mae']:.2f}" for r in s["per_exp"])
        print(f"| {name} | {o['rmse_cp']:.2f} ({o['jsc_cp']:.2f}) | {o['alpha_mae']:.3f} | {o['K_msle']:.4f} | {o['state_f1']:.3f} | {per} |", flush=True)
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
