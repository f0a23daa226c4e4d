"""``humanfactors schema``: print the JSON Schema of the data models."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "print the JSON Schema of incidents and analyses"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    from ..models import json_schema
    from ._common import atomic_write_text

    text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    if args.output:
        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
