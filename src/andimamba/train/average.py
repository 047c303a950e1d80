"""Weight averaging: one network whose parameters are the weighted mean of several checkpoints' ("model soup",
Wortsman et al. 2022, ICML).

Meant for checkpoints fine-tuned from one common ancestor (e.g. runs continued with ``--init-from`` on different
priors): their weights lie in one basin, and the mean usually predicts at least as well as each ingredient at the
cost of one network. Averaging unrelated runs gives a useless network; benchmark the result like any other weights.

The output folder is a checkpoint (:mod:`andimamba.checkpoint`) with ``train`` null (not made by one training run),
its segmenter untuned (run ``andimamba tune-segmenter`` on it), and an ``average`` key recording the ingredients:
``{"of": [{"name", "weight", "train", "average"}, ...]}``, each with its folder name, its weight in the mean and its
own ``train`` (and ``average``) record, no machine path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from andimamba.errors import UserError

__all__ = ["average_checkpoints"]


def average_checkpoints(paths: Sequence[str | Path], out: str | Path, weights: Sequence[float] | None = None,
                        overwrite: bool = False) -> Path:
    """Write the weighted mean of the checkpoints ``paths`` as a new checkpoint folder ``out``.

    Parameters
    ----------
    paths : sequence of str or Path
        Two or more weights/run folders (or shipped model names) of one architecture, feature version and window.
    out : str or Path
        Folder to write (``config.json``, ``model.safetensors``); created.
    weights : sequence of float, optional
        One non-negative weight per checkpoint (normalised to sum 1); default equal weights.
    overwrite : bool
        Replace the weights and config of an existing checkpoint folder ``out``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    UserError
        Fewer than two checkpoints, a weight count or value that does not fit, checkpoints that differ in
        architecture, features or window, or an existing checkpoint at ``out`` without ``overwrite``.
    """
    from andimamba.checkpoint import CONFIG, WEIGHTS, load_checkpoint, tensors_bytes, write_config
    from andimamba.io.atomic import atomic_write_bytes
    from andimamba.options import opt
    from andimamba.predict import resolve_model_path

    if len(paths) < 2:
        raise UserError(f"averaging needs at least two checkpoints, got {len(paths)}")
    w = [1.0] * len(paths) if weights is None else [float(v) for v in weights]
    if len(w) != len(paths):
        raise UserError(f"{len(w)} weights for {len(paths)} checkpoints: give one per checkpoint in {opt('weights')}")
    if any(not (v >= 0) for v in w) or sum(w) <= 0:
        raise UserError(f"weights {w}: give non-negative numbers with a positive sum in {opt('weights')}")
    w = [v / sum(w) for v in w]
    out = Path(out)
    if (out / CONFIG).exists() and not overwrite:
        raise UserError(f"{out} already holds a checkpoint; choose another {opt('out')} or pass {opt('overwrite', True)}")

    ckpts = [load_checkpoint(resolve_model_path(p)) for p in paths]
    first = ckpts[0]
    ref_model = {k: v for k, v in first.config["model"].items() if k != "scan_impl"}  # the scan is a run-time choice
    for p, c in zip(paths[1:], ckpts[1:]):
        model = {k: v for k, v in c.config["model"].items() if k != "scan_impl"}
        for what, a, b in (("architecture", ref_model, model), ("features", first.config["features"], c.config["features"]),
                           ("window", {"window": first.window}, {"window": c.window})):
            diff = [f"{k} {b.get(k)} vs {a.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            if diff:
                raise UserError(f"{p}: its {what} differs from {paths[0]}'s ({'; '.join(diff)}); only checkpoints of one "
                                "architecture, feature version and window can be averaged")
    states = [c.model.state_dict() for c in ckpts]
    mean = {}
    for name, t0 in states[0].items():
        if t0.is_floating_point():
            acc = sum(wi * s[name].to(torch.float64) for wi, s in zip(w, states))
            mean[name] = acc.to(t0.dtype)
        else:  # integer buffers (counters): must agree
            if any(not torch.equal(s[name], t0) for s in states[1:]):
                raise UserError(f"buffer {name} differs between the checkpoints; they cannot be averaged")
            mean[name] = t0.clone()

    def record(path, ckpt, weight):
        return {"name": Path(str(path)).name, "weight": round(weight, 6), "train": ckpt.train, "average": ckpt.config.get("average")}

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / WEIGHTS, tensors_bytes(mean))
    write_config(out, first.model.config, None, first.window,
                 average={"of": [record(p, c, wi) for p, c, wi in zip(paths, ckpts, w)]})
    return out
