"""The bundled safeguarding corpus: validity, coverage, variety, the split and the manual.

These tests read ``data/safeguarding/{train,test}.jsonl`` as shipped. The checks of
sentence reuse, the split and the NHS checksum are written here afresh rather than
imported from ``tools/build_corpus.py``, so that a fault in the build script cannot hide
itself; the build script is imported only to check that the shipped files are exactly
what it produces from the authoring files.
"""

from __future__ import annotations

import hashlib
import json
import re
import runpy
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from humanfactors.corpus import load_corpus
from humanfactors.models import CodedIncident
from humanfactors.taxonomy import load_taxonomy

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "safeguarding"
SOURCES = DATA / "source"
BUILD_SCRIPT = REPO / "tools" / "build_corpus.py"
MANUAL = REPO / "docs" / "coding-manual.md"

MIN_REPORTS_PER_CODE = 15
LONG_SENTENCE_WORDS = 12

# Ofcom's ranges reserved for drama: numbers that will never be allocated to anyone.
DRAMA_PHONE = re.compile(
    r"^(?:"
    r"01632 960\d{3}"
    r"|020 7946 0\d{3}"
    r"|01(?:1[3-8]|[2-6]1) 496 0\d{3}"
    r"|0191 498 0\d{3}"
    r"|028 9649 6\d{3}"
    r"|029 2018 0\d{3}"
    r"|07700 900\d{3}"
    r"|08081 570\d{3}"
    r"|0909 879 0\d{3}"
    r"|03069 990\d{3}"
    r")$"
)
_SENTENCE_BREAK = re.compile(r"[.!?\n]")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `python tools/build_corpus.py`")
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def raw() -> dict[str, list[dict[str, Any]]]:
    return {split: _read_jsonl(DATA / f"{split}.jsonl") for split in ("train", "test")}


@pytest.fixture(scope="module")
def records(raw: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [*raw["train"], *raw["test"]]


@pytest.fixture(scope="module")
def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records}


def _long_sentences(text: str) -> set[tuple[str, ...]]:
    out = set()
    for piece in _SENTENCE_BREAK.split(text.lower()):
        words = tuple(_WORD.findall(piece))
        if len(words) >= LONG_SENTENCE_WORDS:
            out.add(words)
    return out


def _nhs_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if len(digits) != 10 or re.search(r"[^\d \-]", number):
        return False
    remainder = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    check = (11 - remainder) % 11
    return check != 10 and check == digits[9]


def _expected_split(rid: str) -> str:
    return "test" if int(hashlib.sha256(rid.encode("utf-8")).hexdigest(), 16) % 5 == 0 else "train"


# --- records ------------------------------------------------------------------------


def test_corpus_is_large_enough(records: list[dict[str, Any]]) -> None:
    assert len(records) >= 600


def test_every_record_validates_as_a_coded_incident(records: list[dict[str, Any]]) -> None:
    bad = []
    for rec in records:
        try:
            inc = CodedIncident.model_validate(rec)
        except ValueError as exc:
            bad.append(f"{rec.get('id')}: {type(exc).__name__}")
            continue
        for field in (
            "event_type",
            "harm",
            "occurred_on",
            "reported_on",
            "setting",
            "reporter_role",
            "region",
        ):
            if getattr(inc, field) is None:
                bad.append(f"{inc.id}: {field} missing")
        if not inc.agencies:
            bad.append(f"{inc.id}: no agencies")
    assert not bad


def test_loader_returns_the_same_reports(raw: dict[str, list[dict[str, Any]]]) -> None:
    for split in ("train", "test"):
        assert [r.id for r in load_corpus(split)] == [r["id"] for r in raw[split]]


def test_ids_are_unique_and_well_formed(records: list[dict[str, Any]]) -> None:
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    assert all(re.fullmatch(r"SG-[1-9]\d*-\d{4}", i) for i in ids)


def test_evidence_and_pii_spans_match_the_narrative(records: list[dict[str, Any]]) -> None:
    bad = []
    for rec in records:
        text = rec["narrative"]
        for span in [*rec.get("evidence", []), *rec.get("pii", [])]:
            if (
                not 0 <= span["start"] < span["end"] <= len(text)
                or text[span["start"] : span["end"]] != span["text"]
            ):
                bad.append(
                    (rec["id"], span.get("code", span.get("type")), span["start"], span["end"])
                )
    assert not bad


