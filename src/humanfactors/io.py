"""Read reports and labelled data from JSONL, CSV, raw ASRS exports and plain text; write JSONL.

Two entry points read records:

- :func:`iter_records` streams :class:`~humanfactors.models.Incident` objects for analysis.
  Every input record yields exactly one item, in input order, with its 1-based line
  number: the incident, or a :class:`~humanfactors.models.RecordError` that names the
  line and the problem (never quoting the report). Memory does not grow with the file.
- :func:`load_labelled` reads coded reports (texts plus codes) for training and
  evaluation into a :class:`LabelledData`, reporting every unusable row in ``errors``.

Formats (inferred from the file suffix when ``format`` is None):

``jsonl``
    One JSON object per line: the :class:`~humanfactors.models.Incident` fields, or a
    coded report (the same plus ``codes`` and optionally ``evidence`` and ``pii``).
``csv``
    A header row, then one report per row. Text comes from ``text_columns`` (joined),
    the id from ``id_column`` (else ``<file stem>:<line>``); columns named like an
    Incident field (``event_type``, ``harm``, ``occurred_on`` ...) fill that field and
    the rest go into ``metadata``.
``asrs``
    A raw NASA ASRS DBOnline export exactly as ASRS serves it: a group header row
    (``Time``, ``Person 1``, ``Report 1`` ...), then a column header row (``ACN``,
    ``Human Factors``, ``Narrative``, ``Synopsis`` ...), then one report per row.
``txt``
    One report per non-blank line; the id is ``<file stem>:<line>``.

Blank lines in ``jsonl`` and ``txt`` files are not records and yield nothing.

Examples
--------
>>> import io
>>> from humanfactors.io import iter_records
>>> data = io.StringIO('{"id": "r1", "narrative": "The referral was not sent."}\\nnot json\\n')
>>> for line, item in iter_records(data, format="jsonl"):
...     print(line, type(item).__name__)
1 Incident
2 RecordError
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ValidationError

from .exceptions import InputError, UnknownCodeError
from .models import CodedIncident, Incident, RecordError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .taxonomy import Taxonomy

__all__ = [
    "FORMATS",
    "MAX_LINE_BYTES",
    "MAX_NARRATIVE_CHARS",
    "LabelledData",
    "infer_format",
    "iter_records",
    "load_asrs_dev",
    "load_labelled",
    "write_jsonl",
]

logger = logging.getLogger(__name__)

Format = Literal["jsonl", "csv", "asrs", "txt"]
FORMATS: tuple[str, ...] = ("jsonl", "csv", "asrs", "txt")
Source = str | os.PathLike[str] | IO[str] | IO[bytes]

#: Longest narrative accepted, in characters (the :class:`Incident` limit, about 10 MB).
MAX_NARRATIVE_CHARS = 10_000_000
#: Longest physical line read; the rest of a longer line is skipped, not held in memory.
MAX_LINE_BYTES = 64 * 1024 * 1024

_SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".txt": "txt",
    ".text": "txt",
}
_DEFAULT_TEXT_COLUMNS = ("narrative", "text", "report", "description")
_DEFAULT_ID_COLUMNS = ("id", "acn", "report_id", "incident_id")
_INCIDENT_FIELDS = frozenset(Incident.model_fields) - {"id", "narrative", "metadata"}
_CODED_EXTRAS = ("codes", "evidence", "pii")


# -- reading physical lines ---------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Line:
    """One physical line: its text (``None`` when unusable) or the reason it is unusable."""

    number: int
    text: str | None
    problem: str | None = None


def _source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return "<stdin>" if str(source) == "-" else _shown_path(str(source))
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<stream>"


def _source_stem(source: Source) -> str:
    name = _source_name(source)
    if name in ("<stdin>", "<stream>"):
        return name.strip("<>")
    return Path(name).stem or "input"


def infer_format(source: Source, format: str | None = None) -> Format:
    """The format to read ``source`` in: ``format`` when given, else from the file suffix.

    Raises
    ------
    InputError
        ``format`` is not one of :data:`FORMATS`, or it is None and the suffix says nothing.
    """
    if format is not None:
        if format not in FORMATS:
            raise InputError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
        return format  # type: ignore[return-value]
    name = _source_name(source)
    suffix = Path(name).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    raise InputError(
        f"{name}: cannot tell the format from the file name; give one of {', '.join(FORMATS)} "
        "(a raw ASRS DBOnline export is a .csv file: give format 'asrs')"
    )


def _shown_path(name: str) -> str:
    """``name`` as messages show it: a report's text passed where a path belongs is not
    quoted (it may hold personal data), only its length."""
    try:
        exists = os.path.exists(name)
    except (OSError, ValueError):
        exists = False
    if exists or ("\n" not in name and len(name) <= 260 and len(name.split()) <= 3):
        return name
    return f"<a text of {len(name):,} characters given as a path>"


def _check_path(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{_shown_path(str(path))}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied")


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def _iter_binary_lines(fh: IO[bytes], name: str, encoding: str) -> Iterator[_Line]:
    head = fh.peek(4)[:4] if hasattr(fh, "peek") else b""
    if any(head.startswith(bom) for bom in _UTF16_BOMS):
        raise InputError(
            f"{name}: the file is UTF-16 or UTF-32 encoded; convert it to UTF-8 (or give "
            "encoding='utf-16')"
            if encoding.lower().replace("-", "") == "utf8"
            else f"{name}: unexpected byte-order mark for encoding {encoding!r}"
        )
    number = 0
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            # Too long to hold: skip to the end of the line in bounded chunks.
            skipped = len(raw)
            while raw and not raw.endswith(b"\n"):
                raw = fh.readline(1 << 20)
                skipped += len(raw)
            yield _Line(
                number,
                None,
                f"line is {skipped:,} bytes long, over the {MAX_LINE_BYTES:,}-byte limit",
            )
            continue
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            yield _Line(
                number,
                None,
                f"not valid {exc.encoding} text (byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start}); is the file in another encoding?",
            )
            continue
        yield _Line(number, text)


def _iter_text_lines(fh: IO[str]) -> Iterator[_Line]:
    number = 0
    while True:
        text = fh.readline(MAX_LINE_BYTES + 1)
        if not text:
            return
        number += 1
        if len(text) > MAX_LINE_BYTES and not text.endswith("\n"):
            skipped = len(text)
            while text and not text.endswith("\n"):
                text = fh.readline(1 << 20)
                skipped += len(text)
            yield _Line(number, None, f"line is {skipped:,} characters long, over the limit")
            continue
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield _Line(number, text)


def _open_lines(source: Source, encoding: str) -> tuple[Iterator[_Line], Callable[[], None]]:
    """Physical lines of ``source`` and a function that closes what was opened here."""
    name = _source_name(source)
    if isinstance(source, str | os.PathLike):
        if str(source) == "-":
            stdin_bytes = getattr(sys.stdin, "buffer", None)
            if stdin_bytes is not None:
                return _iter_binary_lines(stdin_bytes, name, encoding), lambda: None
            return _iter_text_lines(sys.stdin), lambda: None
        path = Path(source)
        _check_path(path)
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror})") from None
        try:
            lines = _iter_binary_lines(fh, name, encoding)
            first = next(lines, None)  # surfaces a refused encoding before any record
        except BaseException:
            fh.close()
            raise

        def chained() -> Iterator[_Line]:
            if first is not None:
                yield first
                yield from lines

        return chained(), fh.close
    if hasattr(source, "readline") and hasattr(source, "read"):
        probe = source.read(0)
        if isinstance(probe, bytes):
            return _iter_binary_lines(source, name, encoding), lambda: None  # type: ignore[arg-type]
        return _iter_text_lines(source), lambda: None  # type: ignore[arg-type]
    raise InputError(
        f"cannot read from a {type(source).__name__}: give a path, '-' or an open file"
    )


# -- small helpers ------------------------------------------------------------------
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1f\ufffd]")


def _looks_binary(text: str) -> bool:
    """True for text with NUL bytes or mostly control characters: not a report."""
    if "\x00" in text:
        return True
    stripped = text.strip()
    if not stripped or stripped.isprintable():  # the common case, at C speed
        return False
    bad = len(_CONTROL_RE.findall(stripped))
    return bad * 10 > len(stripped)


def _validation_message(exc: ValidationError) -> str:
    """The first problems of a pydantic error as ``field: message``, never the input."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def _narrative_limit(narrative: object) -> str | None:
    if isinstance(narrative, str) and len(narrative) > MAX_NARRATIVE_CHARS:
        return (
            f"narrative has {len(narrative):,} characters, over the "
            f"{MAX_NARRATIVE_CHARS:,}-character limit"
        )
    return None


