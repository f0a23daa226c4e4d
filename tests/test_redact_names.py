"""Table-driven tests for the person-name recogniser."""

from __future__ import annotations

import pytest

from humanfactors.redact import PersonRecognizer, Redactor


def names(text: str) -> list[str]:
    r = Redactor(recognizers=[PersonRecognizer()])
    return [text[s.start : s.end] for s in r.redact(text).spans]


@pytest.mark.parametrize(
    "text, expected",
    [
        # titles
        ("Mrs Hakimi asked for an interpreter.", ["Mrs Hakimi"]),
        ("DS Jones and PC Ahmed attended.", ["DS Jones", "PC Ahmed"]),
        ("Mr. Smith came.", ["Mr. Smith"]),
        ("Mr and Mrs Sandhu attended.", ["Mr and Mrs Sandhu"]),
        ("Cllr Hughes asked a question.", ["Cllr Hughes"]),
        # roles and relations
        ("Mum (Kirsty) said no.", ["Kirsty"]),
        ("Dad, Tomasz Nowak, left.", ["Tomasz Nowak"]),
        ("The child, Aaliyah, was seen.", ["Aaliyah"]),
        ("her son Will was at school", ["Will"]),
        ("Mum's partner (Lee Carver) was there.", ["Lee Carver"]),
        ("Auntie Carol minded the baby.", ["Auntie Carol"]),
        # possessives, hyphens, apostrophes, non-English names
        ("Kirsty's partner was present.", ["Kirsty"]),
        ("Ellie-May Fraser and Kai Thompson-Alade", ["Ellie-May Fraser", "Kai Thompson-Alade"]),
        ("We met Siobhan O'Brien.", ["Siobhan O'Brien"]),
        ("Oskar Wiśniewski speaks Polish.", ["Oskar Wiśniewski"]),
        ("The report said Zarmina had arrived.", ["Zarmina"]),
        # sentence start, capitals, lower case
        ("Precious told me.", ["Precious"]),
        ("KIRSTY SMITH WAS NOT AT HOME.", ["KIRSTY SMITH"]),
        ("I spoke to kirsty by phone.", ["kirsty"]),
        ("May Chen was referred.", ["May Chen"]),
        # linked mentions
        ("Hope Mensah was seen. Later Hope said no. I hope so.", ["Hope Mensah", "Hope"]),
    ],
)
def test_names_found(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I will write to the family on Monday.",
        "The brown envelope was left at reception.",
        "Hope is not a plan, the team manager said.",
        "Child A and Sibling C were placed with Mother.",
        "A Section 47 enquiry under the Children Act 1989 began.",
        "The Family Court made an interim care order.",
        "The DSL rang the MASH and CAMHS in March.",
        "She speaks Romanian and Polish, and came from Manchester.",
        "Rose Hill Primary School raised the concern.",
        "The pre-birth assessment and non-molestation order were discussed.",
        "Christmas Eve was busy for the out-of-hours team.",
        "The baby slept in a Moses basket; the GP said she was Fraser competent.",
        "Clare's Law disclosure was made.",
        "Baby T and Mr X were mentioned; Baby S's cot was checked.",
        "The DSLs met the NQSWs to review PDFs.",
        "Realised too late; Apologised the next day.",
        "CHILD PROTECTION PLAN REVIEWED AND NEGLECT CATEGORY KEPT.",
    ],
)
def test_kept(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        # a hyphenated given name with a part too short to be a name alone
        ("The childminder said Billie-Jo was tired.", ["Billie-Jo"]),
        ("We saw Mary-Jo and her brother at the clinic.", ["Mary-Jo"]),
        ("Lacey-Jo's key worker rang back.", ["Lacey-Jo"]),
        # a name just inside quotation marks
        ("The taxi log said 'Declan not collected' at 4pm.", ["Declan"]),
        ("Staff wrote 'Kirsty upset again' in the diary.", ["Kirsty"]),
        # given names of communities the locale lists lack (once read as English words)
        ("Deepak is 6 and lives with his aunt.", ["Deepak"]),
        ("The school said that Shamima was often late.", ["Shamima"]),
        ("I spoke to her father, Marwan, by phone.", ["Marwan"]),
        ("The plan was shared with Branwen Pryce and the GP.", ["Branwen Pryce"]),
        ("I sent the parenting assessment for Sanjay Okafor to the court.", ["Sanjay Okafor"]),
        ("Warsame's uncle collected him.", ["Warsame"]),
    ],
)
def test_names_found_missed_before(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The Ruby-coloured folder and the follow-up letter were sent.",
        "The X-ray and the check-in were booked.",
        "She said 'Please call back' and hung up.",
        "The 'Early Help' offer was declined.",
    ],
)
def test_kept_beside_those_signals(text: str) -> None:
    assert names(text) == []


def test_name_before_a_street_word_is_an_address() -> None:
    spans = Redactor().redact("They met at 12 Bramble Court, Victoria Street on Monday.").spans
    assert [(s.entity, s.start, s.end) for s in spans] == [("ADDRESS", 12, 45)]


def test_explanations_name_the_signal() -> None:
    dets = Redactor(recognizers=[PersonRecognizer()]).analyze("Mum (Kirsty) met Mrs Hakimi.")
    assert ["role" in dets[0].explanation, "title" in dets[1].explanation] == [True, True]
