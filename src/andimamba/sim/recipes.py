"""Fixed experiment lists: the organisers' published AnDi-2 benchmark and our earlier hand-made nine.

Used by ``benchmarks/andi2_benchmark.py`` (the benchmark), ``benchmarks/decision_levers.py`` and
:func:`andimamba.tuning.tuning_set` (another realisation of the published recipe, with its own seed).

``published`` (the default) is the benchmark dataset of the 2nd AnDi Challenge as the organisers
generate it in andi-datasets' tutorial ``source_nbs/tutorials/challenge_two_benchmark.ipynb``
(andi_datasets 2.1.13, "Benchmark Dataset of the 2nd AnDi Challenge", data on Zenodo,
doi:10.5281/zenodo.14281478): nine hand-picked experiments (no random parameter draws), each
started from ``_get_dic_andi2(model)`` (T = 200, L = 1.8·128 = 230.4 px, default trap radius
0.4) with the overrides below, ``N`` raised to at least 100 particles per FOV, and 30 FOVs per
experiment, each FOV its own simulation cut by ``challenge_phenom_dataset`` (128 px FOV,
tracks ≥ 20 frames, label filter window 5 / min segment 3, noise std 0.12 px).

Differences from the tutorial that do not change the per-track distributions: the tutorial draws
trap positions / compartment centres once per FOV into one shared dictionary, so every FOV of an
experiment ends up with the last draw; here (and in andi's own generator when it is not given
positions) each FOV gets its own trap layout, and our confinement model draws one compartment
layout per particle, as andi-datasets does without ``comp_center``. Particles do not interact with
other particles in these two models, so each track's law is the same.

Our folders are ``exp_0`` … ``exp_8``; the organisers number the same experiments 1 … 9.

``legacy`` is the nine-experiment set this script used before (our own parameters "modelled on"
the benchmark); kept to compare old and new numbers.
"""

from __future__ import annotations

import numpy as np

from .params import CHALLENGE_L, CHALLENGE_N, ExperimentParams

N_MIN = 2 * CHALLENGE_N  # the tutorial raises every experiment's N to at least 100


def published() -> list[tuple[str, ExperimentParams]]:
    """The nine experiments of the published AnDi-2 benchmark (description, parameters)."""
    L = CHALLENGE_L
    # EXP 1: 3-state multi-state (Sungkaworn et al. 2017): K differs, α = 1 in all states
    M1 = np.array([[1 - 0.024 - 0.03, 0.024, 0.03], [0.016, 1 - 0.016 - 0.064, 0.064], [0.037, 0.140, 1 - 0.037 - 0.140]])
    e1 = ExperimentParams(model="multi_state", alphas=[[1, 0.0001], [1, 0.01], [1, 0.01]], Ks=[[0.15, 0.01], [0.33, 0.001], [0.95, 0.01]],
                          M=M1, N=N_MIN, L=L)
    # EXP 2: dimerization (Low-Nam et al. 2011), dense, very slow dimer
    e2 = ExperimentParams(model="dimerization", alphas=[[1, 0.1], [1.1, 0.01]], Ks=[[0.28, 0.001], [0.0035, 0.0001]],
                          r=0.5, Pb=1.0, Pu=0.1, N=CHALLENGE_N * 15, L=L)
    # group 1 (EXP 3-5): one free state, three ways of "trapping"
    a_g1, K_g1 = [[1, 0.005], [0.2, 0.001]], [[1, 0.1], [0.01, 0.001]]
    res_trap = 60  # expected residence time in the trapped state
    e3 = ExperimentParams(model="immobile_traps", alphas=[a_g1[0]], Ks=[K_g1[0]], r=0.4, Pb=0.7, Pu=1 / res_trap, Nt=500, N=N_MIN, L=L)
    e4 = ExperimentParams(model="confinement", alphas=a_g1, Ks=K_g1, r=2.0, trans=0.1, Nc=150, N=N_MIN, L=L)
    e5 = ExperimentParams(model="dimerization", alphas=a_g1, Ks=K_g1, r=0.35, Pb=1.0, Pu=1 / res_trap, N=CHALLENGE_N * 10, L=L)
    # group 2 (EXP 6-7): identical (α, K) states, dimerization vs multi-state with matched residence times
    a_g2, K_g2 = [[0.7, 0.10], [1.2, 0.01]], [[0.1, 0.1], [1.0, 0.01]]
    Pu_g2 = 0.05
    res_dim = 1 / Pu_g2
    res_free = res_dim / 0.25 * 0.75  # 75 % free, 25 % dimer
    M_g2 = [[1 - 1 / res_free, 1 / res_free], [Pu_g2, 1 - Pu_g2]]
    e6 = ExperimentParams(model="dimerization", alphas=a_g2, Ks=K_g2, r=1.0, Pb=1.0, Pu=Pu_g2, N=100, L=L)
    e7 = ExperimentParams(model="multi_state", alphas=a_g2, Ks=K_g2, M=M_g2, N=100, L=L)
    # EXP 8: single state, very broad α (variance 10) and K (variance 100)
    e8 = ExperimentParams(model="single_state", alphas=[[1, 10]], Ks=[[1, 100]], N=N_MIN, L=L)
    # EXP 9: fast trapping, superdiffusive free state
    e9 = ExperimentParams(model="immobile_traps", alphas=[[1.99, 0.01]], Ks=[[1, 0.01]], r=1.5, Pb=0.7, Pu=1 / 5, Nt=1000, N=N_MIN, L=L)
    return [
        ("EXP 1: 3-state multi-state, K in {0.15, 0.33, 0.95}, alpha 1", e1),
        ("EXP 2: dimerization N=750, K 0.28 / 0.0035, Pu 0.1", e2),
        ("EXP 3: quenched traps Nt=500 r=0.4, Pb 0.7, Pu 1/60", e3),
        ("EXP 4: confinement Nc=150 r=2, (1, 1) / (0.2, 0.01)", e4),
        ("EXP 5: dimerization N=500 r=0.35, (1, 1) / (0.2, 0.01), Pu 1/60", e5),
        ("EXP 6: dimerization N=100 r=1, (0.7, 0.1) / (1.2, 1.0), Pu 0.05", e6),
        ("EXP 7: multi-state, (0.7, 0.1) / (1.2, 1.0), residence 60 / 20", e7),
        ("EXP 8: single state, alpha var 10, K var 100", e8),
        ("EXP 9: fast traps Nt=1000 r=1.5, alpha 1.99, Pb 0.7, Pu 1/5", e9),
    ]


