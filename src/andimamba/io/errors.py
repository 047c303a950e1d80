"""The one exception the readers raise for a track file they cannot use (a :class:`~andimamba.errors.UserError`).

Every message is a single line a biologist can act on: which file, where in it (track and
1-based line, or the XML element when there are no meaningful lines), what is wrong, and what
to do about it. The command-line front end prints it as is.
"""

from __future__ import annotations

from os import PathLike

from ..errors import UserError
from ..options import opt, spelling  # noqa: F401  (re-exported: the readers name options in their fixes)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class TrackFileError(UserError):
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
