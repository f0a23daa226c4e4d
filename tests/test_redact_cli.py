"""``humanfactors redact``: text lines and JSONL records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humanfactors.cli import main


def test_text_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.txt"
    src.write_text("Mum (Kirsty) rang 07700 900123.\nNo identifiers here.\n", encoding="utf-8")
    assert main(["redact", str(src)]) == 0
    assert capsys.readouterr().out == "Mum ([PERSON_1]) rang [PHONE_1].\nNo identifiers here.\n"


def test_jsonl_records_keep_structure(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    rec = {
        "id": "a1",
        "narrative": "Dad, Tomasz Nowak, left.",
        "harm": "low",
        "codes": ["ERR.SLIP"],
    }
    src.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["redact", str(src), "-o", str(out), "--spans"]) == 0
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got["narrative"] == "Dad, [PERSON_1], left."
    assert got["harm"] == "low" and got["codes"] == ["ERR.SLIP"] and got["id"] == "a1"
    assert got["redactions"][0]["entity"] == "PERSON"


def test_field_option_and_keyed_pseudonyms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "1", "text": "Kirsty Smith rang."})
        + "\n"
        + json.dumps({"id": "2", "text": "We saw Kirsty Smith."})
        + "\n",
        encoding="utf-8",
    )
    key = tmp_path / "key"
    key.write_bytes(b"a-secret-key-of-enough-length\n")
    assert main(["redact", str(src), "--field", "text", "--key-file", str(key)]) == 0
    lines = [json.loads(x)["text"] for x in capsys.readouterr().out.splitlines()]
    ph = lines[0].split()[0]
    assert ph.startswith("[PERSON_") and ph in lines[1]


def test_bad_lines_give_error_records_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id": "ok", "narrative": "Kirsty rang."}\n{not json\n{"id": "x", "other": 1}\n',
        encoding="utf-8",
    )
    assert main(["redact", str(src), "--format", "jsonl"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["narrative"] == "[PERSON_1] rang."
    errors = [json.loads(x) for x in captured.err.splitlines()]
    assert [e["line"] for e in errors] == [2, 3]
    assert "Kirsty" not in captured.err


def test_short_key_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"short")
    src = tmp_path / "in.txt"
    src.write_text("x\n", encoding="utf-8")
    assert main(["redact", str(src), "--key-file", str(key)]) == 2
    assert "16 bytes" in capsys.readouterr().err


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redact", str(tmp_path / "nope.txt")]) == 2
    assert "cannot open" in capsys.readouterr().err