# Population weights the tutorial prints for its own realisation (file_nonOverlap_reOrg, frames per
# hidden state over the 30 FOVs; traps: [immobile, free], confinement: [free, confined],
# dimerization: [free, dimer]); a check on any realisation of the recipe.
PUBLISHED_WEIGHTS = [[0.31, 0.47, 0.22], [0.76, 0.24], [0.11, 0.89], [0.45, 0.55], [0.69, 0.31], [0.86, 0.14], [0.75, 0.25], [1.0], [0.55, 0.45]]


def legacy() -> list[tuple[str, ExperimentParams]]:
    """The nine hand-made experiments this benchmark used before (description, parameters)."""
    L = CHALLENGE_L
    v = 0.01  # α variance; K variances are 1 % of the mean
    def two(a1, k1, a2, k2):
        return {"alphas": [[a1, v], [a2, v]], "Ks": [[k1, 0.01 * k1], [k2, 0.01 * k2]]}

    return [
        ("3-state multi-state, alpha = K in {0.15, 0.55, 0.95}",
         ExperimentParams(model="multi_state", alphas=[[0.15, v], [0.55, v], [0.95, v]], Ks=[[0.15, 0.0015], [0.55, 0.0055], [0.95, 0.0095]],
                          M=[[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98]], L=L)),
        ("dense dimerization, very slow dimer", ExperimentParams(model="dimerization", **two(1.0, 1.0, 0.8, 0.005), N=250, r=0.6, Pu=0.01, Pb=1.0, L=L)),
        ("quenched traps, long residence", ExperimentParams(model="immobile_traps", alphas=[[0.9, v]], Ks=[[1.0, 0.01]], Nt=300, r=0.5, Pu=0.002, Pb=1.0, L=L)),
        ("transient confinement, small compartments, alpha 0.2 inside", ExperimentParams(model="confinement", **two(1.0, 1.0, 0.2, 0.1), r=2.5, Nc=60, trans=0.1, L=L)),
        ("dense dimerization sharing those two states", ExperimentParams(model="dimerization", **two(1.0, 1.0, 0.2, 0.1), N=250, r=0.6, Pu=0.01, Pb=1.0, L=L)),
        ("dimerization, (0.7, 0.1)/(1.2, 1.0)", ExperimentParams(model="dimerization", **two(1.2, 1.0, 0.7, 0.1), N=150, r=0.6, Pu=0.01, Pb=1.0, L=L)),
        ("multi-state, (0.7, 0.1)/(1.2, 1.0)", ExperimentParams(model="multi_state", **two(1.2, 1.0, 0.7, 0.1), M=[[0.99, 0.01], [0.01, 0.99]], L=L)),
        ("single state, broad alpha and K", ExperimentParams(model="single_state", alphas=[[1.0, 0.2]], Ks=[[1.0, 0.5]], L=L)),
        ("fast trapping, superdiffusive free state alpha 1.99", ExperimentParams(model="immobile_traps", alphas=[[1.99, 0.0001]], Ks=[[1.0, 0.01]], Nt=300, r=0.5, Pu=0.1, Pb=1.0, L=L)),
    ]


RECIPES = {"published": published, "legacy": legacy}
