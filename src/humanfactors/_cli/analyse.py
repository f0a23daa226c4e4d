"""``humanfactors analyse INPUT...``: analyse reports end to end, JSONL out."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ._common import fsync_quietly, output_error

HELP = "analyse reports: redaction, rules, classifier and quality checks (JSONL out)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="input files, or - for stdin")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="write analyses here (default stdout)")
    parser.add_argument("--format", choices=["jsonl", "csv", "asrs", "txt"],
                        help="input format (default: from the file suffix; jsonl for stdin)")
    parser.add_argument("--text-column", action="append", metavar="NAME",
                        help="CSV column(s) holding the narrative; several are joined")
    parser.add_argument("--id-column", metavar="NAME", help="CSV column holding the report id")
    parser.add_argument("--model", metavar="MODEL",
                        help="a saved model file (default: the embedded model)")
    parser.add_argument("--no-model", action="store_true", help="rules and checks only")
    parser.add_argument("--no-rules", action="store_true", help="do not apply the built-in rules")
    parser.add_argument("--taxonomy", metavar="NAME",
                        help="taxonomy name or TOML path (default safeguarding)")
    parser.add_argument("--no-redact", action="store_true",
                        help="do not redact personal data first")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="worker processes (-1: all cores)")
    parser.add_argument("--batch-size", type=int, default=64, metavar="N", help="reports per task")
    parser.add_argument("--resume", action="store_true",
                        help="append to OUT, skipping ids already there (after a crash or stop)")
    parser.add_argument("--errors", metavar="FILE",
                        help="write error records here (default stderr)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")


class _Progress:
    """A one-line progress display on stderr, only when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, failed: int) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        sys.stderr.write(f"\ranalysed {done:,} reports ({failed:,} failed), {rate:,.0f}/s   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 70 + "\r")


def _done_ids(path: Path) -> Counter[str]:
    """How many times each id is already in OUT; a torn last line (a crash mid-write) is cut off.

    Counted, not collected in a set: an input that repeats an id holds several records,
    and each one is skipped only if OUT holds an analysis of it.
    """
    done: Counter[str] = Counter()
    if not path.is_file():  # missing, or a device or FIFO that cannot hold earlier output
        return done
    with open(path, "rb+") as fh:
        data = fh.read()
        good_end = data.rfind(b"\n") + 1
        if good_end != len(data):
            fh.truncate(good_end)
    for raw in data[:good_end].splitlines():
        try:
            rec = json.loads(raw)
            rid = rec["incident"]["id"]
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
        if isinstance(rid, str):
            done[rid] += 1
    return done


class _LineWriter:
    """Writes whole lines with one write() each, so a line is on disk entirely or not at all."""

    def __init__(self, target: str | None, append: bool) -> None:
        self.fd: int | None = None
        self.stream: IO[str] | None = None
        if target is None or target == "-":
            self.stream = sys.stdout
        else:
            # Opened once: closing and opening again would give the reader of a FIFO its
            # end of file, and the second open would then wait for a reader for ever.
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if append else os.O_TRUNC)
            try:
                self.fd = os.open(target, flags, 0o644)
            except OSError as exc:
                raise output_error(target, exc) from None

    def write(self, line: str) -> None:
        if self.fd is not None:
            os.write(self.fd, (line + "\n").encode("utf-8"))
        else:
            assert self.stream is not None
            self.stream.write(line + "\n")

    def close(self) -> None:
        if self.fd is not None:
            try:
                fsync_quietly(self.fd)  # a device, pipe or FIFO has nothing to sync
            finally:
                os.close(self.fd)
        elif self.stream is not None:
            self.stream.flush()


def _records(args: argparse.Namespace, skip: Counter[str], skipped: list[int]) -> Iterator[Any]:
    """The input records, less those already in OUT: ``skip`` is used up one id at a time."""
    from ..io import iter_records
    from ..models import Incident

    for name in args.inputs:
        fmt = args.format or ("jsonl" if name == "-" else None)
        for line, item in iter_records(name, format=fmt, text_columns=args.text_column,
                                       id_column=args.id_column):
            if skip and isinstance(item, Incident) and skip[item.id] > 0:
                skip[item.id] -= 1
                skipped[0] += 1
                continue
            yield line, item


def _warn_shared_stems(inputs: list[str]) -> None:
    """Warn where two inputs share a file stem: ids made from it (``STEM:LINE``, for
    text files and CSV files without an id column) would be the same in both."""
    seen: dict[str, str] = {}
    for name in inputs:
        if name == "-":
            continue
        stem = Path(name).stem
        if stem in seen and seen[stem] != name:
            print(
                f"humanfactors analyse: warning: {seen[stem]} and {name} share the name "
                f"{stem!r}: records without an id get the same ids ({stem}:LINE) in both; "
                "rename one, or give the records ids",
                file=sys.stderr,
            )
        seen.setdefault(stem, name)


def run(args: argparse.Namespace) -> int:
    from ..exceptions import InputError
    from ..models import RecordError
    from ..pipeline import analyse_many
    from ._common import error_json, safe_id

    if args.resume and not args.output:
        raise InputError("--resume needs -o OUT: it skips the ids already written there")
    for name in args.inputs:
        if name != "-" and not Path(name).exists():
            raise InputError(f"input file not found: {name}")
    if args.jobs == 0 or args.jobs < -1:
        raise InputError(f"--jobs must be a positive number or -1, got {args.jobs}")
    _warn_shared_stems(args.inputs)
    skip = _done_ids(Path(args.output)) if args.resume else Counter()
    skipped = [0]
    model: Any = False if args.no_model else args.model
    rules: Any = False if args.no_rules else None
    err_stream: IO[str] = sys.stderr
    if args.errors:
        try:  # closed in the finally below
            err_stream = open(args.errors, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise output_error(args.errors, exc) from None
    try:
        out = _LineWriter(args.output, append=args.resume)
    except BaseException:
        if args.errors:
            err_stream.close()
        raise
    progress = _Progress(not args.quiet)
    codes: Counter[str] = Counter()
    done = failed = 0
    try:
        results = analyse_many(_records(args, skip, skipped), taxonomy=args.taxonomy,
                               model=model, rules=rules, redact=not args.no_redact,
                               n_jobs=args.jobs, batch_size=args.batch_size)
        for result in results:
            if not isinstance(result, RecordError):
                try:
                    line = result.model_dump_json()
                except ValueError:  # cannot be written as JSON: an error record, not lost
                    result = RecordError(
                        id=safe_id(result.incident.id),
                        error="internal error (the analysis cannot be written as JSON)",
                    )
                else:
                    done += 1
                    codes.update(result.codes)
                    out.write(line)
            if isinstance(result, RecordError):
                failed += 1
                err_stream.write(error_json(result, exclude_none=True) + "\n")
            progress.update(done, failed)
    finally:
        progress.close()
        try:
            out.close()
        finally:
            if args.errors:
                err_stream.close()
    if not args.quiet:
        top = ", ".join(f"{c} {n}" for c, n in codes.most_common(8)) or "none"
        already = f", {skipped[0]:,} already in OUT" if args.resume else ""
        print(f"humanfactors analyse: {done:,} analysed, {failed:,} failed{already};"
              f" most frequent codes: {top}",
              file=sys.stderr)
    return 1 if failed else 0
