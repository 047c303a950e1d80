"""Scoring speed: andi-datasets' official scorer vs andimamba.metrics, on the same randomized experiment.

One experiment of N tracks (default 2,000) with the randomized predictions of
``tests/metrics/random_labels.py`` (perfect, jittered, missing, invalid values, lines without T, …), split
over FOVs of 100 tracks. Timed, on identical inputs:

1. reading the two label files (``load_file_to_df`` vs ``read_labels_file``);
2. the single-trajectory metrics (``error_SingleTraj_dataset`` vs ``single_trajectory_scores``);
3. the ensemble metric of one 2-state experiment (``error_Ensemble_dataset`` vs ``ensemble_scores``);
4. the folder end to end (``run_single_task`` + ``run_ensemble_task`` vs ``score_directory``).

The official scorer runs once (it takes seconds), ours best of ``--repeat``. Results must agree
(rtol 1e-9), else the script exits with an error.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_metrics.py [--tracks 2000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import scipy

from andimamba import andi2
from andimamba.metrics import ensemble_scores, read_labels_file, score_directory, single_trajectory_scores

KEYS = ["rmse_cp", "jsc_cp", "alpha_mae", "K_msle", "state_f1"]


def _random_experiment():
    """The randomized experiment generator of the metrics tests (one piece of code for both)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "metrics" / "random_labels.py"
    spec = importlib.util.spec_from_file_location("_random_labels", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.random_experiment


def timed(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_folder(root: Path, t_lines, p_lines, per_fov=100):
    """One experiment (exp_0), FOVs of per_fov tracks, truth and prediction sides, 2-state ensembles."""
    ref, res = andi2.exp_dir(root / "ref", 0), andi2.exp_dir(root / "res", 0)
    ref.mkdir(parents=True), res.mkdir(parents=True)
    def local(line, a):  # traj_idx counted from 0 in each FOV, as in the challenge files
        idx, *rest = line.split(",", 1)
        return ",".join([str(int(float(idx)) - a)] + rest) + "\n"

    by_idx = {int(float(x.split(",")[0])): x for x in p_lines}
    for j, a in enumerate(range(0, len(t_lines), per_fov)):
        chunk = t_lines[a:a + per_fov]
        andi2.truth_file(ref, j).write_text("".join(local(x, a) for x in chunk))
        ids = [int(x.split(",")[0]) for x in chunk]
        andi2.fov_file(res, j).write_text("".join(local(by_idx[i], a) for i in ids if i in by_idx))
    for d, m in ((ref, ENS_TRUE), (res, ENS_PRED)):
        andi2.ensemble_file(d).write_text(andi2.ensemble_text("multi_state", m))
    return root / "res", root / "ref"


ENS_TRUE = np.array([[1.1, 0.6], [0.01, 0.01], [1.0, 0.05], [0.01, 0.0005], [0.7, 0.3]])
ENS_PRED = np.array([[1.05, 0.7], [0.02, 0.01], [0.9, 0.04], [0.02, 0.0004], [0.65, 0.35]])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tracks", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of ours (best is kept)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    from andi_datasets import utils_challenge as uc

    print(f"machine: {cpu_name()} | cpus visible {len(os.sched_getaffinity(0))} | load {os.getloadavg()[0]:.1f} | "
          f"python {platform.python_version()} | numpy {np.__version__} | scipy {scipy.__version__}")
    t_lines, p_lines = _random_experiment()(np.random.default_rng(args.seed), args.tracks)
    n = len(t_lines)
    print(f"experiment: {n} tracks, {len(p_lines)} prediction lines, seed {args.seed}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tp, pp = Path(tmp) / "truth.txt", Path(tmp) / "pred.txt"
        tp.write_text("".join(x + "\n" for x in t_lines))
        pp.write_text("".join(x + "\n" for x in p_lines))

        t_off, (df_t, df_p) = timed(lambda: (uc.load_file_to_df(str(tp)), uc.load_file_to_df(str(pp))))
        t_our, (lab_t, lab_p) = timed(lambda: (read_labels_file(tp), read_labels_file(pp)), args.repeat)
        rows.append(("read 2 label files", t_off, t_our, n))

        t_off, off = timed(lambda: uc.error_SingleTraj_dataset(df_p, df_t, prints=False, disable_tqdm=True))
        t_our, our = timed(lambda: single_trajectory_scores(lab_t, lab_p), args.repeat)
        assert np.allclose([our[k] for k in KEYS], off, rtol=1e-9, atol=0), (our, off)
        rows.append(("single-trajectory metrics", t_off, t_our, n))

        t_off, off = timed(lambda: uc.error_Ensemble_dataset(ENS_TRUE.copy(), ENS_PRED.copy()))
        t_our, our = timed(lambda: ensemble_scores(ENS_TRUE, ENS_PRED), args.repeat)
        assert np.allclose(our, off, rtol=1e-9, atol=0), (our, off)
        rows.append(("ensemble metric (1 experiment)", t_off, t_our, None))

        res, ref = write_folder(Path(tmp), t_lines, p_lines)
        t_off, (off, _) = timed(lambda: uc.run_single_task([0], 2, str(res), str(ref)))
        t_off_e, (off_e, _) = timed(lambda: uc.run_ensemble_task([0], 2, str(res), str(ref)))
        t_our, (_, our, _) = timed(lambda: score_directory(res, ref), args.repeat)
        assert np.allclose([our[k] for k in KEYS] + [our["ensemble_alpha"], our["ensemble_K"]],
                           list(off) + list(off_e), rtol=1e-9, atol=0), (our, off, off_e)
        rows.append((f"folder end to end ({-(-n // 100)} FOVs)", t_off + t_off_e, t_our, n))

    print(f"{'task':34s} {'official':>12s} {'ours':>12s} {'speed-up':>9s}")
    for name, a, b, per in rows:
        unit = (lambda s: f"{1e3 * s / per:9.3f} ms/tr") if per else (lambda s: f"{1e3 * s:9.1f} ms   ")
        print(f"{name:34s} {unit(a):>12s} {unit(b):>12s} {a / b:8.1f}x")


if __name__ == "__main__":
    main()