def _norm_header(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace("/", " ").split())


def _split_labels(cell: str, sep: str) -> list[str]:
    seen: dict[str, None] = {}
    for part in cell.split(sep):
        part = part.strip()
        if part:
            seen.setdefault(part, None)
    return list(seen)


# -- raw records: what every format reduces to --------------------------------------
@dataclass(frozen=True, slots=True)
class _Raw:
    """One input record before validation: incident fields and raw labels, or an error."""

    line: int
    fields: dict[str, Any] | None = None
    labels: list[str] | None = None
    error: str | None = None
    id: str | None = None
    coded: bool = False  # a JSONL line that carries codes


def _line_error(text: str, exc: json.JSONDecodeError) -> json.JSONDecodeError:
    """The error for ``text`` without its line end, which keeps an error at the end of
    the line at its own column instead of a line after it."""
    try:
        json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as again:
        return again
    except (RecursionError, ValueError):
        pass
    return exc


def _raw_jsonl(lines: Iterator[_Line], *, stem: str) -> Iterator[_Raw]:
    for ln in lines:
        if ln.text is None:
            yield _Raw(ln.number, error=ln.problem)
            continue
        if not ln.text.strip():
            continue
        if _looks_binary(ln.text):
            yield _Raw(ln.number, error="binary data, not a JSON object")
            continue
        try:
            obj = json.loads(ln.text)
        except json.JSONDecodeError as exc:
            exc = _line_error(ln.text, exc)
            where = f"column {exc.pos + 1}"  # one line: the column is the position
            msg = f"{exc.msg} {where}" if exc.msg.endswith(" at") else f"{exc.msg} at {where}"
            yield _Raw(ln.number, error=f"malformed JSON ({msg})")
            continue
        except RecursionError:
            yield _Raw(ln.number, error="malformed JSON (nested too deeply)")
            continue
        except ValueError:  # an integer over Python's digit limit for reading one
            yield _Raw(ln.number, error="malformed JSON (a number too long to read)")
            continue
        if not isinstance(obj, dict):
            yield _Raw(ln.number, error=f"expected a JSON object, got a JSON {type(obj).__name__}")
            continue
        if "id" not in obj:  # as for a CSV row without an id column
            obj = {"id": f"{stem}:{ln.number}", **obj}
        rid = obj.get("id")
        rid = rid if isinstance(rid, str) and rid and len(rid) <= 256 else None
        if "narrative" not in obj:
            yield _Raw(ln.number, error="missing field 'narrative'", id=rid)
            continue
        problem = _narrative_limit(obj["narrative"])
        if problem:
            yield _Raw(ln.number, error=problem, id=rid)
            continue
        codes = obj.get("codes")
        labels = [c for c in codes if isinstance(c, str)] if isinstance(codes, list) else None
        yield _Raw(ln.number, fields=obj, labels=labels, id=rid, coded="codes" in obj)


