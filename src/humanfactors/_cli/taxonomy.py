"""``humanfactors taxonomy [NAME|PATH] [--json]``: print a taxonomy with definitions."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap

HELP = "print a taxonomy as a tree with definitions (or as JSON)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "name",
        nargs="?",
        default=None,
        help="built-in name (safeguarding, hfacs, asrs) or path to a TOML file;"
        " default safeguarding",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a tree")
    parser.add_argument("--list", action="store_true", help="list the built-in taxonomies")
    parser.add_argument("--brief", action="store_true", help="codes and names only")


def run(args: argparse.Namespace) -> int:
    from ..taxonomy import list_taxonomies, load_taxonomy

    if args.list:
        for name in list_taxonomies():
            tax = load_taxonomy(name)
            print(f"{name}\t{tax.version}\t{len(tax.leaves())} leaf codes\t{tax.title}")
        return 0
    tax = load_taxonomy(args.name)
    if args.json:
        json.dump(tax.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    out.write(f"{tax.title or tax.name} (taxonomy {tax.name}, version {tax.version})\n\n")
    for factor in tax:
        indent = "  " * (factor.level - 1)
        out.write(f"{indent}{factor.code}  {factor.name}\n")
        if not args.brief:
            for line in textwrap.wrap(factor.definition, width=88 - len(indent) - 4):
                out.write(f"{indent}    {line}\n")
    return 0
