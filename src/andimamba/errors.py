"""The one error family for mistakes a user can fix, told apart from bugs.

Every error the library raises because of the user's input or options is a :class:`UserError`
(or a subclass: :class:`~andimamba.io.errors.TrackFileError` for a track file,
:class:`~andimamba.io.outdir.OutputFolderError` for an output folder, :class:`ModelNotFoundError`
for a model name). Its message is one line that names what is wrong and how to fix it; the
command line prints it as is and exits with code 2. Anything else that escapes is a bug: the
command line shows its traceback and asks for a report (:data:`REPORT`).

``UserError`` subclasses :class:`ValueError`, so code that caught ``ValueError`` around the
readers keeps working. This module imports nothing heavy.
"""

from __future__ import annotations

__all__ = ["UserError", "ModelNotFoundError", "InputNotFoundError", "REPORT"]

# what the command line prints under the traceback of an unexpected exception
REPORT = ("this is a bug in andimamba, not a problem with your input: please report it on the andimamba issue "
          "tracker with the traceback above, the command you ran and `andimamba --version`")


class UserError(ValueError):
    """A bad input or option the user can fix; the message is one line saying how.

    The command line prints ``andimamba <command>: error: <message>`` and exits with code 2
    (``--debug`` shows the traceback).
    """


class ModelNotFoundError(UserError, FileNotFoundError):
    """A model name that is neither shipped nor a folder holding a trained model."""


class InputNotFoundError(UserError, FileNotFoundError):
    """An input file or folder that does not exist."""