class _LineFeed:
    """Feeds decoded lines to :mod:`csv` while remembering the problem lines it passed.

    The lines of the row being read are kept, so that after an error in a row that ran
    over several lines (a quote never closed, or closed by a later row's quote) reading
    can start again on the line after the row's first (:meth:`replay_after_first`).
    """

    def __init__(self, lines: Iterator[_Line]):
        self._lines = lines
        self._pending: list[_Line] = []  # lines to give again, last first
        self._row: list[_Line] = []
        self.last = 0
        self.problems: list[tuple[int, str]] = []

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        ln = self._pending.pop() if self._pending else next(self._lines)
        self._row.append(ln)
        self.last = ln.number
        if ln.text is None:
            self.problems.append((ln.number, ln.problem or "unreadable line"))
            return "\n"  # keeps line numbering and quoting state as simple as possible
        return ln.text

    @property
    def row_lines(self) -> int:
        """How many lines the current row has read."""
        return len(self._row)

    def new_row(self) -> None:
        """Forget the lines read so far: a new row starts."""
        self._row.clear()

    def replay_after_first(self) -> None:
        """Give again every line of the current row but its first."""
        if len(self._row) > 1:
            self._pending.extend(reversed(self._row[1:]))
            self.last = self._row[0].number
        self._row.clear()
        self.problems.clear()


def _ensure_field_limit() -> None:
    # The csv default (128 KiB) would reject long narratives; the Incident limit applies
    # instead and is checked per record.
    if csv.field_size_limit() < MAX_NARRATIVE_CHARS + 1:
        csv.field_size_limit(MAX_NARRATIVE_CHARS + 1)


@dataclass(frozen=True, slots=True)
class _CsvRow:
    line: int
    cells: list[str] | None
    error: str | None = None


def _csv_rows(lines: Iterator[_Line], *, delimiter: str = ",") -> Iterator[_CsvRow]:
    """Parsed CSV rows with the line each starts on; unreadable rows become errors."""
    _ensure_field_limit()
    feed = _LineFeed(lines)
    # strict: a stray or unclosed quote is an error on its row, not a silent merge of rows
    reader = csv.reader(feed, delimiter=delimiter, strict=True)
    while True:
        start = feed.last + 1
        feed.new_row()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            msg = str(exc)
            if "field larger than field limit" in msg:
                msg = f"a field is over the {MAX_NARRATIVE_CHARS:,}-character limit"
            elif "unexpected end of data" in msg:
                msg = "a quoted field is never closed"
            if feed.row_lines > 1:
                # A quote opened on this row ran on over later lines (to the end of the
                # input, or to a quote that then broke a later row): read on from the
                # row's second line, afresh, so that no later row is lost.
                feed.replay_after_first()
                reader = csv.reader(feed, delimiter=delimiter, strict=True)
            feed.problems.clear()
            yield _CsvRow(start, None, f"unreadable CSV row ({msg})")
            continue
        problems = [p for n, p in feed.problems if n >= start]
        feed.problems.clear()
        if problems:
            yield _CsvRow(start, None, problems[0])
        elif any("\x00" in c for c in cells):
            yield _CsvRow(start, None, "binary data (NUL bytes) in the row")
        else:
            yield _CsvRow(start, cells)


