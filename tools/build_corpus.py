"""Build the safeguarding corpus JSONL from its authoring files, validating everything.

The authoring files ``data/safeguarding/source/part*-NN.txt`` hold reports separated by
``===`` lines: a header of ``key: value`` lines, a ``---`` line, then the narrative.
``evidence: CODE | quote`` and ``pii: TYPE | text`` lines give exact quotes from the
narrative; this script turns them into character spans.

    python tools/build_corpus.py            # validate and write train.jsonl / test.jsonl
    python tools/build_corpus.py --check F  # validate some files only, write nothing
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "data" / "safeguarding" / "source"
OUT = ROOT / "data" / "safeguarding"
sys.path.insert(0, str(ROOT / "src"))

from humanfactors.models import Incident  # noqa: E402
from humanfactors.taxonomy import load_taxonomy  # noqa: E402

PII_TYPES = {
    "PERSON", "ADDRESS", "POSTCODE", "PHONE", "EMAIL", "NHS_NUMBER", "NI_NUMBER", "DATE_OF_BIRTH",
}
HEADER_KEYS = {
    "event_type", "harm", "setting", "reporter_role", "agencies", "region", "occurred_on",
    "reported_on", "codes", "evidence", "pii",
}
TEST_SHARE = 5  # one report in five goes to the test split, chosen by a hash of its id
SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
WORD = re.compile(r"[A-Za-z0-9']+")


class CorpusError(Exception):
    pass


def nhs_number_valid(text: str) -> bool:
    """The NHS number modulus-11 check (10 digits, spaces or hyphens allowed)."""
    digits = [int(c) for c in text if c.isdigit()]
    if len(digits) != 10:
        return False
    check = 11 - sum(d * (10 - i) for i, d in enumerate(digits[:9])) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == digits[9]


def _spans(narrative: str, quote: str, where: str) -> tuple[int, int]:
    start = narrative.find(quote)
    if start < 0:
        raise CorpusError(f"{where}: quote not found in the narrative: {quote[:60]!r}")
    return start, start + len(quote)


def parse_file(path: Path, leaves: set[str]) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"part(\d+)-(\d+)\.txt$", path.name)
    if not m:
        raise CorpusError(f"{path.name}: file name must be partN-NN.txt")
    part, num = int(m.group(1)), int(m.group(2))
    blocks = [b for b in re.split(r"^===[ \t]*$", text, flags=re.M) if b.strip()]
    records = []
    for i, block in enumerate(blocks, start=1):
        where = f"{path.name} report {i}"
        if "\n---" not in block:
            raise CorpusError(f"{where}: no '---' line between header and narrative")
        head, _, body = re.split(r"^(---)[ \t]*$", block, maxsplit=1, flags=re.M)
        narrative = body.strip()
        narrative = re.sub(r"[ \t]+\n", "\n", narrative)
        fields: dict = {"evidence": [], "pii": []}
        for ln, line in enumerate(head.strip().splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if not sep or key not in HEADER_KEYS:
                raise CorpusError(f"{where}: header line {ln}: unknown key {key!r}")
            if key in ("evidence", "pii"):
                label, sep2, quote = value.partition("|")
                if not sep2:
                    raise CorpusError(f"{where}: {key} line needs 'LABEL | quote'")
                fields[key].append((label.strip(), quote.strip()))
            else:
                fields[key] = value
        rid = f"SG-{part}-{num:02d}{i:02d}"
        codes = [c.strip() for c in fields.get("codes", "").split(";") if c.strip()]
        if not 1 <= len(codes) <= 6:
            raise CorpusError(f"{where}: needs 1 to 6 codes, has {len(codes)}")
        for c in codes:
            if c not in leaves:
                raise CorpusError(f"{where}: code {c!r} is not a leaf of the safeguarding taxonomy")
        if len(set(codes)) != len(codes):
            raise CorpusError(f"{where}: a code is listed twice")
        evidence = []
        for code, quote in fields["evidence"]:
            if code not in codes:
                raise CorpusError(f"{where}: evidence for {code!r}, which is not in codes")
            s, e = _spans(narrative, quote, where)
            evidence.append({"code": code, "start": s, "end": e, "text": quote})
        missing = set(codes) - {ev["code"] for ev in evidence}
        if missing:
            raise CorpusError(f"{where}: no evidence for {sorted(missing)}")
        pii = []
        for kind, quote in fields["pii"]:
            if kind not in PII_TYPES:
                raise CorpusError(f"{where}: pii type {kind!r} is not one of {sorted(PII_TYPES)}")
            if kind == "NHS_NUMBER" and not nhs_number_valid(quote):
                raise CorpusError(f"{where}: NHS number {quote!r} fails the modulus-11 check")
            start = 0
            found = False
            while (s := narrative.find(quote, start)) >= 0:
                pii.append({"type": kind, "start": s, "end": s + len(quote), "text": quote})
                start = s + len(quote)
                found = True
            if not found:
                raise CorpusError(f"{where}: pii text not found in the narrative: {quote[:40]!r}")
        words = len(WORD.findall(narrative))
        if not 40 <= words <= 400:
            raise CorpusError(f"{where}: narrative has {words} words; 40 to 400 expected")
        agencies = [a.strip() for a in fields.get("agencies", "").split(";") if a.strip()]
        try:
            inc = Incident(
                id=rid,
                narrative=narrative,
                event_type=fields.get("event_type"),
                harm=fields.get("harm"),
                setting=fields.get("setting"),
                reporter_role=fields.get("reporter_role"),
                agencies=tuple(agencies),
                region=fields.get("region"),
                occurred_on=fields.get("occurred_on"),
                reported_on=fields.get("reported_on"),
            )
        except Exception as exc:  # pydantic's message names the field
            raise CorpusError(f"{where}: {exc}") from None
        for key in ("event_type", "harm", "region", "occurred_on", "reported_on", "setting",
                    "reporter_role"):
            if not fields.get(key):
                raise CorpusError(f"{where}: header {key!r} is missing")
        rec = inc.model_dump(mode="json", exclude={"metadata"})
        rec["codes"] = codes
        rec["evidence"] = sorted(evidence, key=lambda ev: (ev["start"], ev["code"]))
        if pii:
            rec["pii"] = sorted(pii, key=lambda p: p["start"])
        records.append(rec)
    return records


def long_sentences(narrative: str, min_words: int = 12) -> list[str]:
    out = []
    for m in SENTENCE.finditer(narrative):
        words = [w.lower() for w in WORD.findall(m.group(0))]
        if len(words) >= min_words:
            out.append(" ".join(words))
    return out


def check_corpus(records: list[dict]) -> list[str]:
    problems = []
    seen: dict[str, str] = {}
    for rec in records:
        for s in set(long_sentences(rec["narrative"])):
            if s in seen and seen[s] != rec["id"]:
                problems.append(f"{rec['id']} repeats a sentence of {seen[s]}: {s[:70]!r}")
            seen.setdefault(s, rec["id"])
    return problems


def split_of(rid: str) -> str:
    digest = int(hashlib.sha256(rid.encode()).hexdigest(), 16)
    return "test" if digest % TEST_SHARE == 0 else "train"


def distinct_4gram_share(records: list[dict]) -> float:
    grams = Counter()
    for rec in records:
        words = [w.lower() for w in WORD.findall(rec["narrative"])]
        grams.update(zip(words, words[1:], words[2:], words[3:], strict=False))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", nargs="*", help="validate these authoring files only")
    args = ap.parse_args(argv)
    tax = load_taxonomy("safeguarding")
    leaves = set(tax.leaves())
    files = [Path(f) for f in args.check] if args.check else sorted(SRC.glob("part*-*.txt"))
    records, errors = [], []
    for f in files:
        try:
            records.extend(parse_file(f, leaves))
        except CorpusError as exc:
            errors.append(str(exc))
    errors.extend(check_corpus(records))
    counts = Counter(c for r in records for c in r["codes"])
    print(f"{len(records)} reports in {len(files)} files; {len(errors)} problems")
    for e in errors:
        print("  PROBLEM", e)
    if args.check:
        for code in sorted(counts):
            print(f"  {code:28s} {counts[code]}")
        return 1 if errors else 0
    low = {c: counts.get(c, 0) for c in sorted(leaves) if counts.get(c, 0) < 15}
    if low:
        print("  codes with fewer than 15 reports:", low)
    if errors:
        return 1
    records.sort(key=lambda r: r["id"])
    for name in ("train", "test"):
        part = [r for r in records if split_of(r["id"]) == name]
        with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for r in part:
                fh.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
        print(f"  wrote {name}.jsonl: {len(part)} reports")
    print(f"  distinct 4-gram share: {distinct_4gram_share(records):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
