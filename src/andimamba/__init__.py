"""andimamba: anomalous-diffusion analysis of single-particle tracks with a bidirectional Mamba.

The DataFrame API (trackpy style; see :mod:`andimamba.api`)::

    import andimamba as am

    segs = am.characterize(df, pixel_size=0.107, frame_interval=0.05)  # one row per segment, keyed by your track id
    df2 = am.annotate(df)                                               # your rows + per-frame alpha, K, state, cp_prob
    segs = am.analyze_folder("challenge/", submission="sub/")          # AnDi-2 folders

Data flow (one subpackage or module per stage)::

    sim/ -> nn/ (features, network) -> segments -> io/, metrics, plots -> pipeline, api -> cli

Names are imported on first use, so ``import andimamba`` stays light (no torch, pandas or numba
until a function needs them).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "characterize": "andimamba.api",
    "annotate": "andimamba.api",
    "analyze_folder": "andimamba.api",
    "predict_file": "andimamba.pipeline",
    "predict_folder": "andimamba.pipeline",
    "Prediction": "andimamba.pipeline",
    "Predictor": "andimamba.predict",
    "load_predictor": "andimamba.predict",
    "available_models": "andimamba.predict",
    "read_tracks": "andimamba.io",
    "tracks_from_dataframe": "andimamba.io",
    "Tracks": "andimamba.io",
    "UserError": "andimamba.errors",
}

# submodules reachable as attributes without importing them first (``am.plots.plot_track``)
_SUBMODULES = ("api", "pipeline", "predict", "plots", "io", "errors")

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"andimamba.{name}")
    else:
        raise AttributeError(f"module 'andimamba' has no attribute {name!r}")
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))
