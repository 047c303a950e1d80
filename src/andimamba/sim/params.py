"""Experiment parameters of the five AnDi-2 phenomenological models, their validation and the
challenge's per-experiment draws (``andi_datasets.datasets_challenge._get_dic_andi2``).

Conventions (as andi-datasets): positions in pixels, time in frames, K in px²/frame^α, and every
``[mean, x]`` pair of a per-state distribution holds a **variance** ``x`` (not a std). Per-particle
values are drawn from normals truncated to α ∈ [0, 1.999] and K ∈ [1e-12, 1e6].
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import UserError

MODELS = ("single_state", "multi_state", "immobile_traps", "dimerization", "confinement")

# Challenge constants (andi_datasets.datasets_challenge._defaults_andi2)
CHALLENGE_T = 200
CHALLENGE_MIN_T = 20
CHALLENGE_FOV_L = 128
CHALLENGE_L = 1.8 * CHALLENGE_FOV_L
CHALLENGE_N = 50
CHALLENGE_SIGMA_NOISE = 0.12

_N_STATES = {"single_state": 1, "immobile_traps": 1, "dimerization": 2, "confinement": 2}


@dataclass
class ExperimentParams:
    """Parameters of one experiment (one simulated box per field of view).

    Attributes
    ----------
    model : str
        One of ``MODELS``.
    alphas, Ks : ndarray, shape (k, 2)
        Per-state ``[mean, variance]`` of α and of K (px²/frame^α). k = 1 for single_state and
        immobile_traps (the free state), 2 for dimerization (free, dimer) and confinement
        (free, confined), the number of Markov states for multi_state.
    N : int
        Particles per box (sets the density for traps and dimerization).
    T : int
        Frames simulated.
    L : float
        Side of the reflecting square box (px).
    M : ndarray, shape (k, k), optional
        multi_state transition matrix (row-stochastic, applied every frame).
    r : float
        Trap radius (immobile_traps), particle radius (dimerization; binding below 2r) or
        compartment radius (confinement), px.
    Pb, Pu : float
        Binding and unbinding probabilities per frame (traps, dimerization).
    Nt : int
        Number of traps. Nc : int, number of compartments. trans : float, probability of
        crossing a compartment boundary on an exit attempt.
    """

    model: str
    alphas: np.ndarray
    Ks: np.ndarray
    N: int = CHALLENGE_N
    T: int = CHALLENGE_T
    L: float = CHALLENGE_L
    M: np.ndarray | None = None
    r: float = 1.0
    Pb: float = 1.0
    Pu: float = 0.01
    Nt: int = 300
    Nc: int = 30
    trans: float = 0.1
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.alphas = np.atleast_2d(np.asarray(self.alphas, dtype=np.float64))
        self.Ks = np.atleast_2d(np.asarray(self.Ks, dtype=np.float64))
        if self.M is not None:
            self.M = np.asarray(self.M, dtype=np.float64)
        validate(self)

    @property
    def n_states(self) -> int:
        """Number of (α, K) states k."""
        return int(self.alphas.shape[0])

    def to_dict(self) -> dict:
        """JSON-serialisable dictionary."""
        d = asdict(self)
        for key in ("alphas", "Ks", "M"):
            if d[key] is not None:
                d[key] = np.asarray(d[key]).tolist()
        return d


def _fail(name: str, value, allowed: str) -> None:
    raise UserError(f"invalid parameter {name}={value!r}: allowed {allowed}")


def validate(p: ExperimentParams) -> None:
    """Raise ``ValueError`` with a one-line message naming the first bad parameter."""
    if p.model not in MODELS:
        _fail("model", p.model, "one of " + ", ".join(MODELS))
    if p.alphas.ndim != 2 or p.alphas.shape[1] != 2:
        _fail("alphas", p.alphas.tolist(), "a list of [mean, variance] pairs, one per state")
    if p.Ks.shape != p.alphas.shape:
        _fail("Ks", p.Ks.tolist(), f"{p.alphas.shape[0]} [mean, variance] pairs (one per state, like alphas)")
    k = p.alphas.shape[0]
    want = _N_STATES.get(p.model)
    if want is not None and k != want:
        _fail("alphas", p.alphas.tolist(), f"exactly {want} state(s) for model {p.model}")
    for i, (m, v) in enumerate(p.alphas):
        if not (0 < m < 2) or not np.isfinite(m):
            _fail(f"alphas[{i}] mean", float(m), "the open interval (0, 2)")
        if not (v >= 0) or not np.isfinite(v):
            _fail(f"alphas[{i}] variance", float(v), "a finite number >= 0")
    for i, (m, v) in enumerate(p.Ks):
        if not (m > 0) or not np.isfinite(m):
            _fail(f"Ks[{i}] mean", float(m), "a finite number > 0 (K in px^2/frame^alpha)")
        if not (v >= 0) or not np.isfinite(v):
            _fail(f"Ks[{i}] variance", float(v), "a finite number >= 0")
    if int(p.T) != p.T or p.T < 2:
        _fail("T", p.T, "an integer >= 2")
    if int(p.N) != p.N or p.N < 1:
        _fail("N", p.N, "an integer >= 1")
    if not (p.L > 0) or not np.isfinite(p.L):
        _fail("L", p.L, "a finite box size > 0")
    if p.model == "multi_state":
        if p.M is None:
            _fail("M", None, "a k x k transition matrix for multi_state")
        M = p.M
        if M.shape != (k, k):
            _fail("M", M.tolist(), f"a {k} x {k} matrix (one row and column per state)")
        if np.any(M < 0) or np.any(M > 1) or not np.allclose(M.sum(1), 1.0, atol=1e-8):
            _fail("M", M.tolist(), "non-negative rows that each sum to 1")
    for name in ("Pb", "Pu", "trans"):
        v = getattr(p, name)
        if not (0 <= v <= 1):
            _fail(name, v, "a probability in [0, 1]")
    if not (p.r > 0):
        _fail("r", p.r, "a radius > 0")
    if p.model == "immobile_traps" and (int(p.Nt) != p.Nt or p.Nt < 0):
        _fail("Nt", p.Nt, "an integer >= 0")
    if p.model == "confinement":
        if int(p.Nc) != p.Nc or p.Nc < 1:
            _fail("Nc", p.Nc, "an integer >= 1")
        if 2 * p.r >= p.L:
            _fail("r", p.r, f"a compartment radius smaller than half the box (L={p.L})")


def draw_truncated(params: np.ndarray, size: int, bounds: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Draw ``size`` values from N(mean, var) truncated to ``bounds`` (andi's ``gaussian``).

    Parameters
    ----------
    params : array_like, shape (2,) or (m, 2)
        ``[mean, variance]``; with shape (m, 2) one draw per row (``size`` must equal m).
    """
    params = np.asarray(params, dtype=np.float64)
    mean = params[..., 0] * np.ones(size)
    var = params[..., 1] * np.ones(size)
    lo, hi = bounds
    out = mean.copy()
    rnd = var > 0
    if np.any(rnd):
        from scipy.special import ndtr, ndtri

        sd = np.sqrt(var[rnd])
        a = (lo - mean[rnd]) / sd
        b = (hi - mean[rnd]) / sd
        # inverse-CDF sampling on the side of the distribution where the CDF is not saturated
        flip = a > 0
        a2, b2 = np.where(flip, -b, a), np.where(flip, -a, b)
        u = ndtr(a2) + rng.random(a2.shape) * (ndtr(b2) - ndtr(a2))
        z = np.clip(ndtri(u), a2, b2)
        out[rnd] = mean[rnd] + sd * np.where(flip, -z, z)
    return out


