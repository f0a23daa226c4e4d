"""``humanfactors check FILE|-``: report-quality checks, one JSON line per record.

Input is either plain text (one report per line) or JSONL incident records (lines that
start with ``{``; extra coded-report fields such as ``codes`` are ignored). Output is one
JSON object per record: ``{"id", "line", "issues": [...]}``. Records that cannot be read
are reported on stderr as ``{"id", "line", "error"}`` and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "check reports for hindsight, blame, missing analysis, personal data and more"

_CODED_FIELDS = ("codes", "evidence", "pii")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", help="file of text lines or JSONL incident records, or - for stdin"
    )
    parser.add_argument("-o", "--output", default=None, help="write JSONL here instead of stdout")
    parser.add_argument(
        "--taxonomy", default=None, help="taxonomy for the near-miss recovery check"
    )


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ..exceptions import InputError
    from ..models import Incident, RecordError
    from ..rules import check
    from ._common import atomic_write_text, open_text_input

    try:
        fh = open_text_input(args.input)
    except OSError as exc:
        raise InputError(f"{args.input}: cannot read ({exc.strerror})") from None
    lines_out: list[str] = []
    failed = 0
    with fh if fh is not sys.stdin else _nullcontext(fh):
        try:
            for n, raw in enumerate(fh, start=1):
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue
                rec_id: str | None = None
                try:
                    if line.lstrip().startswith("{"):
                        data: Any = json.loads(line)
                        if not isinstance(data, dict):
                            raise ValueError("a JSON line must be an object")
                        rec_id = str(data["id"]) if "id" in data else None
                        for key in _CODED_FIELDS:
                            data.pop(key, None)
                        subject: Any = Incident.model_validate(data)
                        rec_id = subject.id
                    else:
                        subject = line
                        rec_id = f"line-{n}"
                    issues = check(subject, taxonomy=args.taxonomy)
                except (ValueError, ValidationError, KeyError, TypeError) as exc:
                    failed += 1
                    err = RecordError(id=rec_id, line=n, error=_describe(exc), source=args.input)
                    sys.stderr.write(err.model_dump_json() + "\n")
                    continue
                lines_out.append(
                    json.dumps(
                        {
                            "id": rec_id,
                            "line": n,
                            "issues": [i.model_dump(mode="json") for i in issues],
                        },
                        ensure_ascii=False,
                    )
                )
                if args.output is None:
                    sys.stdout.write(lines_out.pop() + "\n")
        except UnicodeDecodeError as exc:
            raise InputError(f"{args.input}: not UTF-8 text (byte {exc.start})") from None
    if args.output is not None:
        atomic_write_text(args.output, "".join(x + "\n" for x in lines_out))
    return 1 if failed else 0


def _describe(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        return f"field {loc!r}: {err['msg']}"
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at column {exc.colno}"
    return str(exc) or type(exc).__name__


class _nullcontext:
    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def __enter__(self) -> Any:
        return self.fh

    def __exit__(self, *exc: object) -> None:
        return None
