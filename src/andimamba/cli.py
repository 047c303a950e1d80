"""Command-line entry point ``andimamba``.

Each subcommand lives in ``andimamba.commands.<name>`` and exposes ``register(subparsers)`` (adds
its parser and sets ``func``). Errors a user can fix (bad parameters, bad files) are reported as
one line on stderr with exit code 2 and no traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("simulate", "make_shards", "train", "plot_curves", "predict", "score", "tune_segmenter", "export_onnx")


class UserError(Exception):
    """An error caused by the user's input; printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="andimamba", description="Anomalous-diffusion analysis of single-particle tracks with a bidirectional Mamba.")
    parser.add_argument("--version", action="version", version=f"andimamba {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"andimamba.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    from .options import spelling

    try:
        with spelling("cli"):
            return int(args.func(args) or 0)
    except (UserError, ValueError, FileNotFoundError, FileExistsError) as exc:
        if args.debug:
            raise
        print(f"andimamba {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
