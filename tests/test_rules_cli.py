"""``humanfactors check`` and ``humanfactors rules``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humanfactors.cli import main


def test_check_text_and_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.txt"
    src.write_text(
        "The social worker failed to visit. In hindsight it was obvious.\n"
        '{"id": "a1", "narrative": "It was a near miss.", "event_type": "near_miss",'
        ' "codes": ["ERR.SLIP"]}\n'
        '{"id": "bad", "narrative": ""}\n'
        "\n",
        encoding="utf-8",
    )
    code = main(["check", str(src)])
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r["id"] for r in rows] == ["line-1", "a1"]
    assert {"CHK.HINDSIGHT", "CHK.BLAME"} <= {i["code"] for i in rows[0]["issues"]}
    error = json.loads(err.strip().splitlines()[-1])
    assert error["id"] == "bad" and error["line"] == 3 and "narrative" in error["error"]


def test_check_to_file_exit_zero(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("A report that is fine enough.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["check", str(src), "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["id"] == "line-1"


def test_check_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "/nonexistent/x.txt"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_rules_listing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--code", "ERR.LAPSE"]) == 0
    out = capsys.readouterr().out
    assert "lapse.forgot" in out and "ERR.SLIP" not in out
    assert main(["rules", "--taxonomy", "asrs", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert len({r["code"] for r in rules}) == 12
    assert main(["rules", "--taxonomy", "hfacs"]) == 2
    assert "no built-in rules" in capsys.readouterr().err


def test_rules_file_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "r.toml"
    bad.write_text('[[rules]]\nid = "x"\ncode = "ERR.NOPE"\npatterns = ["y"]\n', encoding="utf-8")
    assert main(["rules", "--file", str(bad)]) == 2
    assert "ERR.NOPE" in capsys.readouterr().err
