"""Atomic file writes: the one home of the write-to-temporary-then-``os.replace`` idiom.

Every file andimamba writes goes through :func:`atomic_open` (or :func:`atomic_write_bytes` /
:func:`atomic_write_text`): a hidden temporary file in the destination folder is written, flushed,
fsynced and moved over the destination with :func:`os.replace` only once complete, so an exception
(bad value, full disk, Ctrl-C) or a SIGKILL never leaves a half-written file and an existing file stays
intact. Missing parent folders are created; the new file gets the usual permissions (umask honoured).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "atomic_path", "atomic_write_bytes", "atomic_write_text"]


def _temporary(path: Path) -> tuple[int, Path]:
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp  # mode honours the umask
        except FileExistsError:  # pragma: no cover - 32-bit collision
            continue


@contextmanager
def atomic_open(path, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO]:
    """Open ``path`` for writing, atomically.

    Parameters
    ----------
    path : str or path-like
        Destination; its folder is created if needed.
    mode : {"w", "wb"}
        Text or binary.
    encoding : str
        Text encoding (text mode; lines end with ``\\n`` on every platform).

    Yields
    ------
    file object
        A temporary file in the same folder, moved onto ``path`` when the block exits normally
        and removed when it raises.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode={mode!r}: allowed 'w' or 'wb'")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary(path)
    try:
        kw = {} if mode == "wb" else {"encoding": encoding, "newline": "\n"}
        with os.fdopen(fd, mode, **kw) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """A temporary path next to ``path`` for writers that take a file name (e.g. ``np.savez``).

    The writer writes the yielded path (same suffix as ``path``); it is moved onto ``path`` when
    the block exits normally and removed when it raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)
