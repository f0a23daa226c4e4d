"""``humanfactors check FILE|-``: report-quality checks, one JSON line per record.

Input is either plain text (one report per line) or JSONL incident records (lines that
start with ``{``; extra coded-report fields such as ``codes`` are ignored). Output is one
JSON object per record: ``{"id", "line", "issues": [...]}``. Records that cannot be read
are reported on stderr as ``{"id", "line", "error", "source"}`` and the exit code is 1:
every input line comes out as one or the other.
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
    from ..exceptions import InputError
    from ..models import RecordError
    from ..taxonomy import load_taxonomy
    from ._common import atomic_write_text, check_output_path, error_json, open_input_lines

    # a taxonomy that cannot be loaded is a usage error, not a failure of every record
    taxonomy = load_taxonomy(args.taxonomy) if args.taxonomy is not None else None
    if args.output is not None:
        check_output_path(args.output)
    try:
        lines, close = open_input_lines(args.input)
    except OSError as exc:
        raise InputError(f"{args.input}: cannot read ({exc.strerror})") from None
    lines_out: list[str] = []
    failed = 0
    try:
        for ln in lines:
            n = ln.number
            if ln.text is None:  # does not decode, or too long: one error, then go on
                failed += 1
                problem = ln.problem or "unreadable line"
                err = RecordError(line=n, error=f"line {n}: {problem}", source=args.input)
                sys.stderr.write(error_json(err) + "\n")
                continue
            line = ln.text.rstrip("\r\n")
            if not line.strip():
                continue
            rec_id, row, problem = _check_line(line, n, taxonomy)
            if problem is not None:
                failed += 1
                err = RecordError(
                    id=rec_id, line=n, error=f"line {n}: {problem}", source=args.input
                )
                sys.stderr.write(error_json(err) + "\n")
                continue
            if args.output is None:
                sys.stdout.write(row + "\n")
            else:
                lines_out.append(row)
    finally:
        close()
    if args.output is not None:
        atomic_write_text(args.output, "".join(x + "\n" for x in lines_out))
    return 1 if failed else 0


def _check_line(line: str, n: int, taxonomy: Any) -> tuple[str | None, str, str | None]:
    """``(id, output row, None)`` for a line checked, ``(id, "", problem)`` for one refused."""
    from ..exceptions import describe_failure
    from ..models import Incident
    from ..rules import check
    from ._common import safe_id, strict_json

    rec_id: str | None = None
    try:
        if line.lstrip().startswith("{"):
            try:
                data: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                return None, "", f"malformed JSON ({exc.msg} at column {exc.colno})"
            except RecursionError:
                return None, "", "malformed JSON (nested too deeply)"
            except ValueError:  # e.g. an integer of more digits than Python converts
                return None, "", "malformed JSON (a number too large to read)"
            if not isinstance(data, dict):
                return None, "", f"a JSON line must be an object, got {type(data).__name__}"
            rec_id = safe_id(data.get("id"))
            for key in _CODED_FIELDS:
                data.pop(key, None)
            subject: Any = Incident.model_validate(data)
            rec_id = subject.id
        else:
            subject = line
            rec_id = f"line-{n}"
        issues = check(subject, taxonomy=taxonomy)
        row = {"id": rec_id, "line": n, "issues": [i.model_dump(mode="json") for i in issues]}
        return rec_id, strict_json(row), None
    except Exception as exc:  # one record's failure must not stop the others
        return safe_id(rec_id), "", describe_failure(exc)

