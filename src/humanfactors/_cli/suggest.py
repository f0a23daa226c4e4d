"""``humanfactors suggest DATA --model MODEL -n N``: which uncoded reports to code next."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..models import RecordError

HELP = "pick the uncoded reports a model would learn most from (uncertain and varied)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        metavar="DATA",
        help="uncoded reports: JSONL (Incident fields), CSV, raw ASRS export or text, "
        "one report per line; '-' reads JSONL from stdin",
    )
    parser.add_argument("--model", required=True, metavar="MODEL", help="saved model file")
    parser.add_argument(
        "-n", type=int, default=20, metavar="N", help="how many reports to suggest (default 20)"
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "csv", "asrs", "txt"),
        help="input format (default: from the file suffix; raw ASRS exports need 'asrs')",
    )
    parser.add_argument(
        "--text-column",
        action="append",
        metavar="NAME",
        help="CSV column holding report text; repeat to join several",
    )
    parser.add_argument("--id-column", metavar="NAME", help="CSV column holding the report id")
    parser.add_argument(
        "--strategy",
        choices=("diverse", "uncertainty", "random"),
        default="diverse",
        help="diverse (default): uncertain reports unlike each other; uncertainty: the most "
        "uncertain; random: a random sample",
    )
    parser.add_argument(
        "--coded",
        metavar="FILE",
        help="reports coded already (JSONL): skipped, and the suggestions steer away from them",
    )
    parser.add_argument(
        "--table", action="store_true", help="print a table instead of JSON lines"
    )
    parser.add_argument(
        "--trusted",
        action="store_true",
        help="load a model file that was not saved on this machine (loading runs its code)",
    )


def _report(path: str, err: RecordError) -> None:
    """One stderr line for a record that could not be read: the file, then the line."""
    message = err.error
    if err.line is not None and not message.startswith(f"line {err.line}:"):
        message = f"line {err.line}: {message}"
    name = "<stdin>" if path == "-" else path
    print(f"humanfactors suggest: {name}: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from ..exceptions import InputError
    from ..io import iter_records
    from ..models import RecordError
    from ..persistence import load_model
    from ..suggest import suggest_next

    if args.n < 1:
        raise InputError(f"-n must be at least 1, got {args.n}")
    model = load_model(args.model, trusted=args.trusted)
    fmt = args.format or ("jsonl" if args.data == "-" else None)
    coded_ids: set[str] = set()
    coded_texts: list[str] = []
    failed = 0
    if args.coded:
        # a coded line that cannot be read cannot be skipped either: it is reported, and
        # the exit status says the suggestions may include a report coded already
        for _, item in iter_records(args.coded, format="jsonl"):
            if isinstance(item, RecordError):
                failed += 1
                _report(args.coded, item)
                continue
            coded_ids.add(item.id)
            coded_texts.append(item.narrative)
    ids: list[str] = []
    texts: list[str] = []
    for _, item in iter_records(
        args.data, format=fmt, text_columns=args.text_column, id_column=args.id_column
    ):
        if isinstance(item, RecordError):
            failed += 1
            _report(args.data, item)
            continue
        if item.id in coded_ids:
            continue
        ids.append(item.id)
        texts.append(item.narrative)
    if not texts:
        raise InputError(f"{args.data}: no uncoded reports to choose from")
    picks = suggest_next(
        model, texts, n=args.n, ids=ids, strategy=args.strategy, coded_texts=coded_texts
    )
    out = sys.stdout
    if args.table:
        width = max([4, *(len(s.id) for s in picks)])
        out.write(f"{'rank':>4}  {'id':<{width}}  score  reason\n")
        for s in picks:
            out.write(f"{s.rank:4d}  {s.id:<{width}}  {s.score:5.2f}  {s.reason}\n")
    else:
        for s in picks:
            out.write(json.dumps(s.to_dict(), ensure_ascii=False) + "\n")
    return 1 if failed else 0