def _first_header(lines: Iterator[_Line], name: str) -> tuple[Iterator[_CsvRow], _CsvRow]:
    rows = _csv_rows(lines)
    for row in rows:
        if row.cells is None:
            raise InputError(f"{name}: line {row.line}: cannot read the header ({row.error})")
        if any(c.strip() for c in row.cells):
            return rows, row
    raise InputError(f"{name}: the file is empty (no header row)")


_HEADER_LIKE = re.compile(r"[A-Za-z_][\w .:/()#&-]{0,39}")


def _header_names(header: list[str]) -> str:
    """The header's column names for a message, or why they are not shown.

    A first row that is not a header holds data, which may be personal: its cells are
    quoted only when every one looks like a column name (short, a few words, no long
    run of digits, no @).
    """

    def like(h: str) -> bool:
        return not h or (
            _HEADER_LIKE.fullmatch(h) is not None
            and len(h.split()) <= 4
            and re.search(r"\d{3}", h) is None
        )

    if all(like(h) for h in header):
        more = " ..." if len(header) > 20 else ""
        return "columns are " + ", ".join(repr(h) for h in header[:20]) + more
    return (
        f"the first row ({len(header)} cells) does not look like a header, so its cells "
        "are not shown"
    )


def _resolve_columns(header: list[str], wanted: Sequence[str], name: str, what: str) -> list[int]:
    """Indexes of ``wanted`` columns in ``header`` (exact, then case-insensitive)."""
    normed = [_norm_header(h) for h in header]
    out = []
    for col in wanted:
        if col in header:
            out.append(header.index(col))
        elif _norm_header(col) in normed:
            out.append(normed.index(_norm_header(col)))
        else:
            raise InputError(
                f"{name}: no {what} column {col!r} in the header; {_header_names(header)}"
            )
    return out


def _raw_csv(
    lines: Iterator[_Line],
    *,
    name: str,
    stem: str,
    text_columns: Sequence[str] | None,
    id_column: str | None,
    labels_column: str | None,
    label_sep: str,
    text_sep: str,
) -> Iterator[_Raw]:
    rows, head = _first_header(lines, name)
    header = [h.strip() for h in head.cells or []]
    normed = [_norm_header(h) for h in header]
    if text_columns:
        text_idx = _resolve_columns(header, text_columns, name, "text")
    else:
        found = [c for c in _DEFAULT_TEXT_COLUMNS if c in normed]
        if not found:
            raise InputError(
                f"{name}: no text column in the header (looked for "
                f"{', '.join(_DEFAULT_TEXT_COLUMNS)}); name one with text_columns / "
                f"--text-column; {_header_names(header)}"
            )
        text_idx = [normed.index(found[0])]
    if id_column:
        id_idx: int | None = _resolve_columns(header, [id_column], name, "id")[0]
    else:
        id_idx = next((normed.index(c) for c in _DEFAULT_ID_COLUMNS if c in normed), None)
    label_idx = (
        _resolve_columns(header, [labels_column], name, "labels")[0] if labels_column else None
    )
    used = {*text_idx, id_idx, label_idx}
    field_idx = {
        i: normed[i] for i in range(len(header)) if i not in used and normed[i] in _INCIDENT_FIELDS
    }
    meta_idx = [i for i in range(len(header)) if i not in used and i not in field_idx and header[i]]
    width = len(header)
    text_names = ", ".join(repr(header[i]) for i in text_idx)
    for row in rows:
        if row.cells is None:
            yield _Raw(row.line, error=row.error)
            continue
        cells = row.cells
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # a blank line between rows
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]
        rid = cells[id_idx].strip() if id_idx is not None and id_idx < len(cells) else None
        if len(cells) != width:
            yield _Raw(
                row.line,
                error=f"row has {len(cells)} fields but the header has {width}",
                id=rid or None,
            )
            continue
        if id_idx is not None and not rid:
            yield _Raw(row.line, error=f"empty id column {header[id_idx]!r}")
            continue
        parts = [cells[i].strip() for i in text_idx]
        narrative = text_sep.join(p for p in parts if p)
        if not narrative:
            yield _Raw(row.line, error=f"empty text column {text_names}", id=rid)
            continue
        problem = _narrative_limit(narrative)
        if problem:
            yield _Raw(row.line, error=problem, id=rid)
            continue
        fields: dict[str, Any] = {"id": rid or f"{stem}:{row.line}", "narrative": narrative}
        for i, fname in field_idx.items():
            value = cells[i].strip()
            if value:
                fields[fname] = _split_labels(value, ";") if fname == "agencies" else value
        metadata = {header[i]: cells[i] for i in meta_idx if cells[i].strip()}
        if metadata:
            fields["metadata"] = metadata
        labels = _split_labels(cells[label_idx], label_sep) if label_idx is not None else None
        yield _Raw(row.line, fields=fields, labels=labels, id=fields["id"])


