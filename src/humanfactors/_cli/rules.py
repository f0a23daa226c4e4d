"""``humanfactors rules [--taxonomy NAME] [--code PREFIX] [--file PATH] [--json]``: list rules."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "list the built-in (or a file's) rules, optionally for one code prefix"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--taxonomy",
        default="safeguarding",
        help="taxonomy of the built-in rules: safeguarding or asrs",
    )
    parser.add_argument(
        "--code", default=None, metavar="PREFIX", help="only rules for this code or below"
    )
    parser.add_argument(
        "--file", default=None, metavar="PATH", help="list (and validate) a TOML rule file instead"
    )
    parser.add_argument("--json", action="store_true", help="print the rules as JSON")


def run(args: argparse.Namespace) -> int:
    from ..rules import RuleSet

    if args.file:
        rules = RuleSet.from_toml(
            args.file, taxonomy=None if args.taxonomy == "safeguarding" else args.taxonomy
        )
    else:
        rules = RuleSet.default(args.taxonomy)
    if args.code:
        rules = rules.select(args.code)
    if args.json:
        json.dump(rules.to_dicts(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    out = sys.stdout
    id_width = max([34, *(len(rule.id) for rule in rules)])
    code_width = max([28, *(len(rule.code) for rule in rules)])
    for rule in rules:
        phrases = len(rule.patterns) + len(rule.regex)
        out.write(
            f"{rule.id:<{id_width}} {rule.code:<{code_width}} {rule.confidence:.2f}"
            f"  {phrases:>3} patterns"
            f"  {rule.description}\n"
        )
    out.write(f"{len(rules)} rules for {len(rules.codes)} codes (taxonomy {rules.taxonomy.name})\n")
    return 0
