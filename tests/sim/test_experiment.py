import numpy as np

from andimamba.sim.experiment import experiment_streams, simulate_experiment
from andimamba.sim.layout import labels_txt, trajs_csv


def _bytes(fovs):
    return [trajs_csv(f) + labels_txt(f) for f in fovs]


def test_same_seed_same_bytes_any_worker_count():
    p1, f1 = simulate_experiment("multi_state", n_fovs=3, seed=5, progress=False)
    p2, f2 = simulate_experiment("multi_state", n_fovs=3, seed=5, workers=2, progress=False)
    assert p1.to_dict() == p2.to_dict()
    assert _bytes(f1) == _bytes(f2)
    # FOV j does not depend on how many FOVs are asked for
    _, f3 = simulate_experiment("multi_state", n_fovs=2, seed=5, progress=False)
    assert _bytes(f3) == _bytes(f1)[:2]


def test_different_seeds_differ():
    _, f1 = simulate_experiment("single_state", n_fovs=1, seed=1, progress=False)
    _, f2 = simulate_experiment("single_state", n_fovs=1, seed=2, progress=False)
    assert _bytes(f1) != _bytes(f2)


def test_fovs_and_workers_never_share_a_noise_stream():
    _, fov_ss = experiment_streams(0, 64)
    states = {tuple(ss.generate_state(4)) for ss in fov_ss}
    assert len(states) == 64
    _, fovs = simulate_experiment("single_state", n_fovs=4, seed=0, workers=2, progress=False)
    steps = [np.round(np.diff(t.xy, axis=0)[:5].ravel(), 9).tobytes() for f in fovs for t in f.tracks]
    assert len(steps) == len(set(steps)) > 20