def _asrs_date(value: str) -> date | None:
    value = value.strip()
    if len(value) == 6 and value.isdigit():
        return date(int(value[:4]), int(value[4:]), 1)
    if len(value) == 8 and value.isdigit():
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    raise ValueError("date must be six digits, YYYYMM")


def _raw_asrs(
    lines: Iterator[_Line], *, name: str, text_sep: str, label_column: str = "Human Factors"
) -> Iterator[_Raw]:
    rows, groups_row = _first_header(lines, name)
    try:
        columns_row = next(rows)
    except StopIteration:
        raise InputError(f"{name}: an ASRS export has two header rows; found one") from None
    if columns_row.cells is None:
        raise InputError(
            f"{name}: line {columns_row.line}: cannot read the header ({columns_row.error})"
        )
    groups = [g.strip() for g in groups_row.cells or []]
    columns = [c.strip() for c in columns_row.cells]
    if "ACN" not in columns or "Narrative" not in columns:
        hint = ""
        if "ACN" in groups or "Narrative" in groups:
            hint = " (the group header row is missing: is this a flat CSV? use format 'csv')"
        raise InputError(
            f"{name}: not a raw ASRS DBOnline export: the second header row has no "
            f"'ACN' and 'Narrative' columns{hint}"
        )
    width = max(len(groups), len(columns))
    groups += [""] * (width - len(groups))
    columns += [""] * (width - len(columns))
    acn_idx = columns.index("ACN")
    narrative_idx = [i for i, c in enumerate(columns) if c == "Narrative"]
    label_idx = [
        i
        for i, (g, c) in enumerate(zip(groups, columns, strict=True))
        if c == label_column and g.startswith("Person")
    ]
    date_idx = next(
        (i for i, (g, c) in enumerate(zip(groups, columns, strict=True)) if c == "Date"), None
    )
    role_idx = next(
        (
            i
            for i, (g, c) in enumerate(zip(groups, columns, strict=True))
            if g == "Person 1" and c == "Function"
        ),
        None,
    )
    skip = {acn_idx, *narrative_idx}
    for row in rows:
        if row.cells is None:
            yield _Raw(row.line, error=row.error)
            continue
        cells = row.cells
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) > width and not any(c.strip() for c in cells[width:]):
            cells = cells[:width]
        acn = cells[acn_idx].strip() if acn_idx < len(cells) else ""
        if len(cells) != width:
            yield _Raw(
                row.line,
                error=f"row has {len(cells)} fields but the header has {width}",
                id=acn or None,
            )
            continue
        if not acn:
            yield _Raw(row.line, error="empty ACN column")
            continue
        narrative = text_sep.join(cells[i].strip() for i in narrative_idx if cells[i].strip())
        if not narrative:
            yield _Raw(row.line, error="empty narrative (no 'Narrative' column has text)", id=acn)
            continue
        problem = _narrative_limit(narrative)
        if problem:
            yield _Raw(row.line, error=problem, id=acn)
            continue
        fields: dict[str, Any] = {"id": acn, "narrative": narrative}
        if date_idx is not None and cells[date_idx].strip():
            try:
                fields["occurred_on"] = _asrs_date(cells[date_idx])
            except ValueError as exc:
                yield _Raw(row.line, error=f"column 'Date': {exc}", id=acn)
                continue
        if role_idx is not None and 0 < len(cells[role_idx].strip()) <= 200:
            fields["reporter_role"] = cells[role_idx].strip()
        metadata: dict[str, Any] = {}
        nested: dict[str, dict[str, str]] = {}
        for i, (g, c) in enumerate(zip(groups, columns, strict=True)):
            value = cells[i].strip()
            if i in skip or not value or not c:
                continue
            if c == "Synopsis":
                metadata["synopsis"] = value
            else:
                nested.setdefault(g or "Report", {})[c] = value
        if nested:
            metadata["asrs"] = nested
        fields["metadata"] = metadata
        labels: dict[str, None] = {}
        for i in label_idx:
            for code in _split_labels(cells[i], ";"):
                labels.setdefault(code, None)
        yield _Raw(row.line, fields=fields, labels=list(labels), id=acn)


def _raw_txt(lines: Iterator[_Line], *, stem: str) -> Iterator[_Raw]:
    for ln in lines:
        rid = f"{stem}:{ln.number}"
        if ln.text is None:
            yield _Raw(ln.number, error=ln.problem, id=rid)
            continue
        text = ln.text.rstrip("\r\n")
        if not text.strip():
            continue
        if _looks_binary(text):
            yield _Raw(ln.number, error="binary data, not text", id=rid)
            continue
        problem = _narrative_limit(text)
        if problem:
            yield _Raw(ln.number, error=problem, id=rid)
            continue
        yield _Raw(ln.number, fields={"id": rid, "narrative": text.strip()}, id=rid)


