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
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the built-in taxonomies (with --json, as a JSON array); takes no NAME",
    )
    parser.add_argument("--brief", action="store_true", help="codes and names only")


def run(args: argparse.Namespace) -> int:
    from ..exceptions import InputError
    from ..taxonomy import list_taxonomies, load_taxonomy

    if args.list:
        if args.name is not None:
            raise InputError(
                f"--list lists the built-in taxonomies and takes no NAME (got {args.name!r});"
                f" use 'humanfactors taxonomy {args.name}' to print one"
            )
        rows = []
        for name in list_taxonomies():
            tax = load_taxonomy(name)
            rows.append(
                {"name": name, "version": tax.version, "leaf_codes": len(tax.leaves()),
                 "title": tax.title}
            )
        if args.json:
            json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
            return 0
        for row in rows:
            print(
                f"{row['name']}\t{row['version']}\t{row['leaf_codes']} leaf codes\t{row['title']}"
            )
        return 0
    tax = load_taxonomy(args.name)
    if args.json:
        data = tax.to_dict()
        if args.brief:  # codes and names only, as in the text form
            data = {
                **{k: v for k, v in data.items() if k != "factors"},
                "factors": [
                    {"code": f.code, "name": f.name, "parent": f.parent, "level": f.level}
                    for f in tax
                ],
            }
        json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
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
