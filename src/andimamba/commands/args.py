"""Options and checks that several commands share, spelled and validated in one place.

Each ``add_*`` adds one option to a command's parser with the same name, default and help text
everywhere; :func:`check_number` and :func:`check_exists` turn a bad value into a one-line
:class:`~andimamba.errors.UserError` naming the flag, before any work is done. Importing this
module is cheap (argparse only).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..errors import InputNotFoundError, UserError

__all__ = ["add_model", "add_out", "add_overwrite", "add_threads", "add_progress", "check_number", "check_exists"]


def add_model(p: argparse.ArgumentParser, classical: bool = True) -> None:
    """``--model`` (default ``bimamba``): a shipped model, ``classical`` (when allowed) or a run folder."""
    extra = ", 'classical'," if classical else ""
    p.add_argument("--model", default="bimamba", help=f"shipped model name (bimamba, bilstm){extra} or a trained run folder")


def add_out(p: argparse.ArgumentParser, what: str, required: bool = True) -> None:
    """``--out PATH``: where the command writes (``what`` says which kind of file or folder)."""
    p.add_argument("--out", required=required, type=Path, help=what)


def add_overwrite(p: argparse.ArgumentParser, what: str = "replace an existing --out") -> None:
    """``--overwrite``: replace the previous output."""
    p.add_argument("--overwrite", action="store_true", help=what)


def add_threads(p: argparse.ArgumentParser, default: int | None = 0, what: str = "CPU threads (default: the idle cores)") -> None:
    """``--threads N`` (0 or absent: :func:`andimamba.threads.set_threads` picks the idle cores)."""
    p.add_argument("--threads", type=int, default=default, help=what)


def add_progress(p: argparse.ArgumentParser) -> None:
    """``--no-progress``: no progress bars (logs, CI)."""
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def check_number(flag: str, value, integer: bool = False, zero_ok: bool = False) -> None:
    """A UserError unless ``value`` is a finite number > 0 (>= 0 with ``zero_ok``).

    Parameters
    ----------
    flag : str
        The option as typed, e.g. ``"--batch-size"``.
    value : int or float or None
        The parsed value (None is refused: call only for given options).
    integer : bool
        Say "an integer" in the message (argparse already refused non-integers).
    zero_ok : bool
        Accept 0.
    """
    bad = value is None or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok)
    if bad:
        need = ("an integer" if integer else "a number") + (" >= 0" if zero_ok else " > 0")
        raise UserError(f"{flag} {value}: must be {need}")


def check_exists(path: Path, what: str = "file or folder") -> None:
    """An :class:`~andimamba.errors.InputNotFoundError` (a UserError) when ``path`` does not exist."""
    if not Path(path).exists():
        raise InputNotFoundError(f"{path}: no such {what}")
