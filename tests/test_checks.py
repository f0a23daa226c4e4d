"""Report-quality checks (CHK.*)."""

from __future__ import annotations

import builtins
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humanfactors import Incident
from humanfactors.models import Severity
from humanfactors.rules import CHECK_CODES, check

LONG_OK = (
    "I visited the family on Tuesday with the health visitor. The baby was seen awake and "
    "handled by mum. I did not book the follow-up because I was covering duty and had three "
    "court statements due, so the visit slipped. The DSL rang me on Thursday and I arranged "
    "the visit for the next day. I think the reminder system would have helped, because the "
    "task sat in my drafts without any prompt."
)


def codes(x: str | Incident) -> list[str]:
    return [i.code for i in check(x)]


@pytest.mark.parametrize(
    "text, code",
    [
        ("The social worker should have known that the baby was at risk.", "CHK.HINDSIGHT"),
        ("In hindsight the signs were there.", "CHK.HINDSIGHT"),
        ("It was obvious that the injuries were not accidental.", "CHK.HINDSIGHT"),
        ("This death was entirely preventable.", "CHK.HINDSIGHT"),
        ("The social worker failed to visit the child.", "CHK.BLAME"),
        ("The HV was careless with the records.", "CHK.BLAME"),
        ("The worker should be disciplined for this.", "CHK.BLAME"),
        ("It was her fault that the plan was not sent.", "CHK.BLAME"),
        ("Short.", "CHK.TOO_SHORT"),
    ],
)
def test_checks_fire(text: str, code: str) -> None:
    issues = {i.code: i for i in check(text)}
    assert code in issues
    issue = issues[code]
    assert issue.suggestion and issue.message
    for ev in issue.evidence:
        assert text[ev.start : ev.end] == ev.text


@pytest.mark.parametrize(
    "text, code",
    [
        (
            "The team shared the view that the family was coping at the time,"
            " based on what was known.",
            "CHK.HINDSIGHT",
        ),
        (
            "The worker visited, and the manager agreed the plan because the history was read.",
            "CHK.BLAME",
        ),
        (LONG_OK, "CHK.NO_ANALYSIS"),
        (LONG_OK, "CHK.TOO_SHORT"),
    ],
)
def test_checks_stay_quiet(text: str, code: str) -> None:
    assert code not in codes(text)


def test_no_analysis_on_a_purely_descriptive_report() -> None:
    text = (
        "On Monday the referral came in from the school. On Tuesday the duty worker rang the "
        "mother. On Wednesday a home visit took place and the children were seen. On Thursday "
        "the case was discussed at the allocation meeting. On Friday the case was allocated to "
        "a social worker in the assessment team. The assessment started the following week and "
        "the family were visited twice more in that month by the allocated worker and a student."
    )
    issues = {i.code: i for i in check(text)}
    assert "CHK.NO_ANALYSIS" in issues
    assert issues["CHK.NO_ANALYSIS"].severity is Severity.INFO


@pytest.mark.parametrize(
    "actions, fires",
    [
        (
            "Recommendation: all staff will be reminded of the procedure"
            " and attend refresher training.",
            True,
        ),
        (
            "Recommendation: staff will be reminded of the procedure,"
            " and caseloads will be reduced to 18.",
            False,
        ),
        ("Recommendation: the system will be changed so the alert shows on the front page.", False),
    ],
)
def test_procedural_fix(actions: str, fires: bool) -> None:
    text = LONG_OK + " " + actions
    issues = {i.code: i for i in check(text)}
    assert ("CHK.PROCEDURAL_FIX" in issues) is fires
    if fires:
        (ev,) = issues["CHK.PROCEDURAL_FIX"].evidence
        assert text[ev.start : ev.end] == ev.text and "reminded" in ev.text


def test_identifiable_never_quotes_the_identifier() -> None:
    text = (
        LONG_OK + " Mum can be reached on 07700 900123 or jane.doe@example.com, postcode B19 3QT."
    )
    issues = {i.code: i for i in check(text)}
    issue = issues["CHK.IDENTIFIABLE"]
    assert issue.severity is Severity.ERROR
    found = {ev.text for ev in issue.evidence}
    assert {"07700 900123", "jane.doe@example.com"} <= found
    for secret in ("07700", "jane.doe", "B19"):
        assert secret not in issue.message and secret not in issue.suggestion


def test_identifiable_falls_back_without_the_redactor(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_redact(
        name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        if (level and fromlist and "redact" in fromlist) or name.endswith("redact"):
            raise ImportError("redact unavailable")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.delitem(sys.modules, "humanfactors.redact", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_redact)
    text = (
        LONG_OK
        + " NHS number 943 476 5919, phone 07700 900123, email a.b@example.org, postcode B19 3QT."
    )
    issue = {i.code: i for i in check(text)}["CHK.IDENTIFIABLE"]
    assert {ev.text for ev in issue.evidence} == {
        "943 476 5919",
        "07700 900123",
        "a.b@example.org",
        "B19 3QT",
    }
    assert "NHS_NUMBER" in issue.message and "943" not in issue.message


def test_incident_fields_and_near_miss_recovery() -> None:
    bare = Incident(
        id="x", narrative="It was a near miss: the letter went to the wrong address. " * 3
    )
    assert "CHK.MISSING_FIELDS" in codes(bare)
    near = Incident(
        id="y",
        narrative="The letter went to the wrong address with the child's details in it. " * 3,
        event_type="near_miss",
        harm="none",
    )
    got = codes(near)
    assert "CHK.NO_RECOVERY" in got and "CHK.MISSING_FIELDS" not in got
    recovered = near.model_copy(
        update={
            "narrative": near.narrative + "The housing officer noticed and handed it back unopened."
        }
    )
    assert "CHK.NO_RECOVERY" not in codes(recovered)
    # a plain text gets no field check
    assert "CHK.MISSING_FIELDS" not in codes("Short text.")


def test_issues_come_in_code_order_and_refuse_other_types() -> None:
    got = codes("The SW failed to visit. In hindsight it was obvious.")
    assert got == sorted(got, key=CHECK_CODES.index)
    refused = r"^check: text_or_incident must be a str or an Incident, got int$"
    with pytest.raises(TypeError, match=refused):
        check(3)  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_check_never_raises_and_evidence_matches(text: str) -> None:
    for issue in check(text):
        assert issue.code in CHECK_CODES
        for ev in issue.evidence:
            assert text[ev.start : ev.end] == ev.text