def _iter_raw(
    source: Source,
    *,
    format: str | None,
    text_columns: Sequence[str] | None,
    id_column: str | None,
    labels_column: str | None = None,
    label_sep: str = ";",
    text_sep: str = "\n\n",
    encoding: str = "utf-8",
) -> Iterator[_Raw]:
    """Raw records of ``source``; refusals of the whole file are raised before the first."""
    fmt = infer_format(source, format)
    name = _source_name(source)
    if isinstance(text_columns, str):
        text_columns = [text_columns]
    if not isinstance(label_sep, str) or not label_sep:
        raise InputError("label_sep must be a non-empty string, such as ';' or '|'")
    lines, close = _open_lines(source, encoding)
    try:
        if fmt == "jsonl":
            gen: Iterator[_Raw] = _raw_jsonl(lines, stem=_source_stem(source))
        elif fmt == "txt":
            gen = _raw_txt(lines, stem=_source_stem(source))
        elif fmt == "asrs":
            gen = _raw_asrs(lines, name=name, text_sep=text_sep)
        else:
            gen = _raw_csv(
                lines,
                name=name,
                stem=_source_stem(source),
                text_columns=text_columns,
                id_column=id_column,
                labels_column=labels_column,
                label_sep=label_sep,
                text_sep=text_sep,
            )
        first = next(gen, None)  # header problems raise here, before any record
    except BaseException:
        close()
        raise

    def chained() -> Iterator[_Raw]:
        try:
            if first is not None:
                yield first
                yield from gen
        finally:
            close()

    return chained()


def _error(raw: _Raw, message: str, source: str) -> RecordError:
    return RecordError(id=raw.id, line=raw.line, error=f"line {raw.line}: {message}", source=source)


# -- public: records for analysis ---------------------------------------------------
def iter_records(
    source: Source,
    *,
    format: str | None = None,
    text_columns: Sequence[str] | None = None,
    id_column: str | None = None,
    text_sep: str = "\n\n",
    encoding: str = "utf-8",
) -> Iterator[tuple[int, Incident | RecordError]]:
    """Stream the reports in ``source`` as ``(line, Incident or RecordError)`` pairs.

    Parameters
    ----------
    source : path, ``"-"`` or open file
        A file path, ``"-"`` for standard input, or an open text or binary stream.
    format : {"jsonl", "csv", "asrs", "txt"}, optional
        Inferred from the suffix when None (``.jsonl``, ``.csv``, ``.txt``); raw ASRS
        exports are ``.csv`` files and need ``format="asrs"``.
    text_columns : list of str, optional
        CSV columns that hold the narrative, joined with ``text_sep``. By default the
        first of ``narrative``, ``text``, ``report``, ``description``.
    id_column : str, optional
        CSV column with the report id; by default ``id`` (or ``acn``, ``report_id``,
        ``incident_id``) when present, else ``<file stem>:<line>``.
    text_sep : str
        Separator between joined text columns or ASRS report narratives.
    encoding : str
        Text encoding, UTF-8 by default; lines that do not decode become error records.

    Yields
    ------
    (int, Incident or RecordError)
        Exactly one item per input record, in input order, with the 1-based line on
        which the record starts. Errors name the line and the field or problem and
        never quote the report. Coded-report JSONL lines (with ``codes``) give plain
        incidents.

    Raises
    ------
    InputError
        The file is missing, a directory, UTF-16, has no text column in its CSV header
        or is not an ASRS export: raised by the call itself, before any record.
    """
    name = _source_name(source)
    raws = _iter_raw(
        source,
        format=format,
        text_columns=text_columns,
        id_column=id_column,
        text_sep=text_sep,
        encoding=encoding,
    )
    return _incidents(raws, name)


def _incidents(raws: Iterator[_Raw], name: str) -> Iterator[tuple[int, Incident | RecordError]]:
    for raw in raws:
        if raw.error is not None or raw.fields is None:
            yield raw.line, _error(raw, raw.error or "unreadable record", name)
            continue
        fields = raw.fields
        if raw.coded or any(k in fields for k in _CODED_EXTRAS):
            fields = {k: v for k, v in fields.items() if k not in _CODED_EXTRAS}
        try:
            yield raw.line, Incident.model_validate(fields)
        except ValidationError as exc:
            yield raw.line, _error(raw, _validation_message(exc), name)


