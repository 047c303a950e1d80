"""The deep model of the paper (Fig. 2b): a segmentation stage, then a K stage and an α stage.

Glossary: b = batch size, l = padded length (frames), F = number of feature channels
(:data:`andimamba.nn.features.N_FEATURES`), d = d_model.

Data flow (all per frame, padding zeroed at every step)::

    positions (b, l, 2), lengths (b,) ── compute_features ─> feats (b, l, F), log s (b,)
    feats (b, l, F) ── Linear ─ blocks ─ Linear ─> state logits (b, l, 4), CP logit (b, l)
       │                                                 │ softmax, sigmoid (soft: gradients flow back)
       └──────── concat [feats, p(state), p(CP)] (b, l, F + 5) ──┬─> K stage ─> log K_norm + 2·log s
                                                                 └─> α stage ─> α = 2·sigmoid(·) ∈ [0, 2]

Blocks are :class:`~andimamba.nn.bimamba.BiMambaBlock` (``arch="bimamba"``) or
:class:`~andimamba.nn.birnn.BiLSTMBlock` (``arch="bilstm"``). The K stage predicts log K in the
track's normalised units (positions divided by the scale s of :func:`andimamba.nn.features.compute_features`);
adding 2·log s gives log K in px²/frame^α.

The model owns its features: :meth:`AnDiNet.forward` takes positions and lengths and computes them, so
training, :meth:`AnDiNet.predict` and the ONNX export cannot feed it anything else.
:meth:`AnDiNet.forward_features` runs the network on precomputed features (tests, benchmarks).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from andimamba.batch import TrackBatch
from andimamba.nn.bimamba import BiMambaBlock
from andimamba.nn.birnn import BiLSTMBlock
from andimamba.nn.features import N_FEATURES, compute_features
from andimamba.nn.mamba import MambaConfig
from andimamba.nn.masking import length_mask

__all__ = ["ModelConfig", "AnDiNet", "count_parameters", "tiny", "paper", "N_STATES"]

N_STATES = 4  # AnDi-2 diffusive states: 0 immobile, 1 confined, 2 free, 3 directed
ARCHS = ("bimamba", "bilstm")
_PREDICT_KEYS = ("state_prob", "state", "cp_prob", "K", "log_K", "alpha")  # what AnDiNet.predict returns


@dataclass
class ModelConfig:
    """Architecture of :class:`AnDiNet`; serialisable with :meth:`to_dict` / :meth:`from_dict`."""

    arch: str = "bimamba"  # "bimamba" | "bilstm"
    n_features: int = N_FEATURES  # F, input channels
    d_model: int = 16  # D, width of every stage
    seg_layers: int = 2  # blocks in the segmentation stage
    k_layers: int = 1  # blocks in the K stage
    alpha_layers: int = 1  # blocks in the α stage
    d_state: int = 8  # N, Mamba state size (ignored by bilstm)
    expand: int = 2  # E, Mamba inner width factor (ignored by bilstm)
    d_conv: int = 4  # Mamba causal conv kernel size (ignored by bilstm)
    dropout: float = 0.0  # dropout inside each block's merge feed-forward
    scan_impl: str = "auto"  # selective-scan kernel, see andimamba.nn.scan
    per_channel_decay: bool = False  # Mamba variant with a scalar A per channel

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        for name in ("seg_layers", "k_layers", "alpha_layers"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def mamba(self) -> MambaConfig:
        """The :class:`MambaConfig` of every Mamba block of the model."""
        return MambaConfig(
            d_model=self.d_model,
            d_state=self.d_state,
            d_conv=self.d_conv,
            expand=self.expand,
            scan_impl=self.scan_impl,
            per_channel_decay=self.per_channel_decay,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of the fields."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        """Inverse of :meth:`to_dict`; unknown keys are an error (a config from another version)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown ModelConfig keys {sorted(unknown)}; known keys are {sorted(known)}")
        return cls(**d)


def tiny(arch: str = "bimamba", **overrides: Any) -> ModelConfig:
    """A very small config for tests and quick CPU runs (one block per stage, d_model 8, N 4)."""
    base = dict(arch=arch, d_model=8, seg_layers=1, k_layers=1, alpha_layers=1, d_state=4, expand=2)
    return ModelConfig(**{**base, **overrides})


def paper(arch: str = "bimamba", **overrides: Any) -> ModelConfig:
    """Paper-like size (under 20k parameters): d_model 12, N 8, E 2; two segmentation blocks, one each for K and α."""
    base = dict(arch=arch, d_model=12, seg_layers=2, k_layers=1, alpha_layers=1, d_state=8, expand=2)
    return ModelConfig(**{**base, **overrides})


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class _Stage(nn.Module):
    """Linear input projection (n_in -> d), a stack of bidirectional blocks, a per-frame linear head."""

    def __init__(self, config: ModelConfig, n_in: int, n_layers: int, n_out: int):
        super().__init__()
        d = config.d_model
        self.inp = nn.Linear(n_in, d)
        if config.arch == "bimamba":
            blocks = [BiMambaBlock(config.mamba(), config.dropout) for _ in range(n_layers)]
        else:
            blocks = [BiLSTMBlock(d, config.dropout) for _ in range(n_layers)]
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(d, n_out)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)  # (b, l, d)
        for block in self.blocks:
            h = block(h, lengths)  # (b, l, d)
        return self.head(h)  # (b, l, n_out)


