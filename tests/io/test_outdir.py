"""Output folders: the previous run or the new one, never a mix; leftovers of killed runs repaired."""

import os
import subprocess
import sys

import pytest

from andimamba.io.errors import spelling
from andimamba.io.outdir import OutputFolderError, clean_leftovers, staged_output


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_new_run_appears_whole_and_replaces_previous(tmp_path):
    out = tmp_path / "res"
    with staged_output(out) as stage:
        (stage / "a.csv").write_text("1")
        (stage / "plots").mkdir()
        (stage / "plots" / "p.png").write_text("x")
        assert not out.exists()  # nothing visible before the block succeeds
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "plots"]
    with staged_output(out, overwrite=True, owned=("a.csv", "plots", "b.csv")) as stage:
        (stage / "b.csv").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["b.csv"]  # no stale file of the previous run
    assert [p.name for p in tmp_path.iterdir()] == ["res"]  # no staging leftovers


def test_failed_run_leaves_previous_untouched(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    (out / "a.csv").write_text("old")
    with pytest.raises(RuntimeError):
        with staged_output(out, overwrite=True) as stage:
            (stage / "a.csv").write_text("new")
            raise RuntimeError("boom")
    assert (out / "a.csv").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["res"]


def test_refusals_before_any_work(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(OutputFolderError, match="is a file"):
        with staged_output(f):
            pass
    with pytest.raises(OutputFolderError, match="is a file"):
        with staged_output(f / "sub"):
            pass
    full = tmp_path / "full"
    full.mkdir()
    (full / "thesis.docx").write_text("precious")
    with spelling("cli"), pytest.raises(OutputFolderError, match="not empty.*--overwrite"):
        with staged_output(full):
            pass
    with pytest.raises(OutputFolderError, match="thesis.docx"):
        with staged_output(full, overwrite=True, owned=("segments.csv",)):
            pass
    assert (full / "thesis.docx").read_text() == "precious"


def test_leftovers_of_killed_runs_are_cleaned_and_parked_run_restored(tmp_path):
    pid = _dead_pid()
    out = tmp_path / "res"
    stage = tmp_path / f".res.stage-{pid}-abc"
    stage.mkdir()
    (stage / "half.csv").write_text("trunc")
    parked = tmp_path / f".res.old-{pid}-xyz"
    parked.mkdir()
    (parked / "segments.csv").write_text("previous")
    live = tmp_path / f".res.stage-{os.getpid()}-live"  # a running process's staging folder is left alone
    live.mkdir()
    clean_leftovers(out)
    assert (out / "segments.csv").read_text() == "previous"
    assert not stage.exists() and not parked.exists() and live.exists()


def test_result_has_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        with staged_output(tmp_path / "res"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "res").stat().st_mode & 0o777 == 0o755
