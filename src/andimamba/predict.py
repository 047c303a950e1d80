"""Running a model on tracks: per-frame outputs (optionally averaged over the 8 rotations and
reflections of each track), segments, and the model registry of shipped weights.

Shipped models live in ``andimamba/weights/<name>/`` (``model.safetensors`` + ``config.json`` +
``MODEL_CARD.md``); ``load_predictor("bimamba")`` loads one, ``load_predictor("path/to/run")`` a
run directory of ``andimamba train``, and ``load_predictor("classical")`` the classical method (:mod:`andimamba.classical`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .andi2 import ALPHA_DIRECTED
from .batch import TrackBatch
from .errors import ModelNotFoundError, UserError
from .options import opt
from .segments import SegmenterConfig, segment_batch
from .short_tracks import SHORT_MAX_LENGTH

WEIGHTS_DIR = Path(__file__).parent / "weights"
DEFAULT_MODEL = "bimamba"

# the 8 symmetries of the square acting on (x, y): optional swap, then sign flips
_DIHEDRAL = [(swap, sx, sy) for swap in (False, True) for sx in (1, -1) for sy in (1, -1)]


def available_models() -> list[str]:
    """Names of the shipped models (plus ``classical``)."""
    names = sorted(p.name for p in WEIGHTS_DIR.iterdir() if (p / "config.json").is_file()) if WEIGHTS_DIR.is_dir() else []
    return names + ["classical"]


def resolve_model_path(name_or_path: str | Path) -> Path:
    """Directory holding ``config.json`` + ``model.safetensors`` for a shipped name or a path."""
    p = Path(name_or_path)
    if (WEIGHTS_DIR / str(name_or_path) / "config.json").is_file():
        return WEIGHTS_DIR / str(name_or_path)
    if p.is_dir() and (p / "config.json").is_file():
        return p
    if p.is_file() and p.name in ("config.json", "model.safetensors"):
        return p.parent
    raise ModelNotFoundError(f"model {str(name_or_path)!r} not found: give one of {', '.join(available_models())} "
                            "or a folder with config.json and model.safetensors (an `andimamba train` run)")


def _preload_features() -> None:
    from .nn.features_numba import preload  # imports numba in the background thread too

    preload()


class Predictor:
    """A model (or the classical method) plus the per-frame → segments step.

    Parameters
    ----------
    model : AnDiNet or None
        None means the classical method (:mod:`andimamba.classical`).
    segmenter : SegmenterConfig, optional
    window : int or None
        Tracks longer than ``window`` frames are processed in overlapping windows of that length
        (half-overlap, outputs blended with triangular weights); None processes every track whole.
    batch_size : int
    name : str
        Label of the model in outputs.
    loc_noise : float, optional
        Localisation noise std per coordinate (px), when known: used by the short-track estimator.
    pooling : PoolingConfig, optional
        The network's segment-α errors (from ``tune-segmenter``), which per-experiment pooling needs
        (:mod:`andimamba.pooling`, applied by :func:`andimamba.pipeline.run_predictor`); None: no pooling.

    Notes
    -----
    :meth:`predict` sends tracks of at most ``SHORT_MAX_LENGTH`` (19) frames to the short-track
    estimator (:func:`andimamba.short_tracks.estimate_short`, one α and K per track, ``regime =
    "short"``), and longer tracks to the model (change points and segments, ``regime = "full"``).
    """

    def __init__(self, model=None, segmenter: SegmenterConfig | None = None, window: int | None = None, batch_size: int = 512, name: str = "",
                 loc_noise: float | None = None, pooling=None):
        self.model = model
        self.loc_noise = loc_noise
        self.pooling = pooling
        self.segmenter = segmenter or SegmenterConfig()
        self.window = window
        self.batch_size = int(batch_size)
        self.name = name

    @property
    def is_classical(self) -> bool:
        return self.model is None

    def preload(self, after=()) -> None:
        """Start loading the network's compiled CPU kernels (the fused Mamba block; the features) in background threads
        (on a fresh install: compiling them in child processes, ~9 s and ~4 s), so that it overlaps reading the
        input; the first forward pass waits for them if needed.

        ``after``: further loaders (callables) run one after another behind the features kernel, in its thread: on a
        fresh install at most two compiles then run at once, and the Mamba block's, the longest, keeps a core to
        itself (``benchmarks/bench_startup.py``)."""
        import threading

        cfg = getattr(self.model, "config", None)
        if cfg is None or next(self.model.parameters()).device.type != "cpu":
            for load in after:
                threading.Thread(target=load, name="andimamba-preload", daemon=True).start()
            return
        if cfg.arch == "bimamba" and cfg.scan_impl == "auto":
            from .nn.mamba_fused import preload

            threading.Thread(target=preload, name="andimamba-preload", daemon=True).start()

        def others():
            _preload_features()
            for load in after:
                load()

        threading.Thread(target=others, name="andimamba-preload-features", daemon=True).start()

    def _raw(self, positions: np.ndarray, lengths: np.ndarray) -> dict:
        out = self.model.predict(TrackBatch(positions=positions.astype(np.float32), lengths=lengths), chunk_size=self.batch_size)
        return {k: out[k] for k in ("state_prob", "cp_prob", "alpha", "log_K")}

    def _tta(self, positions: np.ndarray, lengths: np.ndarray, tta: bool) -> dict:
        if not tta:
            return self._raw(positions, lengths)
        acc = None
        for swap, sx, sy in _DIHEDRAL:
            p = positions[..., ::-1] if swap else positions
            p = np.ascontiguousarray(p * np.array([sx, sy], dtype=positions.dtype))
            o = self._raw(p, lengths)
            acc = o if acc is None else {k: acc[k] + o[k] for k in acc}
        return {k: v / len(_DIHEDRAL) for k, v in acc.items()}

    def frame_outputs(self, positions: np.ndarray, lengths: np.ndarray, tta: bool = False) -> dict:
        """Per-frame outputs for a padded batch: ``state_prob`` (b, l, 4), ``cp_prob``, ``alpha``,
        ``log_K`` (b, l)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        W = self.window
        if W is None or lengths.max() <= W:
            return self._tta(positions, lengths, tta)
        b, l, _ = positions.shape
        out = {"state_prob": np.zeros((b, l, 4)), "cp_prob": np.zeros((b, l)), "alpha": np.zeros((b, l)), "log_K": np.zeros((b, l))}
        wsum = np.zeros((b, l))
        hop = W // 2
        tri = 1.0 - np.abs(np.arange(W) - (W - 1) / 2) / (W / 2) + 1e-3  # (W,) triangular blend weights
        # window starts per track; a window is cut for every track that reaches it
        for s in range(0, int(lengths.max()), hop):
            rows = np.flatnonzero(lengths > s)
            if rows.size == 0:
                break
            seg_len = np.minimum(lengths[rows] - s, W)
            # short tail windows: shift back so every window has W frames when the track allows
            start = np.where(seg_len < W, np.maximum(lengths[rows] - W, 0), s)
            seg_len = np.minimum(lengths[rows] - start, W)
            pos = np.zeros((rows.size, W, 2), positions.dtype)
            for i, (r, a, n) in enumerate(zip(rows, start, seg_len)):
                pos[i, :n] = positions[r, a : a + n] - positions[r, a]
            o = self._tta(pos, seg_len, False)
            for i, (r, a, n) in enumerate(zip(rows, start, seg_len)):
                w = tri[:n]
                for k in out:
                    v = o[k][i, :n]
                    out[k][r, a : a + n] += v * (w[:, None] if v.ndim == 2 else w)
                wsum[r, a : a + n] += w
            if (s + W) >= lengths.max():
                break
        wsum = np.maximum(wsum, 1e-12)
        for k in out:
            out[k] = out[k] / (wsum[..., None] if out[k].ndim == 3 else wsum)
        return out

    def predict(self, tracks, tta: bool = False, progress: bool = False, desc: str = "tracks", cps: list | None = None) -> list:
        """Segments of every track of a :class:`~andimamba.io.tracks.Tracks` (in its order).

        Tracks are batched ``batch_size`` at a time, sorted by length so that little padding is computed.

        Parameters
        ----------
        tracks : Tracks
            Positions in pixels, one position per frame.
        tta : bool
            Average the model over the 8 rotations/reflections of each track (ignored by ``classical``).
        progress : bool
            Show a progress bar.
        desc : str
            Progress bar label.
        cps : list of array_like, optional
            Change points of each track (in its order) to keep instead of finding them; the segments' α, K and
            state then come from this network (the specialised pass keeps the first pass's). Ignored for
            short tracks (one segment) and by ``classical``.

        Returns
        -------
        list of SegmentResult
        """
        batch, ids = tracks.to_batch()
        if cps is not None and len(cps) != len(ids):
            raise ValueError(f"cps: {len(cps)} lists for {len(ids)} tracks")
        return self._predict_arrays(batch.positions, batch.lengths, ids, tracks.first_frames, tta, progress, desc, cps)

    def predict_groups(self, groups, tta: bool = False, progress: bool = False, desc: str = "tracks") -> list[list]:
        """:meth:`predict` of several :class:`~andimamba.io.tracks.Tracks` at once, the network's batches filled
        across them (the fields of view of an AnDi-2 folder hold a few dozen tracks each).

        A track gets the same result as in :meth:`predict` of all the groups' tracks as one ``Tracks`` (up to the
        float32 rounding of batched matrix products, which depends on a batch's make-up).

        Returns
        -------
        list of list of SegmentResult
            One list per group, in its track order.
        """
        packed = [g.to_batch() for g in groups]
        if not packed:
            return []
        l = max((int(b.positions.shape[1]) for b, _ in packed), default=0)
        pos = np.concatenate([np.pad(b.positions, [(0, 0), (0, l - b.positions.shape[1]), (0, 0)]) for b, _ in packed])  # (Σb, l, 2)
        lengths = np.concatenate([b.lengths for b, _ in packed])
        ids = [i for _, g_ids in packed for i in g_ids]
        first = np.concatenate([np.asarray(g.first_frames) for g in groups])
        flat = self._predict_arrays(pos, lengths, ids, first, tta, progress, desc)
        edges = np.cumsum([0] + [len(g_ids) for _, g_ids in packed])
        return [flat[a:b] for a, b in zip(edges[:-1], edges[1:])]

    def _predict_arrays(self, positions, lengths, ids, first_frames, tta: bool, progress: bool, desc: str, cps=None) -> list:
        """Segments of padded tracks: (b, l, 2) px, (b,) lengths; short tracks apart, the rest batched by length."""
        from tqdm.auto import tqdm

        results = [None] * len(ids)
        short = np.flatnonzero(lengths <= SHORT_MAX_LENGTH)
        if short.size:
            for i, r in zip(short, self.predict_short(positions[short, :SHORT_MAX_LENGTH], lengths[short],
                                                      [ids[i] for i in short], first_frames[short])):
                results[i] = r
        full = np.flatnonzero(lengths > SHORT_MAX_LENGTH)
        order = full[np.argsort(lengths[full])]  # similar lengths together: less padding
        bs = self.batch_size
        for s in tqdm(range(0, len(order), bs), disable=not progress, desc=desc, unit="batch"):
            rows = order[s : s + bs]
            l = int(lengths[rows].max())
            res = self.predict_batch(positions[rows, :l], lengths[rows], [ids[i] for i in rows], first_frames[rows], tta=tta,
                                     cps=None if cps is None else [cps[i] for i in rows])
            for i, r in zip(rows, res):
                results[i] = r
        return results

    def predict_short(self, positions: np.ndarray, lengths: np.ndarray, ids=None, first_frames=None) -> list:
        """One segment per track (``regime = "short"``) for tracks of 3–40 frames.

        α and K from :func:`andimamba.short_tracks.estimate_short`; the state is directed when
        α ≥ 1.9 (the AnDi-2 label rule), immobile with α = K = 0 for a track that never moves,
        else free (confinement cannot be told from so few frames).
        """
        from .result import SegmentResult
        from .short_tracks import estimate_short

        lengths = np.asarray(lengths, dtype=np.int64)
        alpha, K = estimate_short(positions, lengths, sigma=self.loc_noise)
        ids = [str(i) for i in range(len(lengths))] if ids is None else ids
        first = np.zeros(len(lengths), np.int64) if first_frames is None else first_frames
        out = []
        for tid, T, a, k, f in zip(ids, lengths, alpha, K, first):
            state = 0 if k <= 0 else (3 if a >= ALPHA_DIRECTED else 2)
            a = 0.0 if state == 0 else float(a)
            out.append(SegmentResult(tid, int(T), cps=[], alphas=[a], Ks=[float(k)], states=[state], first_frame=int(f), regime="short"))
        return out

    def predict_batch(self, positions: np.ndarray, lengths: np.ndarray, ids=None, first_frames=None, tta: bool = False,
                      cps: list | None = None):
        """Segments of every track of a padded batch (list of ``SegmentResult``); ``cps``: change points to keep
        (see :meth:`predict`)."""
        if self.is_classical:
            from .classical import segment_batch_classical

            return segment_batch_classical(positions, lengths, ids, first_frames)
        out = self.frame_outputs(positions, lengths, tta)
        return segment_batch(out, lengths, ids, first_frames, self.segmenter, cps=cps)


def load_predictor(name_or_path: str | Path = DEFAULT_MODEL, device: str = "cpu", window: int | None | str = "model", batch_size: int = 512,
                   loc_noise: float | None = None) -> Predictor:
    """Load a shipped model by name, a trained run directory, or ``"classical"``.

    ``window="model"`` (default) takes the checkpoint's window (its training length, 200 frames for the
    shipped models); an int sets another, None runs every track whole. The segmenter is the checkpoint's.
    """
    if str(name_or_path) == "classical":
        return Predictor(None, name="classical", loc_noise=loc_noise)
    from .checkpoint import load_checkpoint

    path = resolve_model_path(name_or_path)
    try:
        ck = load_checkpoint(path, device=device)
    except Exception as exc:  # safetensors raises its own error type for corrupt files
        raise UserError(f"cannot load model from {path}: {str(exc).splitlines()[0]} — re-train it or pick another "
                        f"{opt('model')}") from None
    return Predictor(ck.model, segmenter=ck.segmenter, window=ck.window if window == "model" else window, batch_size=batch_size,
                     name=str(name_or_path), loc_noise=loc_noise, pooling=ck.pooling)
