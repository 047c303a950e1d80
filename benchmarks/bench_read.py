"""Reading tracks: a large AnDi CSV parsed in parts on two threads vs in one piece, and an AnDi-2 folder's FOV files
read two at a time vs one by one — side by side in one run, in turns.

Writes ``--n`` simulated 200-frame tracks as one AnDi CSV and as a folder of ``--fovs`` fields of view (the files of
``bench_predict.py``), then times :func:`andimamba.io.read_tracks` on the file with parsing in parts on
(``io/_text.PARALLEL_BYTES`` as shipped) and off, and :func:`andimamba.io.read_andi_folder` with
``threads.io_threads`` 2 and 1, ``--rounds`` rounds (first turn alternating), medians and paired ratios.

Usage: ``python benchmarks/bench_read.py [--n 5000] [--fovs 30] [--rounds 7]``
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_predict import make_csv, make_folder  # noqa: E402


def _turns(cases: dict, rounds: int) -> dict:
    times = {k: [] for k in cases}
    names = list(cases)
    for r in range(-1, rounds):  # round -1 untimed
        for k in (names if r % 2 == 0 else names[::-1]):
            t = time.perf_counter()
            cases[k]()
            if r >= 0:
                times[k].append(time.perf_counter() - t)
    return times


def _table(title: str, times: dict) -> None:
    (a, ta), (b, tb) = times.items()
    ratios = [x / y for x, y in zip(tb, ta)]
    print(f"\n{title}\n\n| variant | median s | best s |\n|---|---:|---:|")
    for k, v in times.items():
        print(f"| {k} | {statistics.median(v):.3f} | {min(v):.3f} |")
    print(f"\npaired {b} / {a}: median {statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--fovs", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    import torch

    from andimamba import threads
    from andimamba.io import _text, read_andi_folder, read_tracks

    torch.set_num_threads(2)
    tmp = Path(tempfile.mkdtemp())
    try:
        csv = tmp / "tracks.csv"
        make_csv(csv, a.n)
        make_folder(tmp / "andi", csv, a.fovs)
        print(f"machine: {platform.machine()} {platform.processor()} | cpus {os.cpu_count()} | torch threads 2 | "
              f"{a.n} tracks x 200 frames ({csv.stat().st_size / 1e6:.0f} MB), folder of {a.fovs} FOVs | {a.rounds} rounds")
        shipped = _text.PARALLEL_BYTES

        def file_with(limit):
            def run():
                _text.PARALLEL_BYTES = limit
                try:
                    read_tracks(csv)
                finally:
                    _text.PARALLEL_BYTES = shipped
            return run

        _table("read_tracks on the file", _turns({"in parts (2 threads)": file_with(shipped),
                                                  "one piece": file_with(1 << 62)}, a.rounds))
        io = threads.io_threads

        def folder_with(n):
            def run():
                threads.io_threads = lambda: n
                try:
                    read_andi_folder(tmp / "andi")
                finally:
                    threads.io_threads = io
            return run

        _table("read_andi_folder", _turns({"2 files at once": folder_with(2), "one by one": folder_with(1)}, a.rounds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
