"""The one exception the readers raise for a track file they cannot use.

Every message is a single line a biologist can act on: which file, where in it (track and
1-based line, or the XML element when there are no meaningful lines), what is wrong, and what
to do about it. The command-line front end prints it as is.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
import shlex
from os import PathLike
from typing import Any, Iterator

# "api" (Python keyword arguments) or "cli" (command-line flags): how fixes name the options
_SPELLING: ContextVar[str] = ContextVar("andimamba_spelling", default="api")


@contextmanager
def spelling(kind: str) -> Iterator[None]:
    """Within this block, :func:`opt` names options as the given interface spells them.

    Parameters
    ----------
    kind : {"api", "cli"}
        ``"cli"`` is set by the command-line front end, so that an error raised deep in the library
        tells a command-line user ``--pixel-size 0.1`` rather than ``pixel_size=0.1``.
    """
    if kind not in ("api", "cli"):
        raise ValueError(f"spelling must be 'api' or 'cli', got {kind!r}")
    token = _SPELLING.set(kind)
    try:
        yield
    finally:
        _SPELLING.reset(token)


def opt(name: str, value: Any = None) -> str:
    """An option as the calling interface spells it, for the fix part of an error message.

    ``opt("pixel_size", 0.107)`` is ``pixel_size=0.107`` in the Python API and ``--pixel-size 0.107``
    on the command line; ``opt("columns", {"track": "TRACK"})`` is ``columns={'track': 'TRACK'}`` or
    ``--columns track=TRACK``; without a value the option is shown with a placeholder.
    """
    if _SPELLING.get() == "cli":
        flag = "--" + name.replace("_", "-")
        if value is None:
            return f"{flag} ..."
        if value is True:  # a switch
            return flag
        if isinstance(value, dict):
            value = ",".join(f"{k}={v}" for k, v in value.items())
        return f"{flag} {shlex.quote(str(value))}"  # pastes into a shell as is
    if value is None:
        return f"{name}=..."
    return f"{name}={value!r}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class TrackFileError(ValueError):
    """A track file is unreadable, malformed or holds no usable track.

    Parameters
    ----------
    path : str or path-like
        The file (or folder) concerned.
    problem : str
        What is wrong, e.g. ``"x is not a number ('abc')"``.
    fix : str
        What the user can do about it.
    track : str, optional
        Track id concerned, as written in the file.
    line : int, optional
        1-based line number in the file.
    where : str, optional
        Location when there is no line number (e.g. ``"spot ID=1234"``).

    Attributes
    ----------
    path, track, line, where, problem, fix
        The parts of the message, for programs that want them.
    """

    def __init__(self, path: str | PathLike | None, problem: str, fix: str = "", *,
                 track: str | None = None, line: int | None = None, where: str | None = None):
        self.path = None if path is None else str(path)
        self.problem, self.fix = problem, fix
        self.track, self.line, self.where = track, line, where
        loc = []
        if line is not None:
            loc.append(f"line {int(line)}")
        if where:
            loc.append(str(where))
        if track is not None:
            loc.append(f"track {track}")
        head = self.path or "<data>"
        if loc:
            head += " (" + ", ".join(loc) + ")"
        msg = f"{head}: {problem}"
        if fix:
            msg += f". {fix[:1].upper()}{fix[1:]}"
        super().__init__(_one_line(msg))
