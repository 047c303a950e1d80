"""The padded batch of tracks that flows between the simulator, the features and the model.

Glossary: b = number of tracks, l = padded length (frames). A track ``i`` occupies frames
``0 .. lengths[i]-1``; frames beyond are padding (positions 0, labels 0, ``mask`` False).

Per-frame labels follow the AnDi-2 challenge ground truth after the challenge label filter:
``alpha[i, t]``, ``K[i, t]`` (px^2/frame^alpha) and ``state[i, t]`` (0 immobile, 1 confined,
2 free, 3 directed) describe frame ``t``; ``cp[i, t]`` is True when frame ``t`` is the first
frame of a new segment (0-based position within the track, never frame 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TrackBatch:
    """A padded batch of 2-D tracks with optional per-frame labels.

    Attributes
    ----------
    positions : ndarray, shape (b, l, 2), float32
        x, y in pixels; padding frames are 0.
    lengths : ndarray, shape (b,), int64
        Valid number of frames of each track.
    alpha, K : ndarray, shape (b, l), float32, optional
        Per-frame anomalous exponent and generalized diffusion coefficient (px^2/frame^alpha).
    state : ndarray, shape (b, l), int64, optional
        Per-frame diffusive state code (0 immobile, 1 confined, 2 free, 3 directed).
    cp : ndarray, shape (b, l), bool, optional
        True at the first frame of every segment but the first.
    """

    positions: np.ndarray
    lengths: np.ndarray
    alpha: np.ndarray | None = None
    K: np.ndarray | None = None
    state: np.ndarray | None = None
    cp: np.ndarray | None = None

    @property
    def mask(self) -> np.ndarray:
        """(b, l) bool, True on valid frames."""
        l = self.positions.shape[1]
        return np.arange(l)[None, :] < self.lengths[:, None]

    def __len__(self) -> int:
        return int(self.positions.shape[0])
