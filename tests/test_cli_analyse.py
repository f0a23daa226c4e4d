"""`humanfactors analyse`: output, error records, exit codes, --resume, formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humanfactors.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples" / "reports.jsonl"
FAST = ["--no-model", "--quiet"]


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def test_analyse_examples_to_file(tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["analyse", str(EXAMPLES), "-o", str(out), *FAST]) == 0
    rows = read_jsonl(out)
    expected = [json.loads(x)["id"] for x in EXAMPLES.read_text().splitlines()]
    assert [r["incident"]["id"] for r in rows] == expected
    assert all(r["taxonomy"] == "safeguarding" for r in rows)


def test_stdout_and_summary(capsys):
    assert main(["analyse", str(EXAMPLES), "--no-model"]) == 0
    cap = capsys.readouterr()
    assert len(cap.out.splitlines()) == len(EXAMPLES.read_text().splitlines())
    assert "analysed" in cap.err and "most frequent codes" in cap.err


def test_bad_lines_become_error_records_and_exit_1(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{"id": "a", "narrative": "I forgot to ring the school."}\n'
        b'{"id": "b", "narrative": \n'
        b'{"id": "c", "narrative": "   "}\n'
        b'\xff\xfe\x00garbage\n'
        b'{"id": "d", "narrative": "The HV was not told about the move."}\n'
    )
    out, errs = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    assert main(["analyse", str(src), "-o", str(out), "--errors", str(errs), *FAST]) == 1
    assert [r["incident"]["id"] for r in read_jsonl(out)] == ["a", "d"]
    errors = read_jsonl(errs)
    assert [e["line"] for e in errors] == [2, 3, 4]
    assert all(e["error"] for e in errors)


def test_resume_skips_done_ids_and_repairs_torn_line(tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["analyse", str(EXAMPLES), "-o", str(out), *FAST]) == 0
    full = read_jsonl(out)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:2]) + lines[2][:40])  # a crash mid-write
    assert main(["analyse", str(EXAMPLES), "-o", str(out), "--resume", *FAST]) == 0
    again = read_jsonl(out)
    assert [r["incident"]["id"] for r in again] == [r["incident"]["id"] for r in full]
    assert again == full


def test_resume_needs_output(capsys):
    assert main(["analyse", str(EXAMPLES), "--resume", *FAST]) == 2
    assert "--resume needs -o" in capsys.readouterr().err


def test_missing_input_is_exit_2(tmp_path, capsys):
    assert main(["analyse", str(tmp_path / "nope.jsonl"), *FAST]) == 2
    assert "not found" in capsys.readouterr().err


def test_csv_with_text_columns(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(
        "ref,what,why\nR1,I forgot to send the referral.,I was covering two caseloads.\nR2,,\n"
    )
    out, errs = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    code = main(["analyse", str(src), "--text-column", "what", "--text-column", "why",
                 "--id-column", "ref", "-o", str(out), "--errors", str(errs), *FAST])
    assert code == 1
    rows = read_jsonl(out)
    assert rows[0]["incident"]["id"] == "R1"
    assert "covering two caseloads" in rows[0]["incident"]["narrative"]
    assert read_jsonl(errs)[0]["id"] == "R2"


def test_txt_lines_from_stdin(monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(
        sys, "stdin", io.StringIO("I forgot the visit.\n\nNobody challenged the plan.\n")
    )
    assert main(["analyse", "-", "--format", "txt", *FAST]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


@pytest.mark.slow
def test_jobs_2_matches_jobs_1(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["analyse", str(EXAMPLES), "-o", str(a), *FAST]) == 0
    parallel = ["--jobs", "2", "--batch-size", "2"]
    assert main(["analyse", str(EXAMPLES), "-o", str(b), *parallel, *FAST]) == 0
    assert read_jsonl(a) == read_jsonl(b)


def test_oversized_and_wrongly_encoded_records_are_reported_and_processing_goes_on(tmp_path):
    src = tmp_path / "in.jsonl"
    big = "x" * 10_000_001
    src.write_bytes(
        b'{"id": "big", "narrative": "' + big.encode() + b'"}\n'
        + '{"id": "latin", "narrative": "Caf\u00e9 visit missed"}\n'.encode("latin-1")
        + b'{"id": "ok", "narrative": "I forgot to book the interpreter for the visit."}\n'
    )
    out, errs = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    assert main(["analyse", str(src), "-o", str(out), "--errors", str(errs), *FAST]) == 1
    assert [r["incident"]["id"] for r in read_jsonl(out)] == ["ok"]
    errors = read_jsonl(errs)
    assert [e["line"] for e in errors] == [1, 2]
    assert "big" not in errors[1]["error"] and len(errs.read_text()) < 2000
