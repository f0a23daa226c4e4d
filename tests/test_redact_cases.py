"""Quality targets on the project's redaction test set and on the annotated corpus."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from humanfactors.redact import Redactor

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "data" / "redaction_cases.jsonl"
CORPUS = ROOT / "data" / "safeguarding" / "source"
STRUCTURED = {"NHS_NUMBER", "NI_NUMBER", "PHONE", "EMAIL", "POSTCODE"}


def load() -> list[dict]:
    return [json.loads(x) for x in CASES.read_text(encoding="utf-8").splitlines() if x]


def removed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> bool:
    mask = {i for s, e in spans for i in range(s, e)}
    return all(i in mask for i in range(start, end) if text[i].isalnum())


def touched(spans: list[tuple[int, int]], text: str, start: int, end: int) -> bool:
    return any(text[i].isalnum() for s, e in spans for i in range(max(s, start), min(e, end)))


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def test_test_set_is_well_formed() -> None:
    cases = load()
    assert len(cases) >= 200
    assert len({c["id"] for c in cases}) == len(cases)
    for c in cases:
        for s in c["spans"]:
            assert c["text"][s["start"] : s["end"]] == s["text"], c["id"]
        for word in c["keep"]:
            assert word in c["text"], c["id"]


def test_recall_and_kept_words_meet_targets(redactor: Redactor) -> None:
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    kept = seen = 0
    for c in load():
        text = c["text"]
        spans = [(s.start, s.end) for s in redactor.redact(text).spans]
        for g in c["spans"]:
            group = "structured" if g["entity"] in STRUCTURED else g["entity"]
            total[group] += 1
            hit[group] += removed(spans, text, g["start"], g["end"])
        for word in c["keep"]:
            for m in re.finditer(re.escape(word), text):
                seen += 1
                kept += not touched(spans, text, m.start(), m.end())
    assert hit["structured"] / total["structured"] >= 0.98
    names_addresses = (hit["PERSON"] + hit["ADDRESS"]) / (total["PERSON"] + total["ADDRESS"])
    assert names_addresses >= 0.92
    assert kept / seen >= 0.95


def test_corpus_recall(redactor: Redactor) -> None:
    files = sorted(CORPUS.glob("*.txt"))
    if not files:
        pytest.skip("no annotated corpus sources in data/safeguarding/source")
    hit = total = 0
    for path in files:
        for block in path.read_text(encoding="utf-8").split("==="):
            head, sep, body = block.partition("\n---\n")
            if not sep or "pii:" not in head:
                continue
            spans = [(s.start, s.end) for s in redactor.redact(body).spans]
            for line in head.splitlines():
                if line.startswith("pii:"):
                    value = line.partition("|")[2].strip()
                    for m in re.finditer(re.escape(value), body):
                        total += 1
                        hit += removed(spans, body, m.start(), m.end())
    if not total:
        pytest.skip("no pii annotations in the corpus sources")
    assert hit / total >= 0.95