# -- public: labelled data ----------------------------------------------------------
@dataclass(frozen=True)
class LabelledData:
    """Texts with their codes, ready for training or evaluation, and the rows refused.

    Attributes
    ----------
    ids, texts : list of str
        One entry per usable record, in input order.
    labels : list of list of str
        The codes of each record (canonical codes when a taxonomy was given). A record
        may have no codes: it then counts as a negative example for every code.
    errors : list of RecordError
        Every record that could not be used, with its line and the reason.
    source : str
        Where the data came from.
    taxonomy : str or None
        Name of the taxonomy the codes were resolved through.
    """

    ids: list[str]
    texts: list[str]
    labels: list[list[str]]
    errors: list[RecordError] = field(default_factory=list)
    source: str = "<data>"
    taxonomy: str | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def __repr__(self) -> str:
        return (
            f"LabelledData(source={self.source!r}, n={len(self)}, "
            f"classes={len(self.classes)}, errors={len(self.errors)})"
        )

    @property
    def classes(self) -> tuple[str, ...]:
        """Every code that occurs, sorted."""
        return tuple(sorted({c for codes in self.labels for c in codes}))

    def label_counts(self) -> Counter[str]:
        """How many records carry each code."""
        return Counter(c for codes in self.labels for c in codes)

    def fingerprint(self) -> str:
        """SHA-256 of the ids, texts and codes: identifies the training data exactly."""
        h = hashlib.sha256()
        for rid, text, codes in zip(self.ids, self.texts, self.labels, strict=True):
            for part in (rid, text, "\x1f".join(codes)):
                blob = part.encode("utf-8", "surrogatepass")
                h.update(len(blob).to_bytes(8, "little"))
                h.update(blob)
        return h.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """A pandas DataFrame with columns ``id``, ``text`` and ``labels`` (lists).

        Needs the ``pandas`` extra: ``pip install 'humanfactors[pandas]'``.
        """
        from .exceptions import require

        pd_mod: Any = require("pandas", extra="pandas", feature="LabelledData.to_frame")
        return pd_mod.DataFrame({"id": self.ids, "text": self.texts, "labels": self.labels})


def _taxonomy_or_none(taxonomy: str | os.PathLike[str] | Taxonomy | None) -> Taxonomy | None:
    if taxonomy is None:
        return None
    if isinstance(taxonomy, str) and taxonomy.lower() == "none":
        return None
    from .taxonomy import load_taxonomy

    return load_taxonomy(Path(taxonomy) if isinstance(taxonomy, os.PathLike) else taxonomy)


def load_labelled(
    source: Source,
    *,
    format: str | None = None,
    text_columns: Sequence[str] | None = None,
    labels_column: str | None = None,
    label_sep: str | None = None,
    taxonomy: str | os.PathLike[str] | Taxonomy | None = None,
    id_column: str | None = None,
    text_sep: str = "\n\n",
    encoding: str = "utf-8",
) -> LabelledData:
    """Read coded reports: texts, their codes and the rows that could not be used.

    Parameters
    ----------
    source : path, ``"-"`` or open file
        The data, in one of the formats of :func:`iter_records` except ``txt``.
    format : {"jsonl", "csv", "asrs"}, optional
        Inferred from the suffix when None. ``jsonl`` is the coded-report format
        (Incident fields plus ``codes``); ``asrs`` a raw DBOnline export, whose codes
        are the union of the ``Human Factors`` cells of every person and whose text is
        the report narratives joined.
    text_columns : list of str, optional
        CSV text columns, joined with ``text_sep``.
    labels_column : str, optional
        CSV column with the codes; by default ``codes``, ``labels`` or ``human_factors``.
    label_sep : str, optional
        Separator of codes in a CSV cell, ``";"`` by default (spaces around codes are
        ignored, so ``"; "`` works too).
    taxonomy : str, path, Taxonomy or None
        When given, each code or alias is resolved to its canonical code; unknown codes
        make the record an error that suggests near matches. ``None`` (or ``"none"``)
        keeps the codes as they are.
    id_column : str, optional
        CSV id column (see :func:`iter_records`).

    Returns
    -------
    LabelledData

    Raises
    ------
    InputError
        The file cannot be used at all (missing, a directory, no text or labels column).

    Examples
    --------
    >>> import io
    >>> data = io.StringIO("id,narrative,codes\\n1,Nobody saw the child.,FAM.CHILD_UNSEEN\\n")
    >>> ld = load_labelled(data, format="csv", taxonomy="safeguarding")
    >>> ld.ids, ld.labels
    (['1'], [['FAM.CHILD_UNSEEN']])
    """
    fmt = infer_format(source, format)
    if fmt == "txt":
        raise InputError(
            "plain-text files carry no codes: use jsonl, csv or asrs for labelled data"
        )
    name = _source_name(source)
    tax = _taxonomy_or_none(taxonomy)
    sep = ";" if label_sep is None else label_sep
    if fmt == "csv" and labels_column is None:
        labels_column = _guess_labels_column(source, name, encoding)
    raws = _iter_raw(
        source,
        format=fmt,
        text_columns=text_columns,
        id_column=id_column,
        labels_column=labels_column,
        label_sep=sep,
        text_sep=text_sep,
        encoding=encoding,
    )
    ids: list[str] = []
    texts: list[str] = []
    labels: list[list[str]] = []
    errors: list[RecordError] = []
    for raw in raws:
        if raw.error is not None or raw.fields is None:
            errors.append(_error(raw, raw.error or "unreadable record", name))
            continue
        try:
            if fmt == "jsonl":
                if "codes" not in raw.fields:
                    errors.append(_error(raw, "missing field 'codes'", name))
                    continue
                record: Incident = CodedIncident.model_validate(raw.fields)
                codes = list(record.codes)  # type: ignore[attr-defined]
            else:
                record = Incident.model_validate(raw.fields)
                codes = list(raw.labels or [])
        except ValidationError as exc:
            errors.append(_error(raw, _validation_message(exc), name))
            continue
        if tax is not None:
            try:
                codes = list(dict.fromkeys(tax.resolve(c) for c in codes))
            except UnknownCodeError as exc:
                errors.append(_error(raw, str(exc), name))
                continue
        ids.append(record.id)
        texts.append(record.narrative)
        labels.append(codes)
    if errors:
        logger.info("%s: %d records could not be used", name, len(errors))
    return LabelledData(
        ids=ids,
        texts=texts,
        labels=labels,
        errors=errors,
        source=name,
        taxonomy=tax.name if tax is not None else None,
    )