def test_every_code_is_a_leaf_of_the_taxonomy_with_evidence(records: list[dict[str, Any]]) -> None:
    leaves = set(load_taxonomy("safeguarding").leaves())
    bad = []
    for rec in records:
        codes = rec["codes"]
        if not 1 <= len(codes) <= 6 or len(set(codes)) != len(codes):
            bad.append((rec["id"], "code count", len(codes)))
        bad.extend((rec["id"], "not a leaf", c) for c in codes if c not in leaves)
        evidenced = {ev["code"] for ev in rec.get("evidence", [])}
        bad.extend((rec["id"], "no evidence", c) for c in codes if c not in evidenced)
        bad.extend((rec["id"], "evidence for uncoded", c) for c in evidenced - set(codes))
    assert not bad


def test_every_leaf_code_has_enough_reports(records: list[dict[str, Any]]) -> None:
    counts = Counter(c for rec in records for c in rec["codes"])
    leaves = load_taxonomy("safeguarding").leaves()
    low = {
        code: counts.get(code, 0) for code in leaves if counts.get(code, 0) < MIN_REPORTS_PER_CODE
    }
    assert not low
    assert len(leaves) == 42


def test_narratives_are_40_to_400_words(records: list[dict[str, Any]]) -> None:
    lengths = {r["id"]: len(re.findall(r"[A-Za-z0-9']+", r["narrative"])) for r in records}
    assert {i: n for i, n in lengths.items() if not 40 <= n <= 400} == {}


def test_event_types_and_harm_are_spread(records: list[dict[str, Any]]) -> None:
    assert {r["event_type"] for r in records} == {
        "incident",
        "near_miss",
        "unsafe_condition",
        "good_practice",
    }
    assert {r["harm"] for r in records} == {"none", "low", "moderate", "severe", "fatal"}


def test_no_long_sentence_appears_in_two_reports(records: list[dict[str, Any]]) -> None:
    first_seen: dict[tuple[str, ...], str] = {}
    repeats = []
    for rec in records:
        for sentence in _long_sentences(rec["narrative"]):
            owner = first_seen.setdefault(sentence, rec["id"])
            if owner != rec["id"]:
                repeats.append((owner, rec["id"], " ".join(sentence[:8])))
    assert not repeats


@pytest.mark.parametrize(
    "text, expected",
    [
        ("One two three four five six seven eight nine ten eleven twelve.", 1),
        ("One two three four five six seven eight nine ten eleven.", 0),
        ("One two three four five six!\nSeven eight nine ten eleven twelve.", 0),
        ("It's one two three four five six seven eight nine ten eleven? Yes.", 1),
    ],
)
def test_long_sentence_splitter(text: str, expected: int) -> None:
    assert len(_long_sentences(text)) == expected


# --- personal data (all invented) ---------------------------------------------------


@pytest.mark.parametrize(
    "number, valid",
    [("943 476 5919", True), ("9434765919", True), ("943 476 5918", False), ("943 476 591", False)],
)
def test_nhs_checksum(number: str, valid: bool) -> None:
    assert _nhs_ok(number) is valid


