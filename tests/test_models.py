"""Incident, Evidence, Finding, Analysis: validation, JSON round trip, privacy of reprs."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from humanfactors.models import (
    Analysis,
    CodedIncident,
    EventType,
    Evidence,
    Finding,
    Harm,
    Incident,
    QualityIssue,
    RecordError,
    Source,
    json_schema,
)

SECRET = "Kirsty Mellor of 12 Acacia Road"


def test_from_text_gives_stable_id():
    a = Incident.from_text("I forgot to send the referral.")
    b = Incident.from_text("I forgot to send the referral.")
    c = Incident.from_text("I forgot to send the referral!")
    assert a.id == b.id != c.id
    assert a.narrative == "I forgot to send the referral."


@pytest.mark.parametrize("narrative", ["", "   ", "\n\t "])
def test_blank_narrative_is_refused_naming_the_field(narrative):
    with pytest.raises(ValidationError) as info:
        Incident(id="x", narrative=narrative)
    assert info.value.errors()[0]["loc"] == ("narrative",)
    assert "empty" in str(info.value)


@pytest.mark.parametrize(
    "field, value",
    [("event_type", "accident"), ("harm", "catastrophic"), ("occurred_on", "yesterday"),
     ("agencies", 7), ("id", ""), ("metadata", "not a dict")],
)
def test_bad_field_values_name_the_field(field, value):
    with pytest.raises(ValidationError) as info:
        Incident(**{"id": "x", "narrative": "text", field: value})
    assert info.value.errors()[0]["loc"][0] == field


def test_unknown_field_refused():
    with pytest.raises(ValidationError) as info:
        Incident(id="x", narrative="text", colour="red")
    assert info.value.errors()[0]["loc"] == ("colour",)


def test_occurred_after_reported_is_refused():
    with pytest.raises(ValidationError, match=r"occurred_on .* is after reported_on"):
        Incident(id="x", narrative="t", occurred_on=date(2025, 3, 2), reported_on=date(2025, 3, 1))


def test_errors_and_reprs_never_show_the_narrative():
    inc = Incident(id="x", narrative=SECRET, metadata={"name": SECRET})
    assert SECRET not in repr(inc) and SECRET not in str(inc)
    with pytest.raises(ValidationError) as info:
        Incident(id="x", narrative=SECRET, harm="unknown-harm")
    assert SECRET not in str(info.value)
    with pytest.raises(ValidationError) as info2:
        Incident(
            id="x", narrative=SECRET, occurred_on=date(2025, 3, 2), reported_on=date(2025, 1, 1)
        )
    assert SECRET not in str(info2.value)
    ev = Evidence(start=0, end=len(SECRET), text=SECRET)
    assert SECRET not in repr(ev)


@pytest.mark.parametrize("start, end", [(-1, 3), (3, 3), (5, 2)])
def test_evidence_span_must_be_ordered(start, end):
    with pytest.raises(ValidationError):
        Evidence(start=start, end=end, text="abc")


def test_evidence_text_length_must_match_span():
    with pytest.raises(ValidationError, match="covers"):
        Evidence(start=0, end=5, text="abc")


@given(st.text(min_size=1, max_size=50), st.integers(-5, 60), st.integers(-5, 60))
def test_from_span_refuses_spans_outside_the_text(text, start, end):
    if 0 <= start < end <= len(text):
        ev = Evidence.from_span(text, start, end)
        assert text[ev.start : ev.end] == ev.text
    else:
        with pytest.raises(ValueError):
            Evidence.from_span(text, start, end)


def test_analysis_refuses_evidence_not_in_narrative():
    inc = Incident(id="a", narrative="I forgot the visit.")
    good = Finding(code="ERR.LAPSE", confidence=0.9, source=Source.RULE,
                   evidence=(Evidence.from_span(inc.narrative, 2, 8),))
    Analysis(incident=inc, findings=(good,), taxonomy="safeguarding", taxonomy_version="1")
    bad = Finding(code="ERR.LAPSE", confidence=0.9, source=Source.RULE,
                  evidence=(Evidence(start=2, end=8, text="missed"),))
    with pytest.raises(ValidationError, match="does not match the narrative"):
        Analysis(incident=inc, findings=(bad,), taxonomy="safeguarding", taxonomy_version="1")


@pytest.mark.parametrize("value", [-0.1, 1.1, float("nan")])
def test_confidence_must_be_in_unit_interval(value):
    with pytest.raises(ValidationError):
        Finding(code="ERR.LAPSE", confidence=value, source="rule")


def test_coded_incident_checks_evidence_codes():
    with pytest.raises(ValidationError, match="not among the codes"):
        CodedIncident(id="a", narrative="I forgot.", codes=["ERR.SLIP"],
                      evidence=[{"code": "ERR.LAPSE", "start": 2, "end": 8, "text": "forgot"}])
    ok = CodedIncident(id="a", narrative="I forgot.", codes=["ERR.LAPSE"],
                       evidence=[{"code": "ERR.LAPSE", "start": 2, "end": 8, "text": "forgot"}])
    assert ok.to_incident() == Incident(id="a", narrative="I forgot.")


# -- JSON round trip ------------------------------------------------------------------
safe_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80).filter(
    lambda s: s.strip() != ""
)
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def incidents(draw):
    narrative = draw(safe_text)
    occurred = draw(st.none() | dates)
    reported = draw(st.none() | dates)
    if occurred and reported and occurred > reported:
        occurred, reported = reported, occurred
    return Incident(
        id=draw(st.text(
            st.characters(min_codepoint=33, max_codepoint=0x2FFF, blacklist_categories=("Cs",)),
            min_size=1,
            max_size=20,
        )),
        narrative=narrative,
        event_type=draw(st.none() | st.sampled_from(EventType)),
        harm=draw(st.none() | st.sampled_from(Harm)),
        occurred_on=occurred,
        reported_on=reported,
        setting=draw(st.none() | st.text(max_size=30)),
        agencies=tuple(draw(st.lists(st.text(max_size=20), max_size=3))),
        metadata=draw(st.dictionaries(
            st.text(max_size=8),
            st.none() | st.integers() | st.text(max_size=10) | st.booleans(),
            max_size=3,
        )),
    )


@st.composite
def analyses(draw):
    inc = draw(incidents())
    n = len(inc.narrative)
    findings = []
    for _ in range(draw(st.integers(0, 3))):
        s = draw(st.integers(0, n - 1))
        e = draw(st.integers(s + 1, n))
        findings.append(Finding(
            code=draw(st.sampled_from(["ERR.LAPSE", "CF.TASK.WORKLOAD", "PROT.DETECTION"])),
            confidence=draw(st.floats(0, 1)),
            source=draw(st.sampled_from(Source)),
            evidence=(Evidence.from_span(inc.narrative, s, e),),
            explanation=draw(st.text(max_size=40)),
        ))
    issues = (
        [QualityIssue(code="CHK.TOO_SHORT", message="short", suggestion="say more")]
        if draw(st.booleans())
        else []
    )
    return Analysis(incident=inc, findings=tuple(findings), quality_issues=tuple(issues),
                    taxonomy="safeguarding", taxonomy_version="1.0.0",
                    feedback=draw(st.text(max_size=40)))


@given(incidents())
def test_incident_json_round_trip_is_exact(inc):
    assert Incident.model_validate_json(inc.model_dump_json()) == inc
    assert Incident.model_validate(json.loads(inc.model_dump_json())) == inc


@given(analyses())
def test_analysis_json_round_trip_is_exact(an):
    back = Analysis.model_validate_json(an.model_dump_json())
    assert back == an
    assert back.model_dump_json() == an.model_dump_json()


def test_record_error_shape():
    err = RecordError(id="7", line=3, error="line 3: field 'narrative' is empty")
    assert json.loads(err.model_dump_json(exclude_none=True)) == {
        "id": "7", "line": 3, "error": "line 3: field 'narrative' is empty"
    }


def test_json_schema_validates_real_documents():
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    schema = json_schema()
    inc = Incident.from_text("I forgot the visit.", harm="none")
    an = Analysis(incident=inc, taxonomy="safeguarding", taxonomy_version="1")
    v = jsonschema.Draft202012Validator(schema)
    v.validate({
        "Incident": json.loads(inc.model_dump_json()),
        "Analysis": json.loads(an.model_dump_json()),
    })
    with pytest.raises(jsonschema.ValidationError):
        v.validate({"Incident": {"id": "x", "narrative": "t", "harm": "catastrophic"}})


def test_json_schema_lists_models_and_forbids_extra_fields():
    schema = json_schema()
    assert {"Incident", "Analysis", "Finding", "QualityIssue", "Evidence"} <= set(schema["$defs"])
    assert schema["$defs"]["Incident"]["additionalProperties"] is False
    assert "narrative" in schema["$defs"]["Incident"]["required"]
    json.dumps(schema)  # serialisable
