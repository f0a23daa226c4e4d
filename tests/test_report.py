"""The HTML theme report: self-contained, and rendered by a real headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from humanfactors import Analysis, Finding, Incident
from humanfactors.report import render_report, summarise, write_report
from test_themes import _rising

DATA = _rising(seed=11)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "themes.html"
    write_report(path, DATA, by="region", title="Themes <North & West>")
    return path


def test_report_is_self_contained(report_file: Path):
    page = report_file.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    # nothing fetched: every src/href is a data: URI or an in-page anchor
    for ref in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert ref.startswith(("data:", "#")), ref
    assert "@import" not in page and "url(" not in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) >= 6
    for data in images:
        assert base64.b64decode(data).startswith(b"\x89PNG")
    assert "Themes &lt;North &amp; West&gt;" in page  # escaped


@pytest.mark.parametrize(
    "heading",
    [
        "Most frequent factors",
        "Trends by quarter",
        "Emerging themes",
        "What went well",
        "Factors that occur together",
        "By region",
        "How to read this report",
    ],
)
def test_report_sections(report_file: Path, heading: str):
    assert f"<h2>{heading}</h2>" in report_file.read_text(encoding="utf-8")


def test_report_quotes_evidence_of_the_rise(report_file: Path):
    page = report_file.read_text(encoding="utf-8")
    assert "Staffing and turnover" in page and "CF.ENV.STAFFING" in page
    assert re.search(r"“Sentence about CF\.ENV\.STAFFING in r\d+\.”", page)
    assert re.search(
        r"“Sentence about PROT\.CHALLENGE in r\d+\.”", page
    )  # what went well more often


def test_report_escapes_report_text():
    text = "I forgot the <b>visit</b> & did not <script>alert(1)</script> record it."
    findings = [
        Finding(
            code="ERR.LAPSE",
            confidence=0.9,
            source="rule",
            evidence=({"start": 2, "end": 8, "text": "forgot"},),
        )
    ]  # type: ignore[arg-type]
    items = [
        Analysis(
            incident=Incident(id=f"x{i}", narrative=text, occurred_on=f"2024-01-{i + 1:02d}"),
            findings=findings,
            taxonomy="safeguarding",
            taxonomy_version="1.0.0",
        )
        for i in range(20)
    ]
    page = render_report(summarise(items, window_days=5, min_count=1))
    assert "<script" not in page and "<b>visit" not in page


def test_report_with_no_findings_says_so():
    items = [
        Analysis(
            incident=Incident(id="e", narrative="Nothing.", occurred_on="2024-01-01"),
            taxonomy="safeguarding",
            taxonomy_version="1.0.0",
        )
    ]
    page = render_report(summarise(items))
    assert "No findings in these reports." in page and "Too few" in page


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium binary on PATH (CI installs Debian's chromium via .ci/system-deps)")


def _browser(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_renders_in_headless_chromium(report_file: Path, tmp_path: Path):
    dom = _browser(["--dump-dom", report_file.as_uri()], tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for heading in (
        "Most frequent factors",
        "Emerging themes",
        "What went well",
        "Factors that occur together",
    ):
        assert f"<h2>{heading}</h2>" in dom.stdout
    assert len(re.findall(r"<img src=\"data:image/png;base64,", dom.stdout)) >= 6

    shot = tmp_path / "shot.png"
    run = _browser(
        [f"--screenshot={shot}", "--window-size=1280,2000", report_file.as_uri()], tmp_path
    )
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[0] == 2000 and pixels.shape[1] == 1280
    rgb = pixels[..., :3]
    assert float(rgb.std()) > 0.05  # not a blank page
    dark = (rgb.mean(axis=2) < 0.5).mean()
    assert 0.005 < dark < 0.6  # text and plots, not an all-black error page
    blue = ((rgb[..., 2] > 0.5) & (rgb[..., 0] < 0.35)).mean()
    assert blue > 0.002  # the bars of the first plot were drawn
