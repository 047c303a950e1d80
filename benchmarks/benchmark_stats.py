"""What a benchmark set asks of a method: track, segment, state and parameter-jump statistics of
the ground truth of AnDi-2 reference folders, per experiment and overall.

Reads only the scored ground truth (``track_2/exp_E/traj_labs_fov_J.txt`` lines
``traj_idx, K1, α1, s1, CP1, …, Kn, αn, sn, T``, plus ``ensemble_labels.txt`` and ``params.json``
when present), so it describes exactly what the official metrics are computed against, for any
folder in that layout: one built by ``andi2_benchmark.py`` with our generator or andi-datasets'
(``ref_ours``, ``ref_andi``), or the organisers' own data.

Per experiment and over all tracks (pooled, as the scores are weighted by tracks):
tracks, FOVs, tracks per FOV; track length (mean, quartiles); change points per track and the
share of tracks with at least one; segment length (mean, quartiles, share < 10 frames; the first
and last segment of a track are cut by the track ends, as in the scored truth); state mix (share of
frames in state 0 immobile / 1 confined / 2 free / 3 directed); the experiment's ensemble weights;
α and K of segments (quartiles); the size of the parameter jump at each CP, |Δα| and |Δlog10 K|,
over CPs between two mobile segments (a CP into or out of an immobile segment has α, K = 0 on one
side: counted separately as "CPs at immobile").

Usage: ``python benchmarks/benchmark_stats.py NAME=FOLDER [NAME=FOLDER …] [--published-weights]``, e.g.
``new=/tmp/andi2bench/ref_ours andi=/tmp/andi2bench/ref_andi``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
from pathlib import Path

import numpy as np

from andimamba import andi2


def _fov_index(p: Path) -> int:
    return int(re.search(r"fov_(\d+)", p.name).group(1))


def read_experiment(exp_dir: Path) -> dict:
    """Per-track and per-segment arrays of one experiment folder."""
    files = sorted(exp_dir.glob(f"{andi2.TRUTH_PREFIX}fov_*.txt"), key=_fov_index)
    T, ncp, seg_len, seg_a, seg_K, seg_s = [], [], [], [], [], []
    da, dlk, cp_imm = [], [], 0
    for f in files:
        for line in f.read_text().splitlines():
            if not line.strip():
                continue
            r = andi2.parse_label_line(line)
            cps, a, K, s, n = r.cps, r.alphas, r.Ks, r.states.astype(int), r.T
            bounds = np.concatenate([[0], cps, [n]])
            T.append(n)
            ncp.append(len(cps))
            seg_len.append(np.diff(bounds))
            seg_a.append(a)
            seg_K.append(K)
            seg_s.append(s)
            mobile = s != 0
            both = mobile[1:] & mobile[:-1]
            cp_imm += int(np.sum(~both))
            da.append(np.abs(np.diff(a))[both])
            dlk.append(np.abs(np.diff(np.log10(np.maximum(K, 1e-12))))[both])
    cat = lambda x: np.concatenate(x) if x else np.array([])  # noqa: E731
    out = dict(n_fovs=len(files), T=np.array(T), ncp=np.array(ncp), seg_len=cat(seg_len), seg_a=cat(seg_a), seg_K=cat(seg_K),
               seg_s=cat(seg_s).astype(int), da=cat(da), dlk=cat(dlk), cp_imm=cp_imm)
    ens = andi2.ensemble_file(exp_dir)
    if ens.exists():
        txt = ens.read_text().splitlines()
        out["model"] = re.search(r"model:\s*([\w_]+)", txt[0]).group(1)
        out["weights"] = np.array([float(v) for v in txt[-1].split(";")])
    if (exp_dir / "params.json").exists():
        out["model"] = json.loads((exp_dir / "params.json").read_text())["model"]
    return out


def read_set(root: Path) -> dict[int, dict]:
    base = andi2.track_dir(root) if andi2.track_dir(root).is_dir() else root
    exps = sorted((int(p.name.split("_")[1]), p) for p in base.glob(andi2.EXP_GLOB) if p.is_dir())
    if not exps:
        raise SystemExit(f"{root}: no track_2/exp_*/ folders")
    return {e: read_experiment(p) for e, p in exps}


def pool(d: dict[int, dict]) -> dict:
    keys = ("T", "ncp", "seg_len", "seg_a", "seg_K", "seg_s", "da", "dlk")
    out = {k: np.concatenate([x[k] for x in d.values()]) for k in keys}
    out["n_fovs"] = sum(x["n_fovs"] for x in d.values())
    out["cp_imm"] = sum(x["cp_imm"] for x in d.values())
    return out


def _q(x: np.ndarray, fmt: str = ".2f") -> str:
    if len(x) == 0:
        return "–"
    q = np.percentile(x, [25, 50, 75])
    return f"{q[0]:{fmt}} / {q[1]:{fmt}} / {q[2]:{fmt}}"


def _mq(x: np.ndarray, fmt: str = ".1f") -> str:
    return "–" if len(x) == 0 else f"{np.mean(x):{fmt}} [{_q(x, fmt)}]"


def state_mix(s: np.ndarray, seg_len: np.ndarray) -> str:
    fr = np.bincount(s, weights=seg_len, minlength=4)[:4]
    fr = fr / fr.sum() if fr.sum() else fr
    return " / ".join(f"{v:.2f}" for v in fr)


def rows_tracks(name: str, d: dict[int, dict]) -> list[str]:
    head = ["", f"**{name}: tracks and segments**", "",
            "| exp | model | tracks | FOVs | tracks/FOV | track length mean [q1 / med / q3] | CPs/track | tracks with CP | "
            "segment length mean [q1 / med / q3] | segments < 10 fr | frames in state 0 / 1 / 2 / 3 | ensemble weights |",
            "|---|---|---:|---:|---:|---|---:|---:|---|---:|---|---|"]
    items = list(d.items()) + [("all", pool(d))]
    out = []
    for e, x in items:
        n = len(x["T"])
        w = " / ".join(f"{v:.2f}" for v in x["weights"]) if "weights" in x else ""
        out.append(f"| {e} | {x.get('model', '')} | {n} | {x['n_fovs']} | {n / max(x['n_fovs'], 1):.1f} | {_mq(x['T'])} | "
                   f"{np.mean(x['ncp']):.2f} | {np.mean(x['ncp'] > 0):.2f} | {_mq(x['seg_len'])} | {np.mean(x['seg_len'] < 10):.3f} | "
                   f"{state_mix(x['seg_s'], x['seg_len'])} | {w} |")
    return head + out


def rows_params(name: str, d: dict[int, dict]) -> list[str]:
    head = ["", f"**{name}: segment parameters and jumps at CPs** (quartiles q1 / median / q3)", "",
            "| exp | α of segments | K of segments | CPs | CPs at immobile | \\|Δα\\| at mobile CPs | \\|Δlog10 K\\| at mobile CPs | "
            "mobile CPs with \\|Δα\\| < 0.2 and \\|Δlog10 K\\| < 0.3 |",
            "|---|---|---|---:|---:|---|---|---:|"]
    items = list(d.items()) + [("all", pool(d))]
    out = []
    for e, x in items:
        ncp = int(np.sum(x["ncp"]))
        small = np.mean((x["da"] < 0.2) & (x["dlk"] < 0.3)) if len(x["da"]) else float("nan")
        out.append(f"| {e} | {_q(x['seg_a'])} | {_q(x['seg_K'], '.3g')} | {ncp} | {x['cp_imm'] / max(ncp, 1):.2f} | {_q(x['da'])} | "
                   f"{_q(x['dlk'])} | {small:.2f} |")
    return head + out


def rows_overall(sets: dict[str, dict[int, dict]]) -> list[str]:
    head = ["", "**Overall (all experiments pooled)**", "",
            "| set | tracks | tracks/FOV | track length mean [q1 / med / q3] | CPs/track | tracks with CP | segment length mean [q1 / med / q3] | "
            "segments < 10 fr | frames in state 0 / 1 / 2 / 3 | \\|Δα\\| at mobile CPs | \\|Δlog10 K\\| at mobile CPs | CPs at immobile |",
            "|---|---:|---:|---|---:|---:|---|---:|---|---|---|---:|"]
    out = []
    for name, d in sets.items():
        x = pool(d)
        n = len(x["T"])
        ncp = int(np.sum(x["ncp"]))
        out.append(f"| {name} | {n} | {n / max(x['n_fovs'], 1):.1f} | {_mq(x['T'])} | {np.mean(x['ncp']):.2f} | {np.mean(x['ncp'] > 0):.2f} | "
                   f"{_mq(x['seg_len'])} | {np.mean(x['seg_len'] < 10):.3f} | {state_mix(x['seg_s'], x['seg_len'])} | {_q(x['da'])} | "
                   f"{_q(x['dlk'])} | {x['cp_imm'] / max(ncp, 1):.2f} |")
    return head + out


def rows_weights(sets: dict[str, dict[int, dict]]) -> list[str]:
    """Each set's ensemble weights next to those the organisers' tutorial printed for its realisation."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from andimamba.sim.recipes import PUBLISHED_WEIGHTS

    names = list(sets)
    head = ["", "**Ensemble weights (frames per hidden state) vs the organisers' realisation** (traps: immobile / free; "
            "confinement: free / confined; dimerization: free / dimer; multi-state: states 1 / 2 / 3)", "",
            "| exp | published | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    out = []
    for e, w in enumerate(PUBLISHED_WEIGHTS):
        cells = [" / ".join(f"{v:.2f}" for v in sets[n][e]["weights"]) if e in sets[n] and "weights" in sets[n][e] else "–" for n in names]
        out.append(f"| {e} | {' / '.join(f'{v:.2f}' for v in w)} | " + " | ".join(cells) + " |")
    return head + out


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sets", nargs="+", help="NAME=FOLDER (a reference folder holding track_2/exp_*/traj_labs_fov_*.txt)")
    ap.add_argument("--published-weights", action="store_true", help="also compare each set's ensemble weights with those printed "
                    "by the organisers' benchmark tutorial (for sets built with --recipe published)")
    a = ap.parse_args()
    sets = {}
    for s in a.sets:
        name, _, folder = s.partition("=")
        if not folder:
            name, folder = Path(s).name, s
        sets[name] = read_set(Path(folder))
    print(f"machine: {platform.machine()} {_cpu()} | cpus {os.cpu_count()}")
    lines = rows_overall(sets) + (rows_weights(sets) if a.published_weights else [])
    for name, d in sets.items():
        lines += rows_tracks(name, d) + rows_params(name, d)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
