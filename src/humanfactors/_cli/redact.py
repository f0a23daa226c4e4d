"""``humanfactors redact FILE|-``: redact personal data from text lines or JSONL records."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, Any

from ..exceptions import InputError

HELP = "redact names, addresses, UK identifiers and dates of birth from text or JSONL"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="file of plain-text lines or JSONL records, or - for stdin")
    parser.add_argument(
        "--field",
        action="append",
        default=None,
        metavar="NAME",
        help="JSONL field to redact (repeatable; default: narrative)",
    )
    parser.add_argument(
        "--format",
        choices=("auto", "text", "jsonl"),
        default="auto",
        help="input format: auto (a line starting with '{' is a record), text or jsonl",
    )
    parser.add_argument(
        "--key-file",
        help="file holding a secret key (16+ bytes): placeholders become keyed pseudonyms",
    )
    parser.add_argument("--entities", help="comma-separated entity types to redact (default: all)")
    parser.add_argument(
        "--allow", action="append", default=[], help="word or phrase never redacted"
    )
    parser.add_argument(
        "--deny", action="append", default=[], help="word or phrase always redacted"
    )
    parser.add_argument(
        "--spans",
        action="store_true",
        help="add a 'redactions' list (offsets, entity) to each record",
    )
    parser.add_argument("-o", "--output", help="write here instead of stdout")
    parser.add_argument("--errors", help="write error records here instead of stderr")


def _redactor(args: argparse.Namespace) -> Any:
    from ..redact import Redactor

    key = None
    if args.key_file:
        try:
            key = Path(args.key_file).read_bytes().strip()
        except OSError as exc:
            raise InputError(f"cannot read --key-file {args.key_file!r}: {exc.strerror}") from exc
        if len(key) < 16:
            raise InputError(f"--key-file must hold at least 16 bytes, found {len(key)}")
    entities = (
        [e.strip().upper() for e in args.entities.split(",") if e.strip()]
        if args.entities
        else None
    )
    return Redactor(allow=args.allow, deny=args.deny, entities=entities, pseudonym_key=key)


def run(args: argparse.Namespace) -> int:
    from ..models import RecordError
    from ._common import atomic_write_text, check_output_path, error_json, open_input_lines

    redactor = _redactor(args)
    fields = args.field or ["narrative"]
    for target in (args.output, args.errors):
        if target:
            check_output_path(target)
    try:
        lines, close = open_input_lines(args.input)
    except OSError as exc:
        raise InputError(f"cannot open {args.input!r}: {exc.strerror}") from exc
    out_lines: list[str] = []
    errors: list[str] = []
    out: IO[str] | None = None if args.output else sys.stdout
    name = None if args.input == "-" else Path(args.input).name
    try:
        for ln in lines:
            number = ln.number
            if ln.text is None:  # does not decode, or too long: one error, then go on
                problem = f"line {number}: {ln.problem or 'unreadable line'}"
                errors.append(error_json(RecordError(line=number, error=problem, source=name)))
                continue
            line = ln.text.rstrip("\r\n")
            is_record = args.format == "jsonl" or (
                args.format == "auto" and line.lstrip().startswith("{")
            )
            if not is_record:
                result, error = _redact_text(line, number, redactor, name)
            else:
                if not line.strip():
                    continue
                result, error = _redact_record(line, number, fields, redactor, args.spans, name)
            if error is not None:
                errors.append(error)
                continue
            if out is None:
                out_lines.append(result + "\n")
            else:
                out.write(result + "\n")
    finally:
        close()
    if args.output:
        atomic_write_text(args.output, "".join(out_lines))
    if errors:
        text = "".join(e + "\n" for e in errors)
        if args.errors:
            atomic_write_text(args.errors, text)
        else:
            sys.stderr.write(text)
        return 1
    return 0


def _failure(exc: BaseException) -> str:
    """Why redacting a line failed, without quoting it."""
    from ..exceptions import describe_failure

    if isinstance(exc, RecursionError):  # json.loads of the line
        return "malformed JSON (nested too deeply)"
    return describe_failure(exc)


def _redact_text(
    line: str, number: int, redactor: Any, source: str | None
) -> tuple[str, str | None]:
    from ..models import RecordError
    from ._common import error_json

    try:
        return redactor.redact(line).text, None
    except Exception as exc:  # one line's failure must not stop the others
        problem = f"line {number}: {_failure(exc)}"
        return "", error_json(RecordError(line=number, error=problem, source=source))


def _redact_record(
    line: str, number: int, fields: list[str], redactor: Any, spans: bool, source: str | None
) -> tuple[str, str | None]:
    from ..models import RecordError
    from ._common import error_json, safe_id, strict_json

    def error(message: str, record_id: Any = None) -> tuple[str, str]:
        err = RecordError(
            id=safe_id(record_id), line=number, error=f"line {number}: {message}", source=source
        )
        return "", error_json(err)

    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return error(f"malformed JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return error("malformed JSON (nested too deeply)")
    except ValueError:  # e.g. an integer of more digits than Python converts
        return error("malformed JSON (a number too large to read)")
    if not isinstance(record, dict):
        return error(f"a record must be a JSON object, got {type(record).__name__}")
    present = [f for f in fields if f in record]
    if not present:
        return error(
            f"record has no field {' or '.join(repr(f) for f in fields)}", record.get("id")
        )
    try:
        all_spans: dict[str, list[dict[str, Any]]] = {}
        for field in present:
            value = record[field]
            if not isinstance(value, str):
                return error(
                    f"field {field!r} must be a string, got {type(value).__name__}",
                    record.get("id"),
                )
            result = redactor.redact(value)
            record[field] = result.text
            all_spans[field] = [s.model_dump() for s in result.spans]
        if spans:
            record["redactions"] = all_spans if len(present) > 1 else all_spans[present[0]]
        # strict JSON out: an infinite or NaN number becomes null, as analyse writes it
        return strict_json(record), None
    except Exception as exc:  # one record's failure must not stop the others
        return error(_failure(exc), record.get("id"))
