"""Output folders that hold either the complete previous run or the complete new one, never a mix.

A run writes everything into a hidden *staging* folder beside its target (same parent, so same
file system), then swaps it in with renames::

    target  ->  .<name>.old-<pid>-<rand>     (only when replacing a previous run)
    .<name>.stage-<pid>-<rand>  ->  target
    rm -r .<name>.old-<pid>-<rand>

A kill at any instant leaves, at ``target``, the previous run (untouched), the new run (complete),
or nothing with the previous run parked in ``.<name>.old-*``. The next run into the same target
repairs that: leftovers of processes that are no longer alive are removed, and a parked previous run
whose target is missing is put back first. Staging happens beside the target, never inside it, so
a killed run never makes an empty-looking target "not empty".

:func:`staged_output` is the one entry point; it also checks, before any work is done, that the
target can be written (an existing file, a read-only parent, a non-empty folder without
``overwrite`` are one-line errors naming the option to change).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import UserError
from .errors import opt

__all__ = ["staged_output", "check_target", "clean_leftovers", "OutputFolderError"]

_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>stage|old)-(?P<pid>\d+)-[A-Za-z0-9_]+$")


class OutputFolderError(UserError):
    """The output folder cannot be used (exists as a file, not writable, not empty...)."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_leftovers(target: str | Path) -> None:
    """Remove staging/parked folders of dead runs beside ``target``; restore a parked previous run.

    Parameters
    ----------
    target : str or Path
        The output folder whose siblings are inspected.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return
    found = []
    for p in target.parent.iterdir():
        m = _LEFTOVER.match(p.name)
        if m and m["name"] == target.name and not _alive(int(m["pid"])):
            found.append((m["kind"], p))
    for kind, p in sorted(found, key=lambda kp: kp[0] != "old"):  # parked runs first
        if kind == "old" and not target.exists():
            os.rename(p, target)  # the kill came between the two renames: the previous run comes back
        else:
            shutil.rmtree(p, ignore_errors=True)


def check_target(target: str | Path, overwrite: bool = False, owned: Iterable[str] | None = None) -> None:
    """Raise :class:`OutputFolderError` when ``target`` cannot receive a run (see :func:`staged_output`)."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputFolderError(f"{target} is a file, not a folder: choose another output folder ({opt('out')})")
    if target.is_dir() and any(target.iterdir()):
        if not overwrite:
            raise OutputFolderError(f"{target} is not empty: choose another output folder ({opt('out')}) or pass {opt('overwrite', True)}")
        if owned is not None:
            foreign = sorted(p.name for p in target.iterdir() if p.name not in set(owned))
            if foreign:
                raise OutputFolderError(
                    f"{target} holds files andimamba did not write ({', '.join(foreign[:3])}"
                    f"{', ...' if len(foreign) > 3 else ''}), which {opt('overwrite', True)} would delete: "
                    f"choose another output folder ({opt('out')})")
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise OutputFolderError(f"{parent} is a file, so {target} cannot be created: choose another output folder ({opt('out')})")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputFolderError(f"cannot write into {parent} (permission denied): choose another output folder ({opt('out')})")


def _swap_in(stage: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
    os.rename(stage, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_output(target: str | Path, overwrite: bool = False, owned: Iterable[str] | None = None) -> Iterator[Path]:
    """Write a run into a staging folder and swap it in as ``target`` when the block succeeds.

    Parameters
    ----------
    target : str or Path
        The output folder. Its parents are created.
    overwrite : bool
        Allow replacing a non-empty ``target`` (the whole folder is replaced: no stale file of the
        previous run survives).
    owned : iterable of str, optional
        Names of the entries a run of this kind writes. With ``overwrite``, a ``target`` holding any
        other entry is refused, so that a mistyped ``--out`` never deletes a user's own files.

    Yields
    ------
    Path
        The (empty) staging folder to write into.

    Raises
    ------
    OutputFolderError
        Before anything is written, when ``target`` cannot be used.
    """
    target = Path(target)
    clean_leftovers(target)
    check_target(target, overwrite, owned)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.stage-{os.getpid()}-", dir=target.parent))
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp's 0700 would make the result private to its writer
    except OSError as exc:
        raise OutputFolderError(f"cannot create {target} ({exc.strerror}): choose another output folder ({opt('out')})") from None
    try:
        yield stage
        _swap_in(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
