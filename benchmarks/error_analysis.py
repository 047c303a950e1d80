"""Where a submission's errors are: per-experiment state confusion, change-point errors by distance to
the track ends and by the size of the parameter jump, α errors by true state and segment length, K errors by
true K.

Reads an AnDi-2 submission folder (``track_2/exp_E/fov_J.txt``, e.g. ``andimamba predict`` output) and
the reference folder it answers (``track_2/exp_E/traj_labs_fov_J.txt``), pairs tracks exactly as the
official scorer does (:func:`andimamba.metrics.experiment_labels`) and prints markdown tables:

1. **State confusion** per experiment: frames of each true state (rows) by predicted state
   (columns), as row percentages, plus the frame counts.
2. **Change points by distance to the nearest track end** (bins of frames): share of true CPs found
   (a predicted CP within ``CP_THRESHOLD`` = 10 frames, the official true-positive window; each
   predicted CP used once, nearest first), mean |Δt| of those found, and false predicted CPs (none
   of the true CPs within 10 frames) per 100 tracks.
3. **Change points by jump size**: the same recall by |Δα| and by |Δlog₁₀ K| across the true CP
   (CPs between two mobile segments), and recall of CPs into/out of an immobile segment.
4. **α error** (per frame, absolute) by true state and by the length of the true segment.

Per-frame comparisons use the per-frame labels of both sides (``labels_from_segments``); a frame's
predicted α is that of the predicted segment holding it (immobile: α = 0, as in the labels).

Usage: ``python benchmarks/error_analysis.py PRED_FOLDER REF_FOLDER [--exps 0 1 …]``, e.g.
``python benchmarks/error_analysis.py /tmp/andi2bench/pred_ours_bimamba /tmp/andi2bench/ref_ours``.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import numpy as np

from andimamba import andi2
from andimamba.metrics import CP_THRESHOLD, experiment_labels, experiment_numbers
from andimamba.result import labels_from_segments

END_BINS = (0, 5, 10, 20, 40, 1000)  # frames from the nearest track end
DALPHA_BINS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.1)
DLOGK_BINS = (0.0, 0.25, 0.5, 1.0, 2.0, 10.0)
SEGLEN_BINS = (0, 10, 20, 40, 80, 1000)
KTRUE_BINS = [0, 0.01, 0.1, 1, 10, np.inf]  # true K, px²/frame^α
NAMES = [andi2.STATE_NAMES[s] for s in range(4)]


def match_cps(true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """|Δt| to the matched predicted CP for each true CP (inf if none within the TP window).

    Greedy on |Δt| (nearest pairs first, each CP used once): the Hungarian pairing of the official
    scorer gives the same pairs whenever CPs are further apart than twice the window.
    """
    out = np.full(len(true), np.inf)
    if len(true) == 0 or len(pred) == 0:
        return out
    d = np.abs(true[:, None] - pred[None, :]).astype(float)  # (nt, np)
    used_t, used_p = set(), set()
    for flat in np.argsort(d, axis=None, kind="stable"):
        i, j = divmod(int(flat), d.shape[1])
        if d[i, j] >= CP_THRESHOLD:
            break
        if i in used_t or j in used_p:
            continue
        used_t.add(i)
        used_p.add(j)
        out[i] = d[i, j]
    return out


class Tally:
    """Counts of one experiment (or of all, by adding)."""

    def __init__(self) -> None:
        self.conf = np.zeros((4, 4), np.int64)  # true state × predicted state, frames
        self.cp_end = np.zeros((len(END_BINS) - 1, 3))  # found, total, sum |Δt| of found
        self.fp_end = np.zeros(len(END_BINS) - 1)
        self.cp_da = np.zeros((len(DALPHA_BINS) - 1, 2))  # found, total
        self.cp_dk = np.zeros((len(DLOGK_BINS) - 1, 2))
        self.cp_imm = np.zeros(2)
        self.a_state = np.zeros((4, 2))  # Σ|err|, frames
        self.a_len = np.zeros((len(SEGLEN_BINS) - 1, 2))
        self.k_true = np.zeros((len(KTRUE_BINS) - 1, 4))  # Σ squared log1p error, frames, Σ log10(pred/true), frames
        self.tracks = 0

    def __iadd__(self, o: Tally) -> Tally:
        for k, v in vars(o).items():
            setattr(self, k, getattr(self, k) + v)
        return self

    def add_track(self, t, p) -> None:
        T = int(t.T)
        self.tracks += 1
        ts = labels_from_segments(t.cps, t.states, T).astype(int)
        ps = labels_from_segments(p.cps, p.states, T).astype(int).clip(0, 3)
        np.add.at(self.conf, (ts, ps), 1)
        ta = labels_from_segments(t.cps, t.alphas, T)
        pa = labels_from_segments(p.cps, p.alphas, T)
        err = np.abs(pa - ta)
        np.add.at(self.a_state, ts, np.c_[err, np.ones(T)])
        bounds = np.concatenate([[0], t.cps, [T]]).astype(int)
        seglen = np.repeat(np.diff(bounds), np.diff(bounds))  # (T,) length of the true segment of each frame
        np.add.at(self.a_len, np.digitize(seglen, SEGLEN_BINS[1:-1]), np.c_[err, np.ones(T)])
        tk = labels_from_segments(t.cps, t.Ks, T)
        pk = labels_from_segments(p.cps, p.Ks, T)
        both = (tk > 0) & (pk > 0)
        ratio = np.where(both, np.log10(np.where(both, pk, 1) / np.where(both, tk, 1)), 0.0)
        np.add.at(self.k_true, np.digitize(tk, KTRUE_BINS[1:-1]),
                  np.c_[(np.log1p(pk) - np.log1p(tk)) ** 2, np.ones(T), ratio, both])

        tc, pc = np.asarray(t.cps, int), np.asarray(p.cps, int)
        dt = match_cps(tc, pc)
        found = np.isfinite(dt)
        eb = np.digitize(np.minimum(tc, T - tc), END_BINS[1:-1])
        np.add.at(self.cp_end, eb, np.c_[found, np.ones(len(tc)), np.where(found, dt, 0.0)])
        # a predicted CP is false when no true CP lies within the TP window
        far = np.array([np.all(np.abs(tc - c) >= CP_THRESHOLD) for c in pc], bool)
        np.add.at(self.fp_end, np.digitize(np.minimum(pc, T - pc), END_BINS[1:-1])[far], 1)
        for i, c in enumerate(tc):
            s0, s1 = t.states[i], t.states[i + 1]
            if s0 == 0 or s1 == 0:
                self.cp_imm += (found[i], 1)
                continue
            da = abs(t.alphas[i + 1] - t.alphas[i])
            dk = abs(np.log10(t.Ks[i + 1]) - np.log10(t.Ks[i]))
            self.cp_da[np.digitize(da, DALPHA_BINS[1:-1])] += (found[i], 1)
            self.cp_dk[np.digitize(dk, DLOGK_BINS[1:-1])] += (found[i], 1)


def _pct(a, b) -> str:
    return f"{100 * a / b:.0f} %" if b else "–"


def _bins(edges) -> list[str]:
    return [f"{edges[i]:g}–{edges[i + 1]:g}" if i < len(edges) - 2 else f"≥ {edges[i]:g}" for i in range(len(edges) - 1)]


def report(name: str, t: Tally) -> str:
    out = [f"\n### {name} ({t.tracks} tracks)\n", "State confusion (frames, row %; rows true, columns predicted):\n",
           "| true \\ pred | " + " | ".join(NAMES) + " | frames |", "|---|" + "---:|" * 5]
    for s in range(4):
        n = t.conf[s].sum()
        if n:
            out.append(f"| {NAMES[s]} | " + " | ".join(_pct(t.conf[s, q], n) for q in range(4)) + f" | {n} |")
    out += ["\nChange points by distance of the true CP to the nearest track end (frames):\n",
            "| distance | " + " | ".join(_bins(END_BINS)) + " |", "|---|" + "---:|" * (len(END_BINS) - 1),
            "| true CPs | " + " | ".join(f"{int(v)}" for v in t.cp_end[:, 1]) + " |",
            "| found | " + " | ".join(_pct(f, n) for f, n in t.cp_end[:, :2]) + " |",
            "| mean \\|Δt\\| of found | " + " | ".join(f"{s / f:.2f}" if f else "–" for f, _, s in t.cp_end) + " |",
            "| false CPs per 100 tracks | " + " | ".join(f"{100 * v / max(t.tracks, 1):.1f}" for v in t.fp_end) + " |"]
    out += ["\nChange points found by jump size (CPs between mobile segments; CPs at immobile segments: "
            f"{_pct(*t.cp_imm)} of {int(t.cp_imm[1])}):\n",
            "| \\|Δα\\| | " + " | ".join(_bins(DALPHA_BINS)) + " |", "|---|" + "---:|" * (len(DALPHA_BINS) - 1),
            "| found (of) | " + " | ".join(f"{_pct(f, n)} ({int(n)})" for f, n in t.cp_da) + " |",
            "\n| \\|Δlog₁₀ K\\| | " + " | ".join(_bins(DLOGK_BINS)) + " |", "|---|" + "---:|" * (len(DLOGK_BINS) - 1),
            "| found (of) | " + " | ".join(f"{_pct(f, n)} ({int(n)})" for f, n in t.cp_dk) + " |"]
    out += ["\nα absolute error per frame by true state and by true segment length:\n",
            "| | " + " | ".join(NAMES) + " | " + " | ".join(f"seg {b}" for b in _bins(SEGLEN_BINS)) + " |",
            "|---|" + "---:|" * (4 + len(SEGLEN_BINS) - 1),
            "| α MAE | " + " | ".join(f"{s / n:.3f}" if n else "–" for s, n in t.a_state) + " | "
            + " | ".join(f"{s / n:.3f}" if n else "–" for s, n in t.a_len) + " |"]
    out += ["\nK error per frame by true K (px²/frame^α; bias: mean log₁₀(predicted / true) where both > 0):\n",
            "| true K | " + " | ".join(_bins(KTRUE_BINS)) + " |", "|---|" + "---:|" * (len(KTRUE_BINS) - 1),
            "| frames | " + " | ".join(f"{int(n)}" for _, n, _, _ in t.k_true) + " |",
            "| K MSLE | " + " | ".join(f"{e / n:.4f}" if n else "–" for e, n, _, _ in t.k_true) + " |",
            "| bias | " + " | ".join(f"{b / m:+.2f}" if m else "–" for _, _, b, m in t.k_true) + " |"]
    return "\n".join(out)


def analyse(pred: Path, ref: Path, exps=None) -> tuple[dict[int, Tally], Tally]:
    """Tallies per experiment and over all of them."""
    per, total = {}, Tally()
    for e in exps if exps is not None else experiment_numbers(andi2.track_dir(ref)):
        truth, guess = experiment_labels(andi2.exp_dir(pred, e), andi2.exp_dir(ref, e))
        t = Tally()
        for k, tr in truth.items():
            if k in guess:
                t.add_track(tr, guess[k])
        per[e] = t
        total += t
    return per, total


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pred", type=Path, help="submission folder (holds track_2/)")
    ap.add_argument("ref", type=Path, help="reference folder (holds track_2/ with traj_labs_fov_*.txt)")
    ap.add_argument("--exps", type=int, nargs="*", help="experiments to analyse (default all)")
    a = ap.parse_args(argv)
    print(f"machine: {platform.machine()} | cpus {os.cpu_count()} | pred {a.pred} | ref {a.ref}")
    per, total = analyse(a.pred, a.ref, a.exps)
    for e, t in per.items():
        print(report(f"exp_{e}", t))
    print(report("all experiments", total))


if __name__ == "__main__":
    main()