_DEFAULT_LABEL_COLUMNS = ("codes", "labels", "human_factors", "label")


def _guess_labels_column(source: Source, name: str, encoding: str) -> str:
    """The labels column of a CSV file when none is named (reads only the header)."""
    if not isinstance(source, str | os.PathLike) or str(source) == "-":
        # Only a stream's header can be peeked at without consuming it if it is seekable.
        seekable = hasattr(source, "seekable") and source.seekable()
        if not seekable:
            raise InputError(f"{name}: name the labels column (labels_column / --labels-column)")
        pos = source.tell()  # type: ignore[union-attr]
        lines, _ = _open_lines(source, encoding)
        try:
            _, head = _first_header(lines, name)
        finally:
            source.seek(pos)  # type: ignore[union-attr]
    else:
        lines, close = _open_lines(source, encoding)
        try:
            _, head = _first_header(lines, name)
        finally:
            close()
    normed = [_norm_header(h) for h in head.cells or []]
    for col in _DEFAULT_LABEL_COLUMNS:
        if col in normed:
            return (head.cells or [])[normed.index(col)].strip()
    raise InputError(
        f"{name}: no labels column in the header (looked for "
        f"{', '.join(_DEFAULT_LABEL_COLUMNS)}); name one with labels_column / --labels-column"
    )


def load_asrs_dev(
    path: str | os.PathLike[str],
    *,
    taxonomy: str | os.PathLike[str] | Taxonomy | None = "asrs",
) -> LabelledData:
    """Read the flat ASRS ``dev.csv`` (columns ``acn``, ``narrative``, ``narrative_2``,
    ``human_factors``): text is both narratives joined, codes the ``asrs`` taxonomy's.

    Equivalent to ``load_labelled(path, format="csv", text_columns=["narrative",
    "narrative_2"], id_column="acn", labels_column="human_factors", label_sep=";",
    taxonomy="asrs")``; pass ``taxonomy=None`` to keep the ASRS spellings.
    """
    return load_labelled(
        path,
        format="csv",
        text_columns=["narrative", "narrative_2"],
        id_column="acn",
        labels_column="human_factors",
        label_sep=";",
        taxonomy=taxonomy,
    )


# -- writing ------------------------------------------------------------------------
def _json_line(item: object) -> str:
    if isinstance(item, BaseModel):
        return item.model_dump_json()
    from pydantic_core import to_json

    return to_json(item).decode("utf-8")


def write_jsonl(path_or_stream: str | os.PathLike[str] | IO[str], items: Iterable[object]) -> int:
    """Write ``items`` (pydantic models or JSON-compatible dicts) one JSON object per line.

    Writing to a path is atomic: the items go to a temporary file in the same folder,
    which replaces the target only when every item was written, so a reader never sees
    half a file and a failure leaves the old file untouched. ``"-"`` writes to stdout.

    Returns
    -------
    int
        The number of lines written.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> write_jsonl(buf, [{"id": "r1", "line": 3, "error": "line 3: malformed JSON"}])
    1
    >>> buf.getvalue()
    '{"id":"r1","line":3,"error":"line 3: malformed JSON"}\\n'
    """
    from ._args import check_texts

    check_texts(items, "items", "write_jsonl", "an iterable of models or dicts")
    if not isinstance(path_or_stream, str | os.PathLike):
        if not callable(getattr(path_or_stream, "write", None)):
            raise InputError(
                "write_jsonl: path_or_stream must be a path, '-' or a text stream, "
                f"got {type(path_or_stream).__name__}"
            )
        return _write_lines(path_or_stream, items)
    if str(path_or_stream) == "-":
        return _write_lines(sys.stdout, items)
    target = Path(path_or_stream)
    if target.is_dir():
        raise InputError(f"{target}: is a directory, not a file")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"{target}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            count = _write_lines(fh, items)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def _write_lines(fh: IO[str], items: Iterable[object]) -> int:
    count = 0
    for item in items:
        fh.write(_json_line(item))
        fh.write("\n")
        count += 1
    return count
