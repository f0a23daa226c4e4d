"""``humanfactors themes``: text, JSON and HTML from a store or an analyses file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from humanfactors import IncidentStore
from humanfactors.cli import main
from test_themes import _rising

DATA = _rising(seed=4)


@pytest.fixture(scope="module")
def analyses_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "analyses.jsonl"
    path.write_text("".join(a.model_dump_json() + "\n" for a in DATA), encoding="utf-8")
    return path


def test_text_summary_from_jsonl(analyses_file: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["themes", str(analyses_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("720 reports (2023-01-02 to 2025-03-3")
    assert "Most frequent factors" in out and "CF.TASK.WORKLOAD" in out
    emerging = out.split("Emerging themes")[1].split("What went well")[0]
    assert "CF.ENV.STAFFING" in emerging and "“Sentence about CF.ENV.STAFFING" in emerging
    assert "PROT.CHALLENGE" in out.split("What went well more often")[1]


def test_store_json_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = tmp_path / "store.sqlite"
    with IncidentStore(db) as store:
        store.add(DATA)
    html = tmp_path / "report.html"
    assert (
        main(
            [
                "themes",
                str(db),
                "--since",
                "2024-01-01",
                "--by",
                "region",
                "--json",
                "--html",
                str(html),
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["filters"] == {"since": "2024-01-01"}
    assert result["reports"] < 720 and result["comparison"]["by"] == "region"
    assert [t["code"] for t in result["emerging"]["rows"] if t["emerging"]] == ["CF.ENV.STAFFING"]
    assert html.read_text(encoding="utf-8").count("data:image/png;base64,") >= 6


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.jsonl"], "no such store or analyses file"),
        (["{file}", "--since", "yesterday"], "since must be a date"),
        (["{file}", "--window", "0"], "--window must be at least 1"),
    ],
)
def test_errors_exit_2(
    analyses_file: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
):
    argv = ["themes", *[a.format(file=analyses_file) for a in args]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_by_must_be_known(analyses_file: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["themes", str(analyses_file), "--by", "weekday"]) == 2
    assert "invalid choice" in capsys.readouterr().err