class AnDiNet(nn.Module):
    """Segmentation + K + α network of Lavaud et al. (paper Fig. 2b) with per-frame outputs.

    Parameters
    ----------
    config : ModelConfig
        Architecture; ``config.n_features`` must equal :data:`~andimamba.nn.features.N_FEATURES`
        for :meth:`forward` (which computes the features).
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        f = config.n_features
        self.seg = _Stage(config, f, config.seg_layers, N_STATES + 1)
        self.k_stage = _Stage(config, f + N_STATES + 1, config.k_layers, 1)
        self.alpha_stage = _Stage(config, f + N_STATES + 1, config.alpha_layers, 1)

    def forward(self, positions: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-frame predictions for padded 2-D tracks (features computed here).

        Parameters
        ----------
        positions : Tensor, shape (b, l, 2)
            x, y in pixels; padding frames are ignored.
        lengths : Tensor, shape (b,), integer
            Valid lengths, ``0 <= lengths <= l``.

        Returns
        -------
        dict of Tensor
            As :meth:`forward_features`.
        """
        feats, log_s = compute_features(positions, lengths)  # (b, l, F), (b,)
        return self.forward_features(feats, log_s, lengths)

    def forward_features(
        self, feats: torch.Tensor, log_scale: torch.Tensor, lengths: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Per-frame predictions from precomputed features.

        Parameters
        ----------
        feats : Tensor, shape (b, l, F)
            Output of :func:`andimamba.nn.features.compute_features`.
        log_scale : Tensor, shape (b,)
            log of the per-track scale s (px), from the same call.
        lengths : Tensor, shape (b,), integer
            Valid lengths.

        Returns
        -------
        dict of Tensor, all exactly 0 on padding frames
            ``state_logits`` (b, l, 4); ``cp_logit`` (b, l), logit that the frame starts a new segment;
            ``log_K`` (b, l), natural log of K in px²/frame^α; ``alpha`` (b, l) in [0, 2].
        """
        b, l, f = feats.shape
        if f != self.config.n_features:
            raise ValueError(f"the model expects {self.config.n_features} feature channels, got {f}")
        lengths = torch.as_tensor(lengths, device=feats.device)
        mask = length_mask(lengths, l)[..., None]  # (b, l, 1)
        feats = torch.where(mask, feats, 0.0)  # (b, l, F)

        seg = self.seg(feats, lengths)  # (b, l, 5)
        state_logits, cp_logit = seg.split([N_STATES, 1], dim=-1)  # (b, l, 4), (b, l, 1)
        soft = torch.cat([feats, state_logits.softmax(-1), cp_logit.sigmoid()], dim=-1)  # (b, l, F + 5)
        soft = torch.where(mask, soft, 0.0)

        log_k_norm = self.k_stage(soft, lengths)  # (b, l, 1)
        log_K = log_k_norm + 2.0 * log_scale.to(log_k_norm.dtype)[:, None, None]  # (b, l, 1)
        alpha = 2.0 * torch.sigmoid(self.alpha_stage(soft, lengths))  # (b, l, 1)

        out = {
            "state_logits": state_logits,
            "cp_logit": cp_logit[..., 0],
            "log_K": log_K[..., 0],
            "alpha": alpha[..., 0],
        }
        m2 = mask[..., 0]  # (b, l)
        return {k: torch.where(m2[..., None] if v.dim() == 3 else m2, v, 0.0) for k, v in out.items()}

    def frame_predictions(self, positions: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-frame predictions in user terms: probabilities, the argmax state, K (the heads' logits kept too).

        What :meth:`predict` returns per chunk and what the ONNX export computes (one definition for both).
        Gradients are neither enabled nor disabled here.

        Parameters
        ----------
        positions : Tensor, shape (b, l, 2)
            x, y in pixels.
        lengths : Tensor, shape (b,), integer
            Valid lengths.

        Returns
        -------
        dict of Tensor, 0 on padding frames
            ``state_prob`` (b, l, 4), ``state`` (b, l) int64 argmax, ``cp_prob`` (b, l), ``K`` (b, l) in
            px²/frame^α, ``log_K`` (b, l), ``alpha`` (b, l), ``state_logits`` (b, l, 4), ``cp_logit`` (b, l).
        """
        out = self(positions, lengths)
        mask = length_mask(lengths, positions.shape[1])  # (b, l)
        logits = out["state_logits"]  # (b, l, 4)
        return {
            "state_prob": logits.softmax(-1) * mask[..., None],
            "state": logits.argmax(-1) * mask,
            "cp_prob": out["cp_logit"].sigmoid() * mask,
            "K": out["log_K"].exp() * mask,
            "log_K": out["log_K"],
            "alpha": out["alpha"],
            "state_logits": logits,
            "cp_logit": out["cp_logit"],
        }

    @torch.no_grad()
    def predict(self, batch: TrackBatch, chunk_size: int = 1024) -> dict[str, np.ndarray]:
        """Per-frame predictions for a :class:`~andimamba.batch.TrackBatch` (features computed here).

        Runs in eval mode without gradients (the previous train/eval mode is restored), on the
        device of the model's parameters, ``chunk_size`` tracks at a time.

        Returns
        -------
        dict of ndarray, 0 on padding frames
            ``state_prob`` (b, l, 4), ``state`` (b, l) int64 argmax, ``cp_prob`` (b, l),
            ``K`` (b, l) in px²/frame^α, ``log_K`` (b, l), ``alpha`` (b, l) (see :meth:`frame_predictions`).
        """
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        parts: list[dict[str, np.ndarray]] = []
        try:
            for i in range(0, len(batch), chunk_size):
                pos = torch.as_tensor(batch.positions[i : i + chunk_size], device=device)  # (c, l, 2)
                lengths = torch.as_tensor(batch.lengths[i : i + chunk_size], device=device)  # (c,)
                res = self.frame_predictions(pos, lengths)
                parts.append({k: res[k].cpu().numpy() for k in _PREDICT_KEYS})
        finally:
            self.train(was_training)
        if not parts:
            raise ValueError("predict needs at least one track")
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
