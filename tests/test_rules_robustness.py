"""Rules, weak supervision and the sentence model on awkward calls: codes given as one
string or as aliases, a taxonomy from a file, evidence items that name their report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanfactors import RuleSet
from humanfactors.corpus import load_corpus
from humanfactors.exceptions import InputError
from humanfactors.sentence_model import SentenceEvidenceClassifier
from humanfactors.weak import LabelModel, train_from_rules

SRC = Path(__file__).resolve().parents[1] / "src" / "humanfactors" / "taxonomies"
TEXT = "I forgot to send the CP plan because duty was extremely busy."


def test_apply_takes_one_code_as_a_string() -> None:
    rs = RuleSet.default()
    assert [f.code for f in rs.apply(TEXT, codes="ERR.LAPSE")] == ["ERR.LAPSE"]
    assert rs.apply(TEXT, codes="ERR.LAPSE") == rs.apply(TEXT, codes=["ERR.LAPSE"])


def test_coverage_labels_resolve_aliases_and_refuse_strings() -> None:
    rs = RuleSet.default()
    texts = ["I forgot to send the referral.", "I was distracted by a call."]
    by_alias = rs.analyse_coverage(texts, [["lapse"], ["distraction"]])
    by_code = rs.analyse_coverage(texts, [["ERR.LAPSE"], ["CF.IND.DISTRACTION"]])
    fired = [r for r in by_alias.rules if r.fired]
    assert fired and all(r.accuracy == 1.0 for r in fired)
    assert by_alias.to_dict() == by_code.to_dict()
    with pytest.raises(InputError, match="row 0 is a string"):
        rs.analyse_coverage(texts, ["ERR.LAPSE", "CF.IND.DISTRACTION"])
    with pytest.raises(InputError, match="row 1"):
        rs.analyse_coverage(texts, [["ERR.LAPSE"], ["NOPE"]])


@pytest.fixture(scope="module")
def corpus_texts() -> list[str]:
    return [r.narrative for r in load_corpus("train")[:120]]


def test_label_model_reads_aliases_in_y_as_their_codes(corpus_texts: list[str]) -> None:
    i = next(k for k, t in enumerate(corpus_texts) if "forgot" in t)
    y: list[list[str] | None] = [None] * len(corpus_texts)
    y[i] = ["lapse"]
    by_alias = LabelModel(rules="safeguarding").fit(corpus_texts, y=y)
    y[i] = ["ERR.LAPSE"]
    by_code = LabelModel(rules="safeguarding").fit(corpus_texts, y=y)
    j = list(by_code.classes_).index("ERR.LAPSE")
    p_alias = by_alias.predict_proba([corpus_texts[i]])[0, j]
    assert p_alias == pytest.approx(by_code.predict_proba([corpus_texts[i]])[0, j])
    y[i] = ["NOPE"]
    with pytest.raises(InputError, match=f"row {i}"):
        LabelModel(rules="safeguarding").fit(corpus_texts, y=y)


@pytest.mark.parametrize(
    "prevalence, message",
    [({"ERR.LAPS": 0.1}, "no rule votes for"), ({"ERR.LAPSE": "abc"}, "must be a number")],
)
def test_label_model_refuses_a_bad_prevalence(
    corpus_texts: list[str], prevalence: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        LabelModel(rules="safeguarding", prevalence=prevalence).fit(corpus_texts[:30])


def test_training_from_rules_keeps_a_taxonomy_read_from_a_file(tmp_path: Path) -> None:
    text = (SRC / "asrs.toml").read_text(encoding="utf-8")
    path = tmp_path / "myair.toml"
    path.write_text(text.replace('name = "asrs"', 'name = "myair"', 1), encoding="utf-8")
    rules = RuleSet(list(RuleSet.default("asrs")), taxonomy=path)
    texts = ["The crew was distracted by a call and had a heavy workload."] * 5
    texts += ["Nice day, nothing happened at all."] * 5
    out = train_from_rules(texts, rules=rules)
    model = out[0] if isinstance(out, tuple) else out
    assert model.taxonomy_.name == "myair"


def _sentence_data() -> tuple[list[str], list[list[str]], list[list[tuple[str, int, int]]]]:
    reports = load_corpus("train")[:40]
    return (
        [r.narrative for r in reports],
        [list(r.codes) for r in reports],
        [[(e.code, e.start, e.end) for e in r.evidence] for r in reports],
    )


def test_sentence_model_evidence_errors_name_report_and_item() -> None:
    texts, labels, evidence = _sentence_data()
    short = list(evidence)
    short[7] = [("ERR.LAPSE", 5)]  # type: ignore[list-item]
    with pytest.raises(InputError, match="evidence item 0 of report 7"):
        SentenceEvidenceClassifier(random_state=0).fit(texts, labels, evidence=short)
    unknown = list(evidence)
    unknown[7] = [("NOPE", 5, 10)]
    with pytest.raises(InputError, match="evidence item 0 of report 7: unknown code"):
        SentenceEvidenceClassifier(random_state=0).fit(texts, labels, evidence=unknown)


def test_sentence_model_takes_numpy_integer_offsets() -> None:
    texts, labels, evidence = _sentence_data()
    as_numpy = [[(c, np.int64(a), np.int64(b)) for c, a, b in ev] for ev in evidence]
    plain = SentenceEvidenceClassifier(random_state=0).fit(texts, labels, evidence=evidence)
    numpy = SentenceEvidenceClassifier(random_state=0).fit(texts, labels, evidence=as_numpy)
    assert np.allclose(plain.predict_proba(texts[:5]), numpy.predict_proba(texts[:5]))
