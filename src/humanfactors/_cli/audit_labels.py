"""``humanfactors audit-labels DATA``: coded reports worth a second look."""

from __future__ import annotations

import argparse
import sys

from .train import add_data_arguments, default_taxonomy, read_data

HELP = "list coded reports whose codes a cross-validated model strongly disputes"


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)
    parser.add_argument(
        "--cv", type=int, default=5, metavar="K", help="cross-validation folds (default 5)"
    )
    parser.add_argument(
        "--top", type=int, default=20, metavar="N", help="show the N most suspicious (default 20)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--random-state", type=int, default=0, help="seed of the folds and models (default 0)"
    )


def run(args: argparse.Namespace) -> int:
    from ..audit import audit_labels
    from ..exceptions import InputError

    if args.top < 1:
        raise InputError(f"--top must be at least 1, got {args.top}")
    taxonomy = default_taxonomy(args)
    data = read_data(args, "audit-labels", taxonomy)
    if args.cv < 2 or args.cv > len(data):
        raise InputError(f"--cv must be between 2 and the number of reports ({len(data)})")
    report = audit_labels(
        data.texts,
        data.labels,
        ids=data.ids,
        taxonomy=taxonomy,
        cv=args.cv,
        random_state=args.random_state,
    )
    if args.json:
        sys.stdout.write(report.to_json(indent=2, top=args.top) + "\n")
    else:
        sys.stdout.write(report.table(top=args.top) + "\n")
    return 1 if data.errors else 0
