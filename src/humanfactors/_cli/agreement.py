"""``humanfactors agreement A.jsonl B.jsonl [...]``: how far coders agree, per code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..models import RecordError

HELP = "agreement between coders (Cohen's and Fleiss' kappa, Krippendorff's alpha) per code"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="coded-report JSONL files, one per coder (id, narrative, codes), aligned by id",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--names", default=None, help="comma-separated coder names (default: the file names)"
    )
    parser.add_argument(
        "--taxonomy",
        default=None,
        help="resolve aliases through this taxonomy before comparing (e.g. asrs)",
    )
    parser.add_argument(
        "--codes",
        default=None,
        help="comma-separated codes to report on (default: every code any coder gave)",
    )


def run(args: argparse.Namespace) -> int:
    from ..agreement import coder_agreement
    from ..exceptions import InputError

    if len(args.files) < 2:
        raise InputError("agreement needs at least two files, one per coder")
    names = [n.strip() for n in args.names.split(",")] if args.names else None
    codes = [c.strip() for c in args.codes.split(",") if c.strip()] if args.codes else None
    report = coder_agreement(args.files, names=names, taxonomy=args.taxonomy, codes=codes)
    if args.json:
        sys.stdout.write(report.to_json(indent=2) + "\n")
    else:
        sys.stdout.write(report.table() + "\n")
    if report.missing:
        shown = ", ".join(sorted(report.missing)[:5])
        more = "" if len(report.missing) <= 5 else f" and {len(report.missing) - 5} more"
        print(
            f"humanfactors agreement: {len(report.missing)} report(s) not coded by every "
            f"coder were left out: {shown}{more}",
            file=sys.stderr,
        )
    files = dict(zip(report.coders, args.files, strict=True))
    for coder, err in report.errors:
        print(f"humanfactors agreement: {_where(coder, files[coder], err)}", file=sys.stderr)
    return 1 if report.errors else 0


def _where(coder: str, file: str, err: RecordError) -> str:
    """``CODER: line N, report 'ID': problem`` for one unusable record.

    The coder is named by the file's stem, or by its name and the file under ``--names``.
    """
    message = err.error
    if err.line is not None and message.startswith(f"line {err.line}: "):
        message = message[len(f"line {err.line}: ") :]
    if err.id is not None and message.startswith(f"report {err.id!r}: "):
        message = message[len(f"report {err.id!r}: ") :]
    place = [f"line {err.line}"] if err.line is not None else []
    if err.id is not None:
        place.append(f"report {err.id!r}")
    label = coder if Path(file).stem == coder else f"{coder} ({file})"
    return f"{label}: {', '.join(place)}: {message}" if place else f"{label}: {message}"
