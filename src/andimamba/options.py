"""How error messages name options: ``pixel_size=0.1`` in the Python API, ``--pixel-size 0.1`` on the CLI.

A fix deep in the library (a reader, the output-folder check) is written once with :func:`opt`; the
command-line front end wraps each command in ``spelling("cli")``. This module imports nothing heavy,
so that every command can use it without paying for pandas or torch.
"""

from __future__ import annotations

import shlex
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

__all__ = ["opt", "spelling"]

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