def _pii(records: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    return [(r["id"], p["text"]) for r in records for p in r.get("pii", []) if p["type"] == kind]


def test_annotated_nhs_numbers_pass_modulus_11(records: list[dict[str, Any]]) -> None:
    numbers = _pii(records, "NHS_NUMBER")
    assert numbers
    assert [n for n in numbers if not _nhs_ok(n[1])] == []


def test_annotated_phone_numbers_are_in_ofcom_drama_ranges(records: list[dict[str, Any]]) -> None:
    phones = _pii(records, "PHONE")
    assert phones
    assert [p for p in phones if not DRAMA_PHONE.match(p[1])] == []


def test_annotated_emails_and_ni_numbers_are_reserved_forms(records: list[dict[str, Any]]) -> None:
    emails = _pii(records, "EMAIL")
    assert emails
    assert [e for e in emails if not re.fullmatch(r"[\w.+-]+@example\.(?:org|com)", e[1])] == []
    assert [
        n for n in _pii(records, "NI_NUMBER") if not n[1].replace(" ", "").startswith("QQ")
    ] == []


def test_pii_types_are_known(records: list[dict[str, Any]]) -> None:
    known = {
        "PERSON",
        "ADDRESS",
        "POSTCODE",
        "PHONE",
        "EMAIL",
        "NHS_NUMBER",
        "NI_NUMBER",
        "DATE_OF_BIRTH",
    }
    assert {p["type"] for r in records for p in r.get("pii", [])} <= known


# --- the split and the build ---------------------------------------------------------


def test_split_is_fixed_by_a_hash_of_the_id(raw: dict[str, list[dict[str, Any]]]) -> None:
    for split in ("train", "test"):
        assert {_expected_split(r["id"]) for r in raw[split]} == {split}
        ids = [r["id"] for r in raw[split]]
        assert ids == sorted(ids)
    share = len(raw["test"]) / (len(raw["train"]) + len(raw["test"]))
    assert 0.15 < share < 0.25


@pytest.fixture(scope="module")
def build() -> dict[str, Any]:
    if not BUILD_SCRIPT.is_file() or not SOURCES.is_dir():
        pytest.skip(
            "tools/build_corpus.py or the authoring files are absent (not a source checkout)"
        )
    return runpy.run_path(str(BUILD_SCRIPT))


def test_build_script_splits_like_this_test(
    build: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    assert all(build["split_of"](r["id"]) == _expected_split(r["id"]) for r in records)


def test_shipped_files_are_what_the_build_script_produces(
    build: dict[str, Any], raw: dict[str, list[dict[str, Any]]]
) -> None:
    leaves = set(load_taxonomy("safeguarding").leaves())
    rebuilt = [
        rec
        for path in sorted(SOURCES.glob("part*-*.txt"))
        for rec in build["parse_file"](path, leaves)
    ]
    assert build["check_corpus"](rebuilt) == []
    rebuilt.sort(key=lambda r: r["id"])
    for split in ("train", "test"):
        expected = [r for r in rebuilt if build["split_of"](r["id"]) == split]
        # Round-trip through JSON so that tuples and lists compare equal.
        expected = [json.loads(json.dumps(r, ensure_ascii=False)) for r in expected]
        assert [r["id"] for r in raw[split]] == [r["id"] for r in expected], (
            f"{split}.jsonl is stale: run `python tools/build_corpus.py`"
        )
        assert raw[split] == expected, f"{split}.jsonl is stale: run `python tools/build_corpus.py`"


# --- the coding manual's worked examples -----------------------------------------------

_SECTION = re.compile(r"^### `([A-Z_.]+)`", re.M)
_EXAMPLE = re.compile(r"^- \*\*(SG-\d-\d{4})\*\*: “([^”]+)”", re.M)


def test_coding_manual_has_two_true_examples_per_leaf(by_id: dict[str, dict[str, Any]]) -> None:
    if not MANUAL.is_file():
        pytest.skip("docs/coding-manual.md is absent (not a source checkout)")
    text = MANUAL.read_text(encoding="utf-8")
    heads = list(_SECTION.finditer(text))
    sections = {
        m.group(1): text[m.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        for i, m in enumerate(heads)
    }
    assert set(sections) == set(load_taxonomy("safeguarding").leaves())
    problems: list[tuple[str, ...]] = []
    for code, body in sections.items():
        examples = _EXAMPLE.findall(body)
        if len(examples) != 2 or examples[0][0] == examples[1][0]:
            problems.append((code, "needs two examples from different reports"))
        for rid, quote in examples:
            rec = by_id.get(rid)
            if rec is None:
                problems.append((code, rid, "no such report"))
            elif code not in rec["codes"]:
                problems.append((code, rid, "report is not coded with it"))
            elif not any(
                quote.rstrip(".… ") in ev["text"] for ev in rec["evidence"] if ev["code"] == code
            ):
                problems.append((code, rid, "quote is not the evidence for the code"))
    assert not problems
