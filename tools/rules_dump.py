"""Dump every rule match, finding, quality-check issue and redaction on a fixed set of
texts.

    python tools/rules_dump.py OUT                # the texts as they are
    python tools/rules_dump.py OUT --beyond-ascii # the same texts with curly quotes,
                                                  # dashes, accents and case traps added

Run it on two versions of the code (a worktree with ``PYTHONPATH=<worktree>/src``) and
compare the files byte for byte: a change to the rules engine, the checks or the
redaction that is meant to be a speed-up only must leave them identical. It prints the
number of texts and a short hash.

Texts: the fictional corpus's reports, 400 (or 200) 1,500-character chunks of them, every
labelled sentence in tests/data, a few hostile strings, and 600 (or 300) ASRS narratives
when ../shared/data/asrs/dev.csv exists. Each text is also matched with a random subset
of codes (the pipeline's path).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASRS = ROOT.parent / "shared" / "data" / "asrs" / "dev.csv"
sys.path.insert(0, str(ROOT / "benchmarks"))


def _smart(text: str) -> str:
    quotes = iter(["\u201c", "\u201d"] * (text.count('"') // 2 + 1))
    text = re.sub('"', lambda _: next(quotes), text)
    for plain, fancy in ((" - ", " \u2013 "), ("--", "\u2014"), ("...", "\u2026"), ("'", "\u2019")):
        text = text.replace(plain, fancy)
    return text


def _accents(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    for _ in range(3):
        k = rng.randrange(len(words))
        if words[k]:
            w = words[k]
            words[k] = w[:-1] + rng.choice("éàñøüÉ") if rng.random() < 0.5 else "É" + w
    return " ".join(words) + rng.choice(
        [" café", " £40", " rôle", " naïve", " 3\u00d72", " \u00bd"]
    )


def _traps(text: str, rng: random.Random) -> str:
    # long s, Kelvin sign, capital I with a dot, dotless i, Arabic-Indic digits
    return text + rng.choice(
        [" \u017ftaff", " \u212aelvin", " \u0130stanbul", " \u0131", " \u0663\u0663 cases"]
    )


def texts(beyond_ascii: bool, rng: random.Random) -> tuple[list[str], list[str]]:
    from bench_rules import chunks, corpus_reports

    base = [t for t, _ in corpus_reports()]
    base += chunks(base, 1500, 200 if beyond_ascii else 400)
    for path in sorted((ROOT / "tests" / "data").glob("rule_sentences*.jsonl")):
        base += [json.loads(x)["text"] for x in path.read_text("utf-8").splitlines() if x]
    base += ["Did not  follow-up; didn\u2019t FOLLOW UP. The SW's  manager/team-manager, did not"
             " - forget.", "a" * 3000, "(((" * 500, "not " * 400, "I I I was was busy busy"]
    asrs: list[str] = []
    if ASRS.exists():
        with ASRS.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))[: 300 if beyond_ascii else 600]
        asrs = [r["narrative"] for r in rows]
    if not beyond_ascii:
        return base, asrs
    out = []
    for t in base:
        out += [_smart(t), _accents(t, rng), _accents(_smart(t), rng)]
        if rng.random() < 0.2:
            out.append(_traps(t, rng))
    return out, [_accents(t, rng) for t in asrs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--beyond-ascii", action="store_true")
    args = ap.parse_args()
    from humanfactors.redact import Redactor
    from humanfactors.rules import RuleSet, check

    rng = random.Random(7)
    safeguarding, asrs = texts(args.beyond_ascii, rng)
    with open(args.out, "w", encoding="utf-8") as out:
        for name, items in (("safeguarding", safeguarding), ("asrs", asrs)):
            rules = RuleSet.default(name)
            codes = sorted({r.code for r in rules})
            for t in items:
                for m in rules.matches(t):
                    out.write(f"{name}\t{m.rule_id}\t{m.start}\t{m.end}\t{m.confidence:.6f}\n")
                subset = rng.sample(codes, rng.randint(1, max(1, len(codes) // 3)))
                for m in rules.matches(t, codes=subset):
                    out.write(f"some\t{m.rule_id}\t{m.start}\t{m.end}\t{m.confidence:.6f}\n")
                for f in rules.apply(t):
                    spans = [(e.start, e.end) for e in f.evidence]
                    out.write(f"finding\t{f.code}\t{f.confidence:.6f}\t{spans}\n")
        redactor = Redactor()
        for t in safeguarding:
            for q in check(t):
                out.write(f"check\t{q.code}\t{[(e.start, e.end) for e in q.evidence]}\n")
            redacted = redactor.redact(t)
            spans = [(r.entity, r.start, r.end) for r in redacted.spans]
            out.write(f"redact\t{spans}\t{json.dumps(redacted.text)}\n")
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()[:16]
    print(f"{len(safeguarding)} safeguarding and {len(asrs)} ASRS texts; sha256 {digest}")


if __name__ == "__main__":
    main()
