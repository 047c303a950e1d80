"""The console script's entry (:func:`andimamba.cli.entry`): exit codes and output survive the skipped teardown,
and the teardown is kept whenever something is still running."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
import time
from pathlib import Path

from andimamba import cli

SAMPLE = Path(__file__).parents[1] / "examples" / "sample_tracks.csv"

ENTRY = "import sys; from andimamba.cli import entry; sys.argv[0] = 'andimamba'; entry()"


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", ENTRY, *argv], capture_output=True, text=True, timeout=120)


def test_entry_keeps_the_exit_code_and_flushes_piped_output():
    ok = _run("--version")  # argparse's own exit: SystemExit, never reaches os._exit
    assert ok.returncode == 0 and ok.stdout.startswith("andimamba ")
    bad = _run("predict", "no/such/file.csv", "--out", "never")  # a UserError: code 2, one line on a pipe
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("andimamba predict: error:") and "no/such/file.csv" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    usage = _run()  # no command: help on stdout, code 1, through the fast exit
    assert usage.returncode == 1 and "usage: andimamba" in usage.stdout


def test_entry_writes_a_whole_run_before_it_exits(tmp_path):
    out = tmp_path / "out"
    res = _run("predict", str(SAMPLE), "--out", str(out), "--no-progress", "--threads", "1")
    assert res.returncode == 0, res.stderr
    assert "segments" in res.stdout  # the summary line reached the pipe before os._exit
    for name in ("segments.csv", "frames.csv", "run.json"):
        assert (out / name).stat().st_size > 0
    assert (out / "run.json").read_text().rstrip().endswith("}")


def test_teardown_kept_while_a_thread_or_child_runs():
    assert cli._teardown_skippable()
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert not cli._teardown_skippable()  # a non-daemon thread still working: exit normally, which joins it
    finally:
        stop.set()
        worker.join()
    daemon = threading.Thread(target=stop.wait, daemon=True)  # daemon threads never block an exit
    stop.clear()
    daemon.start()
    try:
        assert cli._teardown_skippable()
    finally:
        stop.set()
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(30,))
    child.start()
    try:
        assert not cli._teardown_skippable()
    finally:
        child.terminate()
        child.join()
    assert cli._teardown_skippable()
