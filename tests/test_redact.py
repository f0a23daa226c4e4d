"""The redaction engine: placeholders, consistency, configuration, properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import humanfactors
from humanfactors.exceptions import RedactionError
from humanfactors.models import Incident
from humanfactors.redact import (
    PLACEHOLDER,
    Detection,
    Pattern,
    PatternRecognizer,
    Recognizer,
    RedactedText,
    Redactor,
    default_recognizers,
    redact,
    replace_spans,
)

KEY = b"0123456789abcdef-test-key"


def test_top_level_names() -> None:
    # the package humanfactors.redact shadows the function once imported: both are callable
    assert humanfactors.redact("Kirsty rang").text == "[PERSON_1] rang"
    assert humanfactors.Redactor is Redactor
    assert humanfactors.RedactedText is RedactedText


def test_same_person_same_placeholder() -> None:
    text = "Kirsty Smith rang. Later Kirsty said Smith's car was gone. Mrs Smith agreed."
    out = redact(text)
    assert (
        out.text
        == "[PERSON_1] rang. Later [PERSON_1] said [PERSON_1]'s car was gone. [PERSON_1] agreed."
    )


def test_two_people_two_placeholders() -> None:
    out = redact("Mum (Kirsty Smith) and Dad, Tomasz Nowak, argued; Tomasz left.")
    assert out.text == "Mum ([PERSON_1]) and Dad, [PERSON_2], argued; [PERSON_2] left."


def test_nhs_number_with_and_without_spaces_links() -> None:
    out = redact("NHS 943 476 5919 and later NHS 9434765919")
    assert out.text == "NHS [NHS_NUMBER_1] and later NHS [NHS_NUMBER_1]"


def test_spans_index_the_original() -> None:
    text = "Call 07700 900123 or email a.b@example.org about Aaliyah."
    out = redact(text)
    assert [(s.entity, text[s.start : s.end]) for s in out.spans] == [
        ("PHONE", "07700 900123"),
        ("EMAIL", "a.b@example.org"),
        ("PERSON", "Aaliyah"),
    ]
    assert [s.replacement for s in out.spans] == ["[PHONE_1]", "[EMAIL_1]", "[PERSON_1]"]


def test_repr_shows_no_original_text() -> None:
    out = redact("Kirsty Smith, 07700 900123")
    assert "Kirsty" not in repr(out)
    assert "07700" not in repr(out)
    assert "Kirsty" not in out.model_dump_json()
    assert str(out) == out.text


def test_keyed_pseudonyms_stable_across_reports() -> None:
    r = Redactor(pseudonym_key=KEY)
    a = r.redact("Kirsty Smith attended.").text
    b = r.redact("We met Kirsty Smith and Tomasz Nowak.").text
    ph = re.findall(r"\[PERSON_[0-9a-f]{8}\]", a)
    assert ph and ph[0] in b
    other = Redactor(pseudonym_key=b"another-key-of-16-bytes").redact("Kirsty Smith attended.").text
    assert other != a


def test_reversible_mapping_returned_separately() -> None:
    out, mapping = Redactor().redact_reversible("Kirsty Smith said Kirsty would call 07700 900123.")
    assert mapping == {"[PERSON_1]": "Kirsty Smith", "[PHONE_1]": "07700 900123"}
    assert "Kirsty" not in out.model_dump_json()


def test_existing_placeholders_are_kept_and_numbering_continues() -> None:
    out = redact("[PERSON_1] met Tomasz Nowak.")
    assert out.text == "[PERSON_1] met [PERSON_2]."


@pytest.mark.parametrize(
    "text",
    [
        "Child A was seen by the social worker; Sibling C and Baby T were at home.",
        "A Section 47 enquiry under the Children Act 1989 started on Monday 3 April.",
        "Mother told the health visitor and the DSL; Mr X declined.",
    ],
)
def test_kept_text_unchanged(text: str) -> None:
    assert redact(text).text == text


def test_allow_and_deny_lists() -> None:
    r = Redactor(allow=["Kirsty"], deny={"Bluebell Ward": "LOCATION", "Foxes": "CUSTOM"})
    out = r.redact("Kirsty went to Bluebell Ward with the Foxes team.")
    assert out.text == "Kirsty went to [LOCATION_1] with the [CUSTOM_1] team."


def test_entities_filter() -> None:
    out = Redactor(entities=["PHONE"]).redact("Kirsty Smith on 07700 900123")
    assert out.text == "Kirsty Smith on [PHONE_1]"


def test_custom_recognizer_and_validate_hook() -> None:
    class Badge(PatternRecognizer):
        entity = "STAFF_BADGE"
        patterns = (Pattern("badge", r"\bSB-\d{4}\b", 0.9),)

        def validate_result(self, value: str) -> bool | None:
            return False if value.endswith("0000") else None

    r = Redactor(recognizers=[*default_recognizers(), Badge()])
    assert r.redact("badge SB-1234 and SB-0000").text == "badge [STAFF_BADGE_1] and SB-0000"


def test_impossible_span_is_rejected_with_numbers() -> None:
    class Broken(Recognizer):
        name = "broken"
        entities = ("X",)

        def analyze(self, text: str):  # type: ignore[no-untyped-def]
            yield Detection("X", 5, 500, 1.0, self.id)

    with pytest.raises(RedactionError, match=r"5\.\.500 for a text of 11 characters"):
        Redactor(recognizers=[Broken()]).redact("hello world")


@pytest.mark.parametrize(
    "spans, message",
    [
        ([(3, 2, "x")], r"3\.\.2"),
        ([(0, 20, "x")], r"0\.\.20 in a text of 5"),
        ([(0, 3, "x"), (2, 4, "y")], "overlap"),
    ],
)
def test_replace_spans_rejects_bad_spans(spans: list[tuple[int, int, str]], message: str) -> None:
    with pytest.raises(RedactionError, match=message):
        replace_spans("hello", spans)


def test_overlaps_merged_highest_score_wins() -> None:
    # the NI pattern and the reference pattern overlap; one span, one placeholder
    out = redact("NI number AB123456C")
    assert out.text == "NI number [NI_NUMBER_1]"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pseudonym_key": b"short"}, "pseudonym_key"),
        ({"threshold": 2.0}, "threshold"),
        ({"deny": {"x": "lower"}}, "deny"),
        ({"entities": ["person"]}, "entities"),
        ({"recognizers": ["not a recogniser"]}, "recognizers"),
        ({"pseudonym_length": 2}, "pseudonym_length"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RedactionError, match=message):
        Redactor(**kwargs)  # type: ignore[arg-type]


def test_duplicate_recognizers_refused() -> None:
    with pytest.raises(RedactionError, match="duplicate"):
        Redactor(recognizers=[*default_recognizers(), *default_recognizers()])


def test_redact_incident() -> None:
    inc = Incident(id="r1", narrative="Mum (Kirsty) rang 07700 900123.", setting="home")
    new, result = Redactor().redact_incident(inc)
    assert new.narrative == "Mum ([PERSON_1]) rang [PHONE_1]."
    assert new.id == "r1" and new.setting == "home"
    assert len(result.spans) == 2


def test_analyze_reports_explanations() -> None:
    dets = Redactor().analyze("Mrs Hakimi rang.")
    assert [(d.entity, d.start, d.end, d.recognizer) for d in dets] == [("PERSON", 0, 10, "person")]
    assert "title" in dets[0].explanation


# -- properties ---------------------------------------------------------------------
FRAGMENTS = [
    "Mum (Kirsty) said",
    "Dad, Tomasz Nowak,",
    "the child, Aaliyah",
    "Kirsty's partner",
    "Mrs Hakimi",
    "DS Jones",
    "NHS 943 476 5919",
    "07700 900123",
    "+44 20 7946 0872",
    "a.b@example.org",
    "B19 3QT",
    "QQ 12 34 56 C",
    "DOB 03/04/2015",
    "born on 3 April 2015",
    "Flat 4, Cobden Court",
    "18 Coleridge Close",
    "Child A",
    "the social worker",
    "Section 47",
    "Hope",
    "Will Brown",
    "ROSE",
    "shannon",
    "case LL123456",
    "Monday",
    ".",
    ",",
    "\n",
    " and ",
    "[PERSON_1]",
    "(",
    ")",
    "O'Brien",
    "Ellie-May",
    "Zarmina",
]
texty = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(" ".join)
any_text = st.one_of(st.text(max_size=200), texty)


@settings(max_examples=150, deadline=None)
@given(any_text)
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact(text).text
    assert redact(once).text == once


@settings(max_examples=150, deadline=None)
@given(any_text)
def test_no_recogniser_fires_on_redacted_output(text: str) -> None:
    once = redact(text).text
    assert Redactor().analyze(once) == []


@settings(max_examples=150, deadline=None)
@given(any_text)
def test_spans_consistent_with_original(text: str) -> None:
    out = redact(text)
    rebuilt = replace_spans(text, [(s.start, s.end, s.replacement) for s in out.spans])
    assert rebuilt == out.text
    for a, b in zip(out.spans, out.spans[1:], strict=False):
        assert a.end <= b.start
    for s in out.spans:
        assert PLACEHOLDER.fullmatch(s.replacement)
        assert 0 <= s.start < s.end <= len(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(), max_size=300))
def test_arbitrary_unicode_never_raises(text: str) -> None:
    out = Redactor(pseudonym_key=KEY).redact(text)
    assert isinstance(out.text, str)
