"""The prediction pipeline: tracks in; segments, tables, plots and AnDi-2 submission files out.

What ``andimamba predict`` does, as a library::

    from andimamba.pipeline import predict_file, predict_folder

    run = predict_file("tracks.csv", model="bimamba", pixel_size=0.107, frame_interval=0.05)
    run.segments()            # one row per segment (DataFrame)
    run.write("results/")     # segments.csv, frames.csv, skipped_tracks.csv (and plots)

    run = predict_folder("andi_challenge/", model="bimamba")
    run.write_submission("submission/")   # track_2/exp_E/fov_J.txt + ensemble_labels.txt

:func:`run_predictor` takes tracks already read (one :class:`~andimamba.io.tracks.Tracks` per file
or AnDi-2 field of view) and a :class:`~andimamba.predict.Predictor`; :class:`Prediction` holds the
result and knows its tables and files. The DataFrame API at the package root
(:func:`andimamba.characterize`, :func:`andimamba.annotate`) sits on top of this module.

Units: positions in pixels and time in frames inside; K is reported in px²/frame^α, and also in
µm²/s^α when the pixel size (µm/px) and the frame interval (s) are known (see
:func:`andimamba.io.results.k_physical`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .io.results import frames_table, segments_table
from .io.tracks import Tracks
from .result import SegmentResult
from .short_tracks import SHORT_MIN_LENGTH

__all__ = ["Prediction", "RUN_OUTPUTS", "as_predictor", "run_predictor", "predict_file", "predict_folder"]

# what Prediction.write puts into a run folder (with the CLI's run.json: anything else there is the user's)
RUN_OUTPUTS = ("segments.csv", "frames.csv", "skipped_tracks.csv", "plots", "track_2")


@dataclass
class Prediction:
    """Segments of every track of one prediction run, with the tracks they came from.

    Attributes
    ----------
    groups : list of Tracks
        The tracks, one entry per file or AnDi-2 field of view (``experiment``, ``fov`` set in
        folder mode). Positions in pixels.
    results : list of list of SegmentResult
        ``results[i][j]`` is track ``j`` of ``groups[i]`` (skipped tracks excluded).
    model : str
        Model name as given (``"bimamba"``, ``"classical"``, a run folder).
    tta : bool
        Whether the network was averaged over the 8 rotations/reflections.
    specialised : bool
        Whether a second pass used a network fine-tuned per experiment.
    pooled : dict
        Per experiment whose segments were pooled (states: :mod:`andimamba.state_pooling`, α:
        :mod:`andimamba.pooling`; the key is the AnDi-2 experiment number, None for a file): state code → the
        :class:`~andimamba.pooling.Mixture` fitted to that state's α, and ``"states"`` → the population the states
        were decided with (:func:`~andimamba.state_pooling.pool_states`). Empty when nothing was pooled.
    alpha_unpooled : list of list of SegmentResult, optional
        ``results`` before their α was pooled, their states already pooled (None when nothing was pooled). The
        ensemble summary is computed from these: pooling α narrows the spread of the segments' α, and the ensemble's
        α distance was worse from the pooled values, while the pooled states made both its distances better
        (docs/results.md).
    andi : bool
        Read from an AnDi-2 challenge folder: tables get ``experiment, fov`` columns and
        :meth:`write` writes the submission layout.
    pixel_size : float, optional
        µm per pixel (K also in µm²/s^α with ``frame_interval``).
    frame_interval : float, optional
        Seconds per frame.
    """

    groups: list[Tracks]
    results: list[list[SegmentResult]]
    model: str
    tta: bool = False
    specialised: bool = False
    pooled: dict = field(default_factory=dict)
    alpha_unpooled: list | None = None
    andi: bool = False
    pixel_size: float | None = None
    frame_interval: float | None = None

    # ------------------------------------------------------------------ counts
    @property
    def n_tracks(self) -> int:
        """Tracks analysed (both regimes)."""
        return sum(len(r) for r in self.results)

    @property
    def n_short(self) -> int:
        """Tracks of the short regime (one α and K per track, no change points)."""
        return sum(r.regime == "short" for res in self.results for r in res)

    @property
    def n_segments(self) -> int:
        """Segments over all tracks."""
        return sum(len(r.alphas) for res in self.results for r in res)

    @property
    def skipped(self) -> list[tuple[str, str, int]]:
        """``(file, track_id, n_frames)`` of every track skipped for being too short."""
        return [(g.source, tid, n) for g in self.groups for tid, n in g.skipped]

    # ------------------------------------------------------------------ tables
    def _tables(self, build) -> pd.DataFrame:
        parts = []
        for g, res in zip(self.groups, self.results):
            t = build(res, g)
            if self.andi:
                t.insert(0, "fov", g.fov)
                t.insert(0, "experiment", g.experiment)
            parts.append(t)
        return pd.concat(parts, ignore_index=True)

    def segments(self) -> pd.DataFrame:
        """One row per segment (``[experiment, fov,] track_id, segment, start_frame, end_frame,
        n_frames, alpha, K_px2_per_frame_alpha, [K_um2_per_s_alpha,] state, state_name, regime``);
        see :func:`andimamba.io.results.segments_table`."""
        table = segments_table([r for res in self.results for r in res], pixel_size=self.pixel_size,
                               frame_interval=self.frame_interval)  # one table for all groups (per-call costs add up)
        if self.andi:
            n = [sum(r.n_segments for r in res) for res in self.results]  # segments per field of view
            table.insert(0, "fov", np.repeat(np.array([g.fov for g in self.groups], dtype=np.int64), n))
            table.insert(0, "experiment", np.repeat(np.array([g.experiment for g in self.groups], dtype=np.int64), n))
        return table

    def frames(self) -> pd.DataFrame:
        """One row per frame (``[experiment, fov,] track_id, frame, x_px, y_px, alpha,
        K_px2_per_frame_alpha, [K_um2_per_s_alpha,] state, cp_prob``); see
        :func:`andimamba.io.results.frames_table`."""
        return self._tables(lambda res, g: frames_table(res, tracks=g, pixel_size=self.pixel_size, frame_interval=self.frame_interval))

    def ensembles(self) -> dict:
        """AnDi-2 ensemble matrix (5, k) of every experiment (folder mode; empty otherwise), from
        :func:`andimamba.ensemble.ensemble_from_segments` (K in px²/frame^α) of the segments before their α was pooled."""
        from .ensemble import ensemble_from_segments

        results = self.alpha_unpooled or self.results
        by_exp = {e: [r for i in idx for r in results[i]] for e, idx in _experiments(self.groups).items()} if self.andi else {}
        out = {}
        for e, res in by_exp.items():
            a = np.concatenate([r.alphas for r in res])
            k = np.concatenate([r.Ks for r in res])
            n = np.concatenate([np.diff(np.concatenate([[0], r.cps, [r.T]])) for r in res])
            out[e] = ensemble_from_segments(a, k, n)
        return out

    # ------------------------------------------------------------------ files
    def write_submission(self, root) -> list[Path]:
        """Write the AnDi-2 submission (``root/track_2/exp_E/fov_J.txt`` and
        ``ensemble_labels.txt`` per experiment), atomically per file; folder mode only."""
        from .andi2 import ensemble_file, exp_dir, fov_file
        from .io import write_ensemble_labels, write_submission_fov

        if not self.andi:
            raise ValueError("an AnDi-2 submission needs tracks read from a challenge folder (predict_folder)")
        root = Path(root)
        written = [write_submission_fov(fov_file(exp_dir(root, g.experiment), g.fov), res)
                   for g, res in zip(self.groups, self.results)]
        for e, mat in self.ensembles().items():
            written.append(write_ensemble_labels(ensemble_file(exp_dir(root, e)), f"andimamba-{self.model}", mat))
        return written

    def write(self, folder, frames: bool = True, plots: bool = False, max_plots: int = 20) -> None:
        """Write the run's files into ``folder`` (created if missing): ``segments.csv``,
        ``frames.csv`` (unless ``frames`` is False), ``skipped_tracks.csv`` (when tracks were
        skipped), the AnDi-2 submission (folder mode) and, with ``plots``, PNG plots of all
        segments and of the first ``max_plots`` tracks (see :func:`andimamba.plots.save_run_plots`)."""
        from .io import write_frames_csv, write_segments_csv

        folder = Path(folder)
        if self.andi:
            self.write_submission(folder)
        write_segments_csv(folder / "segments.csv", self.segments())
        if frames:
            write_frames_csv(folder / "frames.csv", self.frames())
        if self.skipped:
            from .io.atomic import atomic_open

            with atomic_open(folder / "skipped_tracks.csv") as f:
                pd.DataFrame(self.skipped, columns=["file", "track_id", "n_frames"]).to_csv(f, index=False)
        if plots:
            from .plots import save_run_plots

            save_run_plots(folder / "plots", self.groups, self.results, max_plots, self.pixel_size)

    def record(self) -> dict:
        """What was read and done, as a JSON-able dict (the CLI's ``run.json``)."""
        from . import __version__

        from .andi2 import STATE_NAMES

        pooled = [{"experiment": e, "state": STATE_NAMES[s], **m.to_dict()} for e, fits in self.pooled.items() for s, m in fits.items()
                  if s != "states"]
        pooled_states = [{"experiment": e, **fits["states"]} for e, fits in self.pooled.items() if "states" in fits]
        return {"andimamba": __version__, "model": self.model, "tta": bool(self.tta), "specialise": bool(self.specialised),
                "pooled": pooled, "pooled_states": pooled_states,
                "pixel_size_um": self.pixel_size, "frame_interval_s": self.frame_interval, "tracks": self.n_tracks,
                "tracks_full": self.n_tracks - self.n_short, "tracks_short": self.n_short, "segments": self.n_segments,
                "skipped_short": len(self.skipped), "split_at_gaps": sum(g.n_split for g in self.groups),
                "branched_cut": sum(g.n_branched for g in self.groups),
                "unlinked_spots": sum(g.n_unlinked_spots for g in self.groups)}


def _specialised(pred, groups: Sequence[Tracks], first: list, tta: bool, steps: int | None, progress: bool) -> list:
    """Second pass with a copy of the network fine-tuned per experiment (see andimamba.specialise)."""
    from .predict import Predictor
    from .specialise import SpecialiseConfig, specialise

    cfg = SpecialiseConfig(**({"steps": steps} if steps else {}))
    out = list(first)
    for e, idx in _experiments(groups).items():
        full = [r for i in idx for r in first[i] if r.regime == "full"]  # short tracks say nothing of change points
        if not full:
            continue
        model = specialise(pred.model, full, cfg, progress=progress, desc="specialise" + (f" exp {e}" if e is not None else ""))
        second = Predictor(model, segmenter=pred.segmenter, window=pred.window, batch_size=pred.batch_size, name=pred.name,
                           loc_noise=pred.loc_noise)
        # the first pass's change points are kept: the fine-tuned copy improved α, K and states but placed CPs worse
        # (docs/results.md, specialisation of the shipped pair)
        for i in idx:
            out[i] = second.predict(groups[i], tta=tta, progress=False, cps=[r.cps for r in first[i]])
    return out


def _experiments(groups: Sequence[Tracks]) -> dict:
    """Indices of the groups of each experiment (AnDi-2 folder: its ``exp_E``; files: all of them, key None)."""
    by_exp: dict = {}
    for i, g in enumerate(groups):
        by_exp.setdefault(g.experiment, []).append(i)
    return by_exp


def _pooled(groups: Sequence[Tracks], results: list, cfg, segmenter) -> tuple[list, dict, list]:
    """``results`` with the segment states (:func:`andimamba.state_pooling.pool_states`, with the decision weights and
    immobile convention of ``segmenter``, the predictor's), then the segment α (:func:`andimamba.pooling.pool_alphas`)
    of every experiment pooled; the fitted populations; and ``results`` with only their states pooled."""
    from .pooling import pool_alphas
    from .state_pooling import pool_states

    out, states_only, fits = list(results), list(results), {}
    for e, idx in _experiments(groups).items():
        flat = [r for i in idx for r in results[i]]
        flat, population = pool_states(flat, cfg, segmenter)
        pooled, mixtures = pool_alphas(flat, cfg)
        if not mixtures and population is None:
            continue
        fits[e] = {**mixtures, **({"states": population} if population is not None else {})}
        at = 0
        for i in idx:
            n = len(results[i])
            out[i], states_only[i], at = pooled[at: at + n], flat[at: at + n], at + n
    return out, fits, states_only


def run_predictor(groups: Sequence[Tracks], predictor, tta: bool = False, specialise: bool = False,
                  specialise_steps: int | None = None, andi: bool = False, pixel_size: float | None = None,
                  frame_interval: float | None = None, progress: bool = False, pool: bool = True) -> Prediction:
    """Segments of every track of ``groups`` with a loaded predictor.

    Parameters
    ----------
    groups : sequence of Tracks
        One per file or AnDi-2 field of view; positions in pixels.
    predictor : Predictor
        From :func:`andimamba.predict.load_predictor`.
    tta : bool
        Average the network over the 8 rotations/reflections of each track (8× slower).
    specialise : bool
        Second pass per experiment with a copy of the network fine-tuned on simulations matching
        the first pass (:mod:`andimamba.specialise`); networks only.
    specialise_steps : int, optional
        Fine-tuning steps per experiment (default :class:`~andimamba.specialise.SpecialiseConfig`'s).
    andi : bool
        The groups are the fields of view of an AnDi-2 folder.
    pixel_size, frame_interval : float, optional
        µm/px and s/frame; default the first group's metadata.
    progress : bool
        Progress bars.
    pool : bool
        Pool the segment states (:mod:`andimamba.state_pooling`: each segment's state decided with the state mix
        of its population of similar segments) and α of each experiment (:mod:`andimamba.pooling`): the network's
        estimate of each mobile
        segment moved toward the population of its experiment by how uncertain it is (a segment of 10 frames
        much, one of 100 frames little). Needs the model's calibration (recorded by ``tune-segmenter``; the
        shipped networks have it); a no-op for the classical method and for uncalibrated models.

    Returns
    -------
    Prediction
    """
    from .errors import UserError

    if predictor.is_classical and (tta or specialise):
        raise UserError(f"{'tta' if tta else 'specialise'} needs a network; the classical method has none")
    results = predictor.predict_groups(groups, tta=tta, progress=progress,  # batches filled across FOVs
                                       desc=f"{len(groups)} fields of view" if andi else "tracks")
    if specialise:
        results = _specialised(predictor, groups, results, tta, specialise_steps, progress)
    fits, alpha_unpooled = {}, None
    if pool and predictor.pooling is not None:
        results, fits, alpha_unpooled = _pooled(groups, results, predictor.pooling, predictor.segmenter)
    px = pixel_size or (groups[0].pixel_size if groups else None)
    dt = frame_interval or (groups[0].frame_interval if groups else None)
    return Prediction(list(groups), results, predictor.name, tta=tta, specialised=specialise, pooled=fits,
                      alpha_unpooled=alpha_unpooled if fits else None, andi=andi, pixel_size=px, frame_interval=dt)


def as_predictor(model, window: int | str | None = "model", batch_size: int = 512, loc_noise: float | None = None):
    """``model`` itself if it is a :class:`~andimamba.predict.Predictor`, else the one
    :func:`~andimamba.predict.load_predictor` loads for that name or run folder with these settings."""
    from .predict import Predictor, load_predictor

    pred = model if isinstance(model, Predictor) else load_predictor(model, window=window, batch_size=batch_size,
                                                                    loc_noise=loc_noise)
    pred.preload(after=(_preload_csv, _preload_em))  # the compiled kernels (the table writer's and the pooling's too)
    return pred  # load, or compile once per install, while the caller reads its input


def _preload_csv() -> None:
    from .io._csv_kernels import preload  # imported here, in the loader's thread: numba's import (0.3 s) overlaps
                                          # the caller reading its input instead of delaying it
    preload()


def _preload_em() -> None:
    from .mixture_em import preload

    preload()


def predict_file(path, format: str = "auto", *, pixel_size: float | None = None, frame_interval: float | None = None,
                 columns=None, units: str | None = None, min_length: int = SHORT_MIN_LENGTH, model="bimamba", tta: bool = False,
                 specialise: bool = False, specialise_steps: int | None = None, window: int | str | None = "model",
                 batch_size: int = 512, loc_noise: float | None = None, progress: bool = False, pool: bool = True) -> Prediction:
    """Read one track file (any format :func:`andimamba.io.read_tracks` knows) and predict.

    Parameters
    ----------
    path : str or path-like
        Track file: AnDi CSV, tidy table (trackpy, quot, MOSAIC, ...), TrackMate CSV/XML.
    format, columns, units
        As in :func:`andimamba.io.read_tracks`.
    pixel_size : float, optional
        µm per pixel: converts µm/nm positions and reports K also in µm²/s^α.
    frame_interval : float, optional
        Seconds per frame.
    min_length : int
        Shorter tracks are skipped and listed (:attr:`Prediction.skipped`); tracks of 6–19 frames
        get one α and K each (regime ``short``).
    model : str, path or Predictor
        ``"bimamba"`` (default), ``"bilstm"``, ``"classical"``, a trained run folder, or a loaded
        :class:`~andimamba.predict.Predictor`.
    tta, specialise, specialise_steps, pool
        See :func:`run_predictor` (the whole file is one experiment for ``specialise`` and ``pool``).
    window : int, None or "model"
        Tracks longer than this run in half-overlapping windows of this length; None: whole;
        ``"model"`` (default): the window stored with the model (200 frames for the shipped ones).
    batch_size : int
        Tracks per forward pass.
    loc_noise : float, optional
        Localisation noise std per coordinate (px), sharpens the short-track estimates.
    progress : bool
        Progress bars.

    Returns
    -------
    Prediction
    """
    from .io import read_tracks

    pred = as_predictor(model, window, batch_size, loc_noise)
    tracks = read_tracks(path, format=format, pixel_size=pixel_size, frame_interval=frame_interval, columns=columns,
                         units=units, min_length=min_length)
    return run_predictor([tracks], pred, tta=tta, specialise=specialise, specialise_steps=specialise_steps,
                         pixel_size=pixel_size, frame_interval=frame_interval, progress=progress, pool=pool)


def predict_folder(path, *, min_length: int = SHORT_MIN_LENGTH, model="bimamba", tta: bool = False, specialise: bool = False,
                   specialise_steps: int | None = None, window: int | str | None = "model", batch_size: int = 512,
                   loc_noise: float | None = None, progress: bool = False, pool: bool = True) -> Prediction:
    """Read an AnDi-2 challenge folder (``track_2/exp_E/trajs_fov_J.csv``, pixels) and predict.

    Parameters are those of :func:`predict_file` (no format, units or calibration: challenge
    files are in pixels and frames); ``specialise`` and ``pool`` work per ``exp_E``. Returns a :class:`Prediction` in folder mode, whose
    :meth:`~Prediction.write_submission` writes the official submission layout.
    """
    from .io import read_andi_folder

    pred = as_predictor(model, window, batch_size, loc_noise)
    groups = read_andi_folder(path, min_length=min_length)
    return run_predictor(groups, pred, tta=tta, specialise=specialise, specialise_steps=specialise_steps, andi=True,
                         progress=progress, pool=pool)
