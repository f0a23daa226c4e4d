"""Redaction quality and speed: humanfactors.redact beside scrubadub.

Quality on two sets:

* tests/data/redaction_cases.jsonl — sentences in safeguarding language with the exact
  spans that must go (with their entity) and the words that must stay;
* data/safeguarding/source/*.txt — fictional reports with ``pii: TYPE | text`` lines
  (recall only; an independent check).

A span counts as removed when every letter and digit in it lies inside a redaction (of
any entity: removal is what protects a person); "typed" recall also asks for the right
entity. A must-stay word counts as kept when none of its letters or digits is redacted.

Speed: characters per second of one redactor on one core, on about 1 MB and 4 MB of
report text (the time should grow linearly), and on 2,000 separate 1,500-character
reports (the pipeline's unit of work).

Run: python benchmarks/bench_redact.py [--no-scrubadub] [--mb 1]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "redaction_cases.jsonl"
CORPUS = ROOT / "data" / "safeguarding" / "source"
STRUCTURED = ("NHS_NUMBER", "NI_NUMBER", "PHONE", "EMAIL", "POSTCODE")

Spans = list[tuple[int, int, str]]  # start, end, entity


def load_cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line]


def load_corpus() -> list[dict]:
    cases = []
    for path in sorted(CORPUS.glob("*.txt")):
        for block in path.read_text(encoding="utf-8").split("==="):
            head, sep, body = block.partition("\n---\n")
            if not sep:
                continue
            spans = []
            for line in head.splitlines():
                if line.startswith("pii:"):
                    entity, _, value = line[4:].partition("|")
                    value = value.strip()
                    for m in re.finditer(re.escape(value), body):
                        spans.append({"entity": entity.strip(), "start": m.start(), "end": m.end()})
            cases.append({"text": body, "spans": spans, "keep": []})
    return cases


def covered(spans: Spans, text: str, start: int, end: int, entity: str | None = None) -> bool:
    mask = set()
    for s, e, ent in spans:
        if entity is None or ent == entity:
            mask.update(range(s, e))
    return all(i in mask for i in range(start, end) if text[i].isalnum())


def touched(spans: Spans, text: str, start: int, end: int) -> bool:
    return any(
        s < end and start < e
        for s, e, _ in spans
        if any(text[i].isalnum() for i in range(max(s, start), min(e, end)))
    )


def score(cases: Iterable[dict], find: Callable[[str], Spans]) -> dict:
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # removed, typed, total
    kept = [0, 0]
    for case in cases:
        text = case["text"]
        found = find(text)
        for g in case["spans"]:
            h = hits[g["entity"]]
            h[2] += 1
            h[0] += covered(found, text, g["start"], g["end"])
            h[1] += covered(found, text, g["start"], g["end"], g["entity"])
        for word in case["keep"]:
            for m in re.finditer(re.escape(word), text):
                kept[1] += 1
                kept[0] += not touched(found, text, m.start(), m.end())
    return {"entities": dict(hits), "kept": kept}


def humanfactors_finder() -> Callable[[str], Spans]:
    from humanfactors.redact import Redactor

    redactor = Redactor()
    return lambda text: [(s.start, s.end, s.entity) for s in redactor.redact(text).spans]


SCRUB_MAP = {
    "name": "PERSON",
    "email": "EMAIL",
    "phone": "PHONE",
    "postalcode": "POSTCODE",
    "address": "ADDRESS",
    "national_insurance_number": "NI_NUMBER",
    "url": "URL",
    "credit_card": "CARD",
    "twitter": "USERNAME",
    "date_of_birth": "DATE_OF_BIRTH",
    "vehicle_licence_plate": "VEHICLE_REGISTRATION",
    "tax_reference_number": "REFERENCE",
    "social_security_number": "NI_NUMBER",
    "drivers_licence": "REFERENCE",
}


def scrubadub_finder() -> Callable[[str], Spans] | None:
    """scrubadub's default detectors for en_GB (offline: no model downloads)."""
    try:
        import scrubadub
    except ImportError:
        return None
    scrubber = scrubadub.Scrubber(locale="en_GB")

    def find(text: str) -> Spans:
        out = []
        for f in scrubber.iter_filth(text):
            out.append((f.beg, f.end, SCRUB_MAP.get(f.type, f.type.upper())))
        return out

    return find


