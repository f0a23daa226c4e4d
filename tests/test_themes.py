"""Theme analysis: frequencies, co-occurrence, emerging themes, comparisons."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency, fisher_exact

from humanfactors import Analysis, Finding, Incident, IncidentStore
from humanfactors.exceptions import InputError
from humanfactors.models import Evidence
from humanfactors.themes import (
    benjamini_hochberg,
    compare,
    cooccurrence,
    emerging_themes,
    frequencies,
    wilson_interval,
)


def report(
    id: str,
    codes: tuple[str, ...] | list[str] = (),
    *,
    day: date | None = date(2024, 1, 15),
    region: str | None = "London",
    agencies: tuple[str, ...] = (),
    duplicate: bool = False,
    **fields: object,
) -> Analysis:
    parts = [f"Sentence about {c} in {id}." for c in codes]
    text = (
        "Opening line. " + " ".join(parts) + " Closing line." if parts else "Nothing of note here."
    )
    findings = []
    for c in codes:
        phrase = f"about {c} in {id}"
        s = text.index(phrase)
        evid = (Evidence(start=s, end=s + len(phrase), text=phrase),)
        findings.append(Finding(code=c, confidence=0.8, source="rule", evidence=evid))
        if duplicate:
            findings.append(Finding(code=c, confidence=0.6, source="model"))
    inc = Incident(
        id=id, narrative=text, occurred_on=day, region=region, agencies=agencies, **fields
    )  # type: ignore[arg-type]
    return Analysis(
        incident=inc, findings=tuple(findings), taxonomy="safeguarding", taxonomy_version="1.0.0"
    )


SMALL = [
    report(
        "a",
        ["ERR.LAPSE", "CF.TASK.WORKLOAD"],
        day=date(2024, 1, 5),
        agencies=("police", "health"),
        duplicate=True,
    ),
    report("b", ["ERR.LAPSE"], day=date(2024, 2, 5), region="North West", agencies=("police",)),
    report("c", ["CF.TASK.PROCEDURE", "PROT.DETECTION"], day=date(2024, 4, 5), region=None),
    report("d", [], day=date(2025, 1, 1)),
    report("e", ["ERR.SLIP"], day=None),
]


def rows_of(result, group: str) -> dict[str, tuple[int, int, float]]:
    return {r.code: (r.count, r.reports, round(r.rate, 6)) for r in result.rows if r.group == group}


@pytest.mark.parametrize(
    "by, group, expected",
    [
        ("month", "2024-01", {"ERR.LAPSE": (1, 1, 100.0), "CF.TASK.WORKLOAD": (1, 1, 100.0)}),
        ("quarter", "2024-Q1", {"ERR.LAPSE": (2, 2, 100.0), "CF.TASK.WORKLOAD": (1, 2, 50.0)}),
        (
            "quarter",
            "2024-Q2",
            {"CF.TASK.PROCEDURE": (1, 1, 100.0), "PROT.DETECTION": (1, 1, 100.0)},
        ),
        ("year", "2025", {}),
        (
            "year",
            "2024",
            {
                "ERR.LAPSE": (2, 3, 200 / 3),
                "CF.TASK.WORKLOAD": (1, 3, 100 / 3),
                "CF.TASK.PROCEDURE": (1, 3, 100 / 3),
                "PROT.DETECTION": (1, 3, 100 / 3),
            },
        ),
        (
            "region",
            "London",
            {
                "ERR.LAPSE": (1, 3, 100 / 3),
                "CF.TASK.WORKLOAD": (1, 3, 100 / 3),
                "ERR.SLIP": (1, 3, 100 / 3),
            },
        ),
        (
            "region",
            "unknown",
            {"CF.TASK.PROCEDURE": (1, 1, 100.0), "PROT.DETECTION": (1, 1, 100.0)},
        ),
        ("agency", "police", {"ERR.LAPSE": (2, 2, 100.0), "CF.TASK.WORKLOAD": (1, 2, 50.0)}),
        ("agency", "health", {"ERR.LAPSE": (1, 1, 100.0), "CF.TASK.WORKLOAD": (1, 1, 100.0)}),
        (
            "all",
            "all",
            {
                "ERR.LAPSE": (2, 5, 40.0),
                "CF.TASK.WORKLOAD": (1, 5, 20.0),
                "ERR.SLIP": (1, 5, 20.0),
                "CF.TASK.PROCEDURE": (1, 5, 20.0),
                "PROT.DETECTION": (1, 5, 20.0),
            },
        ),
    ],
)
def test_frequencies_count_reports_once_per_code(
    by: str, group: str, expected: dict[str, tuple[int, int, float]]
):
    result = frequencies(SMALL, by=by)
    assert {k: v[:2] for k, v in rows_of(result, group).items()} == {
        k: v[:2] for k, v in expected.items()
    }
    for code, (_, _, rate) in expected.items():
        assert rows_of(result, group)[code][2] == pytest.approx(rate)
    if group in result.reports:
        assert result.reports[group] == next(iter(expected.values()), (0, result.reports[group]))[1]


def test_frequencies_bookkeeping():
    result = frequencies(SMALL, by="quarter")
    assert result.groups == ("2024-Q1", "2024-Q2", "2025-Q1")
    assert result.undated == 1
    assert result.codes[0] == "ERR.LAPSE"  # most reports overall
    assert result.table("count")[0][0] == 2.0
    agency = frequencies(SMALL, by="agency")
    assert agency.groups[-1] == "unknown" and agency.reports["unknown"] == 3
    for r in result.rows:
        assert r.rate_low <= r.rate <= r.rate_high
    named = {r.code: r.name for r in result.rows}
    assert named["ERR.LAPSE"] == "Lapse"


def test_code_prefix_limits_codes_not_denominators_and_level_rolls_up():
    only = frequencies(SMALL, by="all", code_prefix="ERR")
    assert set(only.codes) == {"ERR.LAPSE", "ERR.SLIP"} and only.reports["all"] == 5
    rolled = frequencies(SMALL, by="all", level=1)
    assert rows_of(rolled, "all") == {"ERR": (3, 5, 60.0), "CF": (2, 5, 40.0), "PROT": (1, 5, 20.0)}
    two = frequencies(SMALL, by="all", level=2, code_prefix="CF")
    assert rows_of(two, "all") == {"CF.TASK": (2, 5, 40.0)}
    filtered = frequencies(SMALL, by="all", since="2024-02-01")
    assert filtered.reports["all"] == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"by": "weekday"}, "by must be one of"),
        ({"level": 0}, "level must be"),
        ({"colour": "red"}, "unknown filter"),
        ({"since": "soon"}, "since must be a date"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str):
    with pytest.raises(InputError, match=message):
        frequencies(SMALL, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "k, n, lo, hi",
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 100, 0.0018, 0.0545),
    ],
)
def test_wilson_interval_known_values(k: int, n: int, lo: float, hi: float):
    got = wilson_interval(k, n)
    assert (round(float(got[0]), 4), round(float(got[1]), 4)) == (lo, hi)


def test_benjamini_hochberg_matches_the_step_up_rule():
    p = [0.01, 0.04, 0.03, 0.20, 0.005]
    # sorted: .005 .01 .03 .04 .20 -> x5/1 .025, x5/2 .025, x5/3 .05, x5/4 .05, .20
    # (monotone from the top)
    assert np.allclose(benjamini_hochberg(p), [0.025, 0.05, 0.05, 0.20, 0.025])
    assert benjamini_hochberg([]).size == 0


def test_cooccurrence_counts_lift_and_fisher():
    data = [report(f"x{i}", ["A.ONE", "B.TWO"]) for i in range(6)]
    data += [report(f"y{i}", ["A.ONE"]) for i in range(2)]
    data += [report(f"z{i}", ["C.THREE"]) for i in range(4)]
    data += [report(f"w{i}", ["B.TWO", "C.THREE"]) for i in range(1)]
    result = cooccurrence(data, min_count=1)
    pair = next(r for r in result.rows if {r.a, r.b} == {"A.ONE", "B.TWO"})
    assert pair.count == 6
    assert pair.lift == pytest.approx(6 * 13 / (8 * 7))
    assert pair.expected == pytest.approx(8 * 7 / 13)
    # a one-sided Fisher's exact test on the 2x2 table of the two codes
    expected_p = fisher_exact([[6, 2], [1, 4]], alternative="greater").pvalue
    assert pair.p_value == pytest.approx(expected_p)
    assert result.code_counts == {"A.ONE": 8, "B.TWO": 7, "C.THREE": 5}
    i, j = result.codes.index("A.ONE"), result.codes.index("B.TWO")
    assert result.matrix()[i][j] == 6 and result.matrix()[i][i] == 8
    assert result.matrix("lift")[i][j] == pytest.approx(pair.lift)
    assert all(r.count >= 2 for r in cooccurrence(data, min_count=2).rows)
    assert all(r.q_value >= r.p_value for r in result.rows)


def _rising(
    seed: int = 7, *, rise: str = "CF.ENV.STAFFING", protective_rise: str = "PROT.CHALLENGE"
) -> list[Analysis]:
    """Two years of baseline, then 90 days where two codes become much more common."""
    rng = random.Random(seed)
    steady = ["ERR.LAPSE", "CF.TASK.WORKLOAD", "GRP.DIFFUSION", "PROT.DETECTION"]
    out = []
    start = date(2023, 1, 2)
    for i in range(600):  # baseline: the 730 days 2023-01-02 .. 2024-12-31
        day = start + timedelta(days=rng.randrange(730))
        codes = [c for c in steady if rng.random() < 0.2]
        codes += [c for c in (rise, protective_rise) if rng.random() < 0.04]
        out.append(report(f"b{i:04d}", codes, day=day, region=rng.choice(["London", "North West"])))
    for i in range(120):  # recent, 2025-01-01 .. 2025-03-31
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(90))
        codes = [c for c in steady if rng.random() < 0.2]
        codes += [c for c in (rise, protective_rise) if rng.random() < 0.25]
        out.append(report(f"r{i:04d}", codes, day=day, region=rng.choice(["London", "North West"])))
    return out


def test_emerging_themes_finds_the_rise_and_quotes_recent_evidence():
    data = _rising()
    result = emerging_themes(data, window_days=90, end="2025-03-31")
    assert result.recent_start == date(2025, 1, 1) and result.baseline_end == date(2024, 12, 31)
    assert result.recent_reports == 120 and result.baseline_reports == 600
    assert [r.code for r in result.emerging] == ["CF.ENV.STAFFING"]
    top = result.emerging[0]
    table = [
        [top.recent_count, 120 - top.recent_count],
        [top.baseline_count, 600 - top.baseline_count],
    ]
    assert top.p_value == pytest.approx(fisher_exact(table, alternative="greater").pvalue)
    assert top.q_value <= 0.05 and top.rate_ratio and top.rate_ratio > 3
    assert top.name == "Staffing levels and turnover" or top.name
    assert 1 <= len(top.evidence) <= 3
    for quote in top.evidence:
        assert quote.incident_id.startswith("r")  # from the recent window only
        assert quote.date and quote.date >= date(2025, 1, 1)
        assert f"about CF.ENV.STAFFING in {quote.incident_id}" in quote.text
        assert quote.text.startswith("Sentence") and quote.text.endswith(".")
    assert all(not r.protective for r in result.rows)
    steady = {r.code: r for r in result.rows}["ERR.LAPSE"]
    assert not steady.emerging and steady.q_value > 0.05
    assert "Fisher" in result.test and "Benjamini-Hochberg" in result.test


def test_emerging_protective_factors():
    result = emerging_themes(_rising(), window_days=90, protective=True)
    assert [r.code for r in result.emerging] == ["PROT.CHALLENGE"]
    assert all(r.protective for r in result.rows)
    assert {r.code for r in result.rows} <= {"PROT.CHALLENGE", "PROT.DETECTION"}


def test_emerging_needs_min_count_and_is_quiet_without_change():
    data = _rising()
    strict = emerging_themes(data, window_days=90, min_count=60)
    assert strict.emerging == ()
    rng = random.Random(3)
    codes = [f"CF.X.C{i:02d}" for i in range(40)]
    flat = [
        report(
            f"n{i}",
            [c for c in codes if rng.random() < 0.1],
            day=date(2023, 1, 1) + timedelta(days=rng.randrange(820)),
        )
        for i in range(800)
    ]
    assert emerging_themes(flat, window_days=90).emerging == ()


def test_emerging_on_empty_and_undated_data():
    result = emerging_themes([report("u", ["ERR.LAPSE"], day=None)])
    assert result.rows == () and result.recent_end is None
    assert emerging_themes([]).rows == ()


def test_compare_regions_with_intervals_and_test():
    data = [report(f"l{i}", ["ERR.LAPSE"] if i < 30 else [], region="London") for i in range(100)]
    data += [
        report(f"n{i}", ["ERR.LAPSE"] if i < 5 else [], region="North West") for i in range(50)
    ]
    data += [report("s0", ["ERR.LAPSE"], region="South West")]
    result = compare(data, by="region", min_reports=10)
    assert result.groups == ("London", "North West")
    by_group = {r.group: r for r in result.rows}
    assert by_group["London"].rate == pytest.approx(30.0)
    lo, hi = wilson_interval(30, 100)
    assert by_group["London"].rate_low == pytest.approx(100 * float(lo))
    assert by_group["London"].rate_high == pytest.approx(100 * float(hi))
    assert by_group["London"].overall_rate == pytest.approx(100 * 36 / 151)
    expected = chi2_contingency([[30, 70], [5, 45]], correction=False).pvalue
    assert by_group["London"].p_value == pytest.approx(expected)
    only = compare(data, by="region", groups=["North West"])
    assert only.groups == ("North West",) and only.rows[0].p_value is None
    with pytest.raises(InputError, match="not a period"):
        compare(data, by="month")


def test_compare_agencies_counts_each_agency():
    data = [
        report("a", ["ERR.LAPSE"], agencies=("police", "health")),
        report("b", [], agencies=("police",)),
    ]
    result = compare(data, by="agency")
    assert result.reports == {"health": 1, "police": 2}


def test_every_source_kind_gives_the_same_answer(tmp_path: Path):
    data = _rising(seed=1)
    jsonl = tmp_path / "analyses.jsonl"
    jsonl.write_text("".join(a.model_dump_json() + "\n" for a in data))
    db = tmp_path / "themes.sqlite"
    with IncidentStore(db) as store:
        store.add(data)
        from_store = frequencies(store, by="month")
    assert frequencies(data, by="month") == from_store
    assert frequencies(jsonl, by="month") == from_store
    assert frequencies(str(db), by="month") == from_store
    assert frequencies(data[0], by="all").reports == {"all": 1}
    with pytest.raises(InputError, match="no such store"):
        frequencies(tmp_path / "missing.sqlite")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "an analysis"}\n')
    with pytest.raises(InputError, match="line 1"):
        frequencies(bad)


def test_results_are_frozen_and_serialise():
    data = _rising(seed=2)
    for result in (frequencies(data), cooccurrence(data), emerging_themes(data), compare(data)):
        text = json.dumps(result.to_dict())
        assert json.loads(text)["rows"]
        frame = result.to_frame()
        assert len(frame) == len(result.rows)
        assert "evidence" not in frame.columns
        with pytest.raises(AttributeError):
            result.rows = ()  # type: ignore[misc]
    quote = emerging_themes(data).emerging[0].evidence[0]
    assert "Sentence" not in repr(quote)


def test_cached_arrays_follow_changes_to_the_store(tmp_path: Path):
    path = tmp_path / "cache.sqlite"
    with IncidentStore(path) as store, IncidentStore(path) as other:
        store.add(SMALL)
        assert frequencies(store, by="all").reports == {"all": 5}
        store.add(report("f", ["ERR.LAPSE"]))  # a write through this connection
        assert rows_of(frequencies(store, by="all"), "all")["ERR.LAPSE"][:2] == (3, 6)
        other.add(report("g", ["ERR.LAPSE"], agencies=("police",)))  # and through another
        assert rows_of(frequencies(store, by="all"), "all")["ERR.LAPSE"][:2] == (4, 7)
        assert frequencies(store, by="agency", region="London").reports == {
            "health": 1,
            "police": 2,
            "unknown": 3,
        }


def test_an_agency_named_twice_counts_once():
    result = frequencies([report("a", ["ERR.LAPSE"], agencies=("police", "police"))], by="agency")
    assert rows_of(result, "police") == {"ERR.LAPSE": (1, 1, 100.0)}
