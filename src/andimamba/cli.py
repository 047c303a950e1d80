"""Command-line entry point ``andimamba``.

Each subcommand lives in ``andimamba.commands.<name>`` and exposes ``register(subparsers)`` (adds
its parser and sets ``func``). Errors a user can fix (bad parameters, bad files: the
:class:`~andimamba.errors.UserError` family) are reported as one line on stderr with exit code 2
and no traceback unless ``--debug`` is given. Any other exception is a bug: its traceback is shown
with a request to report it, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from .errors import REPORT, UserError

__all__ = ["COMMANDS", "UserError", "build_parser", "entry", "main"]

COMMANDS = ("simulate", "make_shards", "train", "plot_curves", "predict", "score", "tune_segmenter", "average", "export_onnx")


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``andimamba`` parser.

    Parameters
    ----------
    argv : list of str, optional
        The command line about to be parsed. When it names a command, only that command's module
        is imported (start-up: ``andimamba simulate`` never imports torch or the readers); otherwise
        (``--help``, no or an unknown command) every command is registered.
    """
    from . import __version__

    parser = argparse.ArgumentParser(prog="andimamba", description="Anomalous-diffusion analysis of single-particle tracks with a bidirectional Mamba.")
    parser.add_argument("--version", action="version", version=f"andimamba {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # the top level takes flags only: the first other word is the command (unless help is asked before it)
    first = next((a for a in (argv or []) if a in ("-h", "--help") or not a.startswith("-")), "")
    named = first.replace("-", "_")
    for name in (named,) if named in COMMANDS else COMMANDS:
        importlib.import_module(f"andimamba.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    from .options import spelling

    try:
        with spelling("cli"):
            return int(args.func(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"andimamba {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        if args.debug:
            raise
        traceback.print_exc()
        print(f"andimamba {args.command}: {REPORT}", file=sys.stderr)
        return 1


def _teardown_skippable() -> bool:
    """Whether nothing is left for the interpreter's teardown to finish: no child process, no running
    non-daemon thread, no torch.distributed process group."""
    import multiprocessing
    import threading

    if multiprocessing.active_children():
        return False
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        return False
    dist = sys.modules.get("torch.distributed")
    return not (dist is not None and dist.is_available() and dist.is_initialized())


def entry() -> None:
    """The console script ``andimamba``: :func:`main`, then the process ends without the interpreter's teardown.

    Finalising a process that imported torch takes 0.5-0.8 s on a 2-core machine (its modules' teardown, after
    every output file is written and closed; ``benchmarks/bench_predict.py --cli --teardown``). When the command returned
    normally and left nothing running (:func:`_teardown_skippable`), logging and the standard streams are flushed
    and the process exits with the command's code; otherwise it exits normally.
    """
    code = main()
    if not _teardown_skippable():
        sys.exit(code)
    import logging
    import os

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head): nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