def challenge_params(model: str, rng: np.random.Generator, N: int = CHALLENGE_N, T: int = CHALLENGE_T) -> ExperimentParams:
    """Experiment parameters drawn as the AnDi-2 challenge did (``_get_dic_andi2``).

    single_state / immobile_traps: α mean ~ U(0.5, 1.5) (variance 0.01), K = 1 (variance 0.01).
    Two-state models: fast K ≈ 1 + 0.01·N(0,1), slow K = fast·U(0.01, 0.1); α₁ ~ U(0.8, 1.2),
    α₂ = α₁ − U(0.2, 0.6); variances 0.01 for α, 1 % of the mean for K.
    """
    if model not in MODELS:
        _fail("model", model, "one of " + ", ".join(MODELS))
    D = 1.0
    if model in ("single_state", "immobile_traps"):
        alphas = [[rng.random() * (1.5 - 0.5) + 0.5, 0.01]]
        Ks = [[D, D * 0.01]]
    else:
        fast = D + rng.standard_normal() * D * 0.01
        slow = fast * rng.random() * (0.1 - 0.01) + 0.01
        a1 = rng.random() * (1.2 - 0.8) + 0.8
        a2 = a1 - (rng.random() * (0.6 - 0.2) + 0.2)
        alphas = [[a1, 0.01], [a2, 0.01]]
        Ks = [[fast, fast * 0.01], [slow, slow * 0.01]]
    kw: dict = dict(model=model, alphas=alphas, Ks=Ks, N=N, T=T, L=CHALLENGE_L)
    if model == "multi_state":
        kw["M"] = [[0.99, 0.01], [0.01, 0.99]]
    elif model == "immobile_traps":
        kw.update(Pu=0.01, Pb=1.0, Nt=300, r=0.4)
    elif model == "dimerization":
        kw.update(Pu=0.01, Pb=1.0, r=0.6)
    elif model == "confinement":
        kw.update(r=5.0, Nc=30, trans=0.1)
    return ExperimentParams(**kw)