def fmt_row(name: str, a: tuple[int, int, int] | None, b: tuple[int, int, int] | None) -> str:
    def cell(x: tuple[int, int, int] | None) -> str:
        if not x or not x[2]:
            return "       –        "  # noqa: RUF001 - an en dash marks an empty table cell
        return f"{x[0] / x[2]:.3f} ({x[1] / x[2]:.3f})"

    n = (a or b or (0, 0, 0))[2]
    return f"| {name:<22} | {n:>4} | {cell(a):>16} | {cell(b):>16} |"


def report(title: str, ours: dict, theirs: dict | None) -> None:
    print(f"\n{title}: recall, span removed (right entity)")
    print(f"| {'entity':<22} | {'n':>4} | {'humanfactors':>16} | {'scrubadub':>16} |")
    print(f"|{'-' * 24}|{'-' * 6}|{'-' * 18}|{'-' * 18}|")
    ents = sorted(ours["entities"])
    for e in ents:
        print(
            fmt_row(e, tuple(ours["entities"][e]), tuple(theirs["entities"][e]) if theirs else None)
        )

    def group(res: dict, names: Iterable[str]) -> tuple[int, int, int]:
        rows = [res["entities"][e] for e in names if e in res["entities"]]
        return (sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows))

    for label, names in (
        ("structured (5 types)", STRUCTURED),
        ("names + addresses", ("PERSON", "ADDRESS")),
    ):
        print(fmt_row(label, group(ours, names), group(theirs, names) if theirs else None))
    if ours["kept"][1]:
        k, n = ours["kept"]
        other = f"{theirs['kept'][0] / n:.3f}" if theirs else "–"  # noqa: RUF001 - empty cell
        print(f"| {'must-stay kept':<22} | {n:>4} | {k / n:>16.3f} | {other:>16} |")


def speed(find: Callable[[str], Spans], megabytes: float) -> tuple[float, float]:
    corpus = [c["text"] for c in load_corpus()] + [c["text"] for c in load_cases()]
    base = "\n\n".join(corpus)
    target = int(megabytes * 1_000_000)
    text = (base * (target // len(base) + 1))[:target]
    # CPU time of this process: one core's throughput, unaffected by other load
    start = time.process_time()
    find(text)
    elapsed = time.process_time() - start
    return elapsed, len(text) / elapsed / 1e6


def speed_reports(find: Callable[[str], Spans], n: int = 2000, size: int = 1500) -> tuple:
    """CPU time for ``n`` separate reports of ``size`` characters (stitched from the sets)."""
    import random

    rng = random.Random(0)
    pool = [c["text"] for c in load_corpus()] + [c["text"] for c in load_cases()]
    reports = []
    for _ in range(n):
        parts: list[str] = []
        while sum(len(p) + 2 for p in parts) < size:
            parts.append(rng.choice(pool))
        reports.append("\n\n".join(parts)[:size])
    find(reports[0])  # load the lexicon outside the timing
    start = time.process_time()
    for text in reports:
        find(text)
    elapsed = time.process_time() - start
    chars = sum(map(len, reports))
    return elapsed, chars / elapsed / 1e6, n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-scrubadub", action="store_true")
    parser.add_argument("--mb", type=float, default=1.0, help="size of the small speed run")
    args = parser.parse_args()
    ours = humanfactors_finder()
    theirs = None if args.no_scrubadub else scrubadub_finder()
    cases, corpus = load_cases(), load_corpus()
    print(f"test set: {len(cases)} sentences; corpus: {len(corpus)} reports")
    report(
        "Test set (tests/data/redaction_cases.jsonl)",
        score(cases, ours),
        score(cases, theirs) if theirs else None,
    )
    report(
        "Corpus (data/safeguarding/source, pii lines)",
        score(corpus, ours),
        score(corpus, theirs) if theirs else None,
    )
    print("\nSpeed, one core, CPU time (MB = 10^6 characters)")
    for mb in (args.mb, 4 * args.mb):
        t, rate = speed(ours, mb)
        print(f"  humanfactors {mb:>4.1f} MB: {t:6.2f} s  {rate:5.2f} MB/s")
    t, rate, per_s = speed_reports(ours)
    print(
        f"  humanfactors 2000 reports of 1,500 chars: {t:6.2f} s  {rate:5.2f} MB/s"
        f"  {per_s:6.0f} reports/s"
    )
    if theirs:
        t, rate = speed(theirs, 0.1)
        print(f"  scrubadub     0.1 MB: {t:6.2f} s  {rate:5.2f} MB/s")


if __name__ == "__main__":
    main()
