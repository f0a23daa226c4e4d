"""The ``humanfactors`` command: one subcommand per job.

Each subcommand lives in ``humanfactors._cli.<name>`` and provides ``HELP`` (one line),
``configure(parser)`` and ``run(args) -> int``. Exit codes: 0 success, 1 some records
failed (reported, never dropped), 2 usage or input errors. A
:class:`~humanfactors.exceptions.HumanFactorsError`, or an :class:`OSError` such as an
output folder that does not exist, prints one line to stderr, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from ._version import __version__
from .exceptions import HumanFactorsError

__all__ = ["main"]

# Subcommand -> module under humanfactors._cli, in the order --help lists them.
COMMANDS: dict[str, str] = {
    "analyse": "analyse",
    "check": "check",
    "redact": "redact",
    "train": "train",
    "evaluate": "evaluate",
    "themes": "themes",
    "taxonomy": "taxonomy",
    "rules": "rules",
    "schema": "schema",
    "suggest": "suggest",
    "agreement": "agreement",
    "audit-labels": "audit_labels",
}


def _load(name: str) -> object | None:
    modname = f"humanfactors._cli.{COMMANDS[name]}"
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name == modname:  # subcommand not part of this build
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available subcommand."""
    parser = argparse.ArgumentParser(
        prog="humanfactors",
        description="Human-factors analysis of incident and near-miss reports.",
    )
    parser.add_argument("--version", action="version", version=f"humanfactors {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (repeat for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = _load(name)
        if module is None:
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)  # type: ignore[attr-defined]
        module.configure(p)  # type: ignore[attr-defined]
        p.set_defaults(_run=module.run)  # type: ignore[attr-defined]
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args))
    except HumanFactorsError as exc:
        print(f"humanfactors {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped to head and closed early
        return 0
    except OSError as exc:  # an output that cannot be written: one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        reason = exc.strerror or type(exc).__name__
        print(f"humanfactors {args.command}: error: {where}{reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"humanfactors {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
