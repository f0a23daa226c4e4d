"""Built-in rules: coverage of every code and quality on the labelled sentences."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from humanfactors import load_taxonomy
from humanfactors.rules import RuleSet

DATA = Path(__file__).parent / "data" / "rule_sentences.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
FAMILIES = ("ERR", "VIOL", "GRP", "BIAS", "ANL", "FAM", "CF", "PROT")


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return RuleSet.default()


def test_every_safeguarding_leaf_has_a_rule(rules: RuleSet) -> None:
    have = {r.code for r in rules}
    assert set(load_taxonomy("safeguarding").leaves()) <= have


def test_every_asrs_code_has_a_rule() -> None:
    asrs = RuleSet.default("asrs")
    assert {r.code for r in asrs} == set(load_taxonomy("asrs").codes) and len(asrs.codes) == 12


def test_labelled_set_is_large_enough() -> None:
    positives = Counter(c for r in ROWS if r["kind"] == "positive" for c in r["codes"])
    assert len(ROWS) >= 150
    assert all(positives[c] >= 3 for c in load_taxonomy().leaves())
    assert sum(r["kind"] == "negated" for r in ROWS) >= 15
    assert sum(r["kind"] == "hedged" for r in ROWS) >= 5


@pytest.mark.parametrize("family", FAMILIES)
def test_family_precision_and_recall(rules: RuleSet, family: str) -> None:
    tp = fp = fn = 0
    for row in ROWS:
        pred = {f.code for f in rules.apply(row["text"]) if f.code.split(".")[0] == family}
        gold = {c for c in row["codes"] if c.split(".")[0] == family}
        tp += len(pred & gold)
        fp += len(pred - gold)
        fn += len(gold - pred)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    assert precision >= 0.90, f"{family}: precision {precision:.2f}"
    assert recall >= 0.75, f"{family}: recall {recall:.2f}"


@pytest.mark.parametrize(
    "row",
    [r for r in ROWS if r["kind"] == "positive"],
    ids=lambda r: r["codes"][0] + ":" + r["text"][:30],
)
def test_positive_sentences(rules: RuleSet, row: dict[str, object]) -> None:
    found = {f.code for f in rules.apply(str(row["text"]))}
    assert set(row["codes"]) <= found  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["kind"] == "negated"], ids=lambda r: r["text"][:40]
)
def test_negated_sentences_do_not_fire(rules: RuleSet, row: dict[str, object]) -> None:
    assert {f.code for f in rules.apply(str(row["text"]))} == set(row["codes"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "row", [r for r in ROWS if r["kind"] == "hedged"], ids=lambda r: r["text"][:40]
)
def test_hedged_sentences_fire_with_lower_confidence(
    rules: RuleSet, row: dict[str, object]
) -> None:
    (code,) = row["codes"]  # type: ignore[misc]
    found = {f.code: f for f in rules.apply(str(row["text"]))}
    assert code in found
    best = max(r.confidence for r in rules if r.code == code)
    assert found[code].confidence < best


@pytest.mark.parametrize(
    "text, code",
    [
        ("The HV forgot to pass on the new address.", "ERR.LAPSE"),
        ("DNA x3 at the clinic.", "FAM.NON_ENGAGEMENT"),
        ("The LADO was contacted after the DSL challenged the head's decision.", "PROT.CHALLENGE"),
        ("The MASH checks were not completed with health.", "CF.TEAM.INFO_SHARING"),
        (
            "The section 47 was skipped because the family were leaving the country that night.",
            "VIOL.EXCEPTIONAL",
        ),
        ("The CP plan was emailed to the wrong parent.", "ERR.SLIP"),
        ("The TM had 12 workers to supervise.", "CF.TEAM.SUPERVISION"),
        (
            "The ICPC went ahead without the police report because no officer was available.",
            "VIOL.SITUATIONAL",
        ),
    ],
)
def test_abbreviations_and_practice_language(rules: RuleSet, text: str, code: str) -> None:
    assert code in {f.code for f in rules.apply(text)}


@pytest.mark.parametrize(
    "text, code",
    [
        # "resisted" and "avoided" deny a finding only as "resisted the temptation to ..."
        (
            "The team resisted any suggestion that the father posed a risk and kept to their "
            "view despite the new information.",
            "BIAS.CONFIRMATION",
        ),
        (
            "Staff routinely avoided the lengthy risk form and cut corners by using the short "
            "one, which had become normal practice.",
            "VIOL.ROUTINE",
        ),
        (
            "The manager resisted challenge and the group went along with her view without "
            "question.",
            "GRP.GROUPTHINK",
        ),
    ],
)
def test_denial_words_in_their_other_senses_keep_the_finding(
    rules: RuleSet, text: str, code: str
) -> None:
    assert code in {f.code for f in rules.apply(text)}
    denied = "It is not the case that " + text[0].lower() + text[1:]
    assert code not in {f.code for f in rules.apply(denied)}


@pytest.mark.parametrize(
    "text, code, fires",
    [
        # the worker's own arrival is no interruption, but a worker can be distracted on it
        (
            "When I arrived at the house I was distracted by a call from the office.",
            "CF.IND.DISTRACTION",
            True,
        ),
        ("I was distracted by the dog when I arrived.", "CF.IND.DISTRACTION", True),
        (
            "The baby was asleep when I arrived, woke during the visit and smiled.",
            "CF.IND.DISTRACTION",
            False,
        ),
        # children going weeks without seeing a parent are not unseen children
        (
            "I went without seeing the child because the family said she was asleep.",
            "FAM.CHILD_UNSEEN",
            True,
        ),
        ("The children had gone six weeks without seeing their father.", "FAM.CHILD_UNSEEN", False),
        # a room's settled view is group process; one worker's dismissing of news is not
        (
            "At the meeting we agreed she was coping, and afterwards I dismissed the school's "
            "new concerns because they did not fit that view.",
            "BIAS.CONFIRMATION",
            True,
        ),
        (
            "The room had already decided that the risk was over, and nobody tested that view.",
            "BIAS.CONFIRMATION",
            False,
        ),
        # not asking why is not information left unshared; asking why can reveal it
        ("Nobody asked why the team's referral rate was so low.", "CF.TEAM.INFO_SHARING", False),
        (
            "When I asked why, I was told the police had not shared the report with us.",
            "CF.TEAM.INFO_SHARING",
            True,
        ),
        # a shortcut most staff take is routine; most staff being off sick forces a breach
        (
            "Most staff were off sick, so I went to the visit alone even though the "
            "procedure says two workers must attend.",
            "VIOL.SITUATIONAL",
            True,
        ),
        (
            "Most of us skip the second check on a busy night because there is nobody free.",
            "VIOL.SITUATIONAL",
            False,
        ),
        # a call about a missing child is no unclear message; a vague handover about one is
        (
            "The handover about the missing child was vague and unclear, so the night team "
            "did not know what to do.",
            "CF.TEAM.COMMUNICATION",
            True,
        ),
        (
            "I was taking a call about a missing child while the officer read out the checks.",
            "CF.TEAM.COMMUNICATION",
            False,
        ),
        # closing an assessment is no funding problem; closing a case for want of money is
        (
            "The service closed the case because there was no funding for a family support "
            "worker.",
            "CF.ORG.FUNDING",
            True,
        ),
        # a parent's own hopes are not the worker's optimism; a worker accepting them is
        (
            "Mum described the bruise as an accident and I accepted that, always giving her "
            "the benefit of the doubt.",
            "BIAS.OPTIMISM",
            True,
        ),
        # unclear roles are not a descriptive report; a report saying who, not why, is
        (
            "The report describes who would visit and when, but never explains why the risk "
            "had changed.",
            "ANL.DESCRIPTIVE",
            True,
        ),
        (
            "The strategy discussion ended without anyone saying who would do what.",
            "ANL.DESCRIPTIVE",
            False,
        ),
        # a parent saying things are better is no optimism; a worker believing it is
        (
            "Mum said things were much better and I believed her, seeing what I wanted to see.",
            "BIAS.OPTIMISM",
            True,
        ),
        # records held elsewhere and exhaustion after a night on duty are not caseload
        (
            "The file held 200 pages, and with 30 cases I had no time to read it.",
            "CF.TASK.WORKLOAD",
            True,
        ),
        (
            "I was worn out from a caseload of 30 children and had no time to read the history.",
            "CF.TASK.WORKLOAD",
            True,
        ),
        ("I was exhausted after a night on duty.", "CF.TASK.WORKLOAD", False),
        # a national shortage of secure beds is policy; budget cuts are funding
        (
            "There is a national shortage of foster carers, and budget cuts meant no placement "
            "could be funded.",
            "CF.ORG.FUNDING",
            True,
        ),
        # "without fail" is no sign of compliance
        (
            "We always did it that way without fail, even though the procedure said two workers.",
            "VIOL.ROUTINE",
            True,
        ),
    ],
)
def test_innocent_sense_vetoes_keep_the_concept(
    rules: RuleSet, text: str, code: str, fires: bool
) -> None:
    assert (code in {f.code for f in rules.apply(text)}) is fires


def test_builtin_rule_files_are_readable_data() -> None:
    base = Path(__file__).resolve().parents[1] / "src" / "humanfactors" / "rules" / "builtin"
    files = sorted(p.name for p in (base / "safeguarding").glob("*.toml"))
    assert files == [
        "anl.toml",
        "bias.toml",
        "cf.toml",
        "err.toml",
        "fam.toml",
        "grp.toml",
        "prot.toml",
        "viol.toml",
    ]
    for path in (base / "safeguarding").glob("*.toml"):
        rs = RuleSet.from_toml(path)
        assert all(r.description for r in rs)


@pytest.mark.slow
@pytest.mark.realdata
def test_asrs_rules_beat_base_rate_on_dev() -> None:
    import csv

    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "asrs" / "dev.csv"
    if not path.exists():
        pytest.skip(f"ASRS data not found at {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))[:600]
    rs = RuleSet.default("asrs")
    tax = rs.taxonomy
    hits = Counter()
    fired = Counter()
    support = Counter()
    for row in rows:
        gold = {tax.resolve(x) for x in row["human_factors"].split("; ") if x}
        pred = {f.code for f in rs.apply(row["narrative"] + "\n" + row["narrative_2"])}
        for c in pred:
            fired[c] += 1
            hits[c] += c in gold
        for c in gold:
            support[c] += 1
    for code in ("FATIGUE", "WORKLOAD", "SITUATIONAL_AWARENESS"):
        assert hits[code] / max(fired[code], 1) > support[code] / len(rows)
