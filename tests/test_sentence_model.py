"""Tests of humanfactors.sentence_model (SentenceEvidenceClassifier and its helpers)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone

from humanfactors.exceptions import InputError
from humanfactors.sentence_model import (
    SentenceEvidenceClassifier,
    redacted_evidence,
    sentence_spans,
)

LAPSE = ["I forgot to send the referral.", "The visit note slipped my mind.", "I forgot the call."]
LANG = ["No interpreter was booked.", "Mum speaks little English.", "No interpreter came."]
FILLER = ["We met at the office.", "The weather was cold.", "The meeting started late."]


def _corpus(n: int = 24) -> tuple[list[str], list[list[str]], list[list[tuple[str, int, int]]]]:
    texts, labels, evidence = [], [], []
    for i in range(n):
        filler = FILLER[i % 3]
        kind = i % 3
        if kind == 2:
            texts.append(filler)
            labels.append([])
            evidence.append([])
            continue
        sent = (LAPSE if kind == 0 else LANG)[(i // 3) % 3]
        code = "ERR.LAPSE" if kind == 0 else "FAM.LANGUAGE"
        text = f"{filler} {sent}"
        start = len(filler) + 1
        texts.append(text)
        labels.append([code])
        evidence.append([(code, start, len(text))])
    return texts, labels, evidence


@pytest.fixture(scope="module")
def fitted() -> SentenceEvidenceClassifier:
    texts, labels, evidence = _corpus()
    return SentenceEvidenceClassifier(cv=3).fit(texts, labels, evidence=evidence)


# -- helpers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two!", ["One.", "Two!"]),
        ("  Lead space?  Next\nline", ["Lead space?", "Next", "line"]),
        ("No end", ["No end"]),
        ("...", []),
        ("", []),
        ("Wait... what?", ["Wait...", "what?"]),
    ],
)
def test_sentence_spans(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text)] == expected


@given(st.text(alphabet="ab .!?\n", max_size=60))
def test_sentence_spans_are_exact_stripped_and_ordered(text: str) -> None:
    spans = sentence_spans(text)
    bounds = [*spans, (len(text), len(text))]
    for i, (s, e) in enumerate(spans):
        assert 0 <= s < e <= bounds[i + 1][0]
        assert text[s:e] == text[s:e].strip()


def _edit(start: int, end: int, replacement: str) -> SimpleNamespace:
    return SimpleNamespace(start=start, end=end, replacement=replacement)


def test_redacted_evidence_moves_offsets_onto_the_redacted_text() -> None:
    original = "Jane Smith forgot the visit. Call Bob Jones now."
    edits = [_edit(0, 10, "[PERSON_1]"), _edit(34, 43, "[P2]")]
    red = "[PERSON_1] forgot the visit. Call [P2] now."
    ev = [("ERR.LAPSE", 11, 28), ("X", 29, 47), ("Y", 5, 17)]
    assert original[11:28] == "forgot the visit." and original[29:47] == "Call Bob Jones now"
    out = redacted_evidence(ev, edits)
    assert red[out[0][1] : out[0][2]] == "forgot the visit."
    assert red[out[1][1] : out[1][2]] == "Call [P2] now"
    # a boundary inside a replaced name moves to the replacement's edge
    assert red[out[2][1] : out[2][2]] == "[PERSON_1] forgot"


def test_redacted_evidence_with_the_real_redactor() -> None:
    from humanfactors.redact import Redactor

    text = "Jane Smith visited 12 High Street. I forgot the referral for Jane Smith."
    red = Redactor().redact(text)
    start = text.index("I forgot")
    (_, s, e), = redacted_evidence([("ERR.LAPSE", start, len(text))], red.spans)
    assert red.text[s:e].startswith("I forgot the referral for ")
    assert e == len(red.text)


# -- the estimator -------------------------------------------------------------------------
def test_fit_predict_shapes_and_codes(fitted: SentenceEvidenceClassifier) -> None:
    assert list(fitted.classes_) == ["ERR.LAPSE", "FAM.LANGUAGE"]
    assert fitted.thresholds_.shape == (2,)
    new = ["It rained. I forgot to send the referral.", "No interpreter was booked.", "", "Hello."]
    proba = fitted.predict_proba(new)
    assert proba.shape == (4, 2)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert (proba[2] == 0).all()
    assert fitted.predict(new).shape == (4, 2)
    codes = fitted.predict_codes(new)
    assert codes[0] == ["ERR.LAPSE"] and codes[1] == ["FAM.LANGUAGE"] and codes[2] == []
    assert fitted.decision_function(new).shape == (4, 2)
    assert fitted.n_train_ == 24 and "macro_f1" in fitted.cv_scores_


def test_predict_codes_at_level(fitted: SentenceEvidenceClassifier) -> None:
    assert fitted.predict_codes(["I forgot to send the referral."], level=1) == [["ERR"]]
    with pytest.raises(InputError):
        fitted.predict_codes(["x"], level=0)


def test_explain_gives_the_triggering_sentence_with_exact_spans(
    fitted: SentenceEvidenceClassifier,
) -> None:
    text = "We met at the office.  Mum speaks little English. The weather was cold."
    items = fitted.explain(text, top=2)
    assert [i.code for i in items] == ["FAM.LANGUAGE"]
    best = items[0].terms[0]
    assert best.term == "Mum speaks little English."
    (s, e), = best.spans
    assert text[s:e] == best.term
    assert len(items[0].terms) == 2
    assert items[0].terms[0].weight >= items[0].terms[1].weight
    assert 0 <= items[0].probability <= 1


def test_explain_named_codes_and_errors(fitted: SentenceEvidenceClassifier) -> None:
    items = fitted.explain("The weather was cold.", codes=["ERR.LAPSE"])
    assert [i.code for i in items] == ["ERR.LAPSE"]
    with pytest.raises(InputError):
        fitted.explain("x", top=0)
    with pytest.raises(InputError):
        fitted.explain(["x"])  # type: ignore[arg-type]


def test_pipeline_reads_sentence_evidence(fitted: SentenceEvidenceClassifier) -> None:
    from humanfactors.pipeline import Analyser

    text = "We met at the office. I forgot to send the referral."
    spans = Analyser._explain(fitted.explain, text, ["ERR.LAPSE"])
    assert spans["ERR.LAPSE"][0][2] == "I forgot to send the referral."


def test_deterministic() -> None:
    texts, labels, evidence = _corpus()
    a = SentenceEvidenceClassifier(cv=3, blend=0.3).fit(texts, labels, evidence=evidence)
    b = SentenceEvidenceClassifier(cv=3, blend=0.3).fit(texts, labels, evidence=evidence)
    np.testing.assert_array_equal(a.thresholds_, b.thresholds_)
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))


def test_without_evidence_reports_are_whole_units() -> None:
    texts, labels, evidence = _corpus()
    mixed = [None if i % 2 else ev for i, ev in enumerate(evidence)]
    for ev in (None, mixed):
        m = SentenceEvidenceClassifier(cv=0, char_ngram_range=None).fit(
            texts, labels, evidence=ev
        )
        assert m.char_vectorizer_ is None
        assert m.predict_codes(["I forgot to send the referral."]) == [["ERR.LAPSE"]]
    assert m.thresholds_.tolist() == [0.5, 0.5]


@pytest.mark.parametrize("pooling", ["max", "top2"])
def test_options_fit(pooling: str) -> None:
    texts, labels, evidence = _corpus()
    m = SentenceEvidenceClassifier(
        cv=2, pooling=pooling, blend=0.4, char_ngram_range=(3, 4), rule_weight=0.2
    ).fit(texts, labels, evidence=evidence)
    assert m.report_coef_ is not None and m.report_coef_.shape[0] == 2
    assert m.predict_codes(["No interpreter was booked."]) == [["FAM.LANGUAGE"]]


@pytest.mark.parametrize(
    ("params", "fit_kw"),
    [
        ({"pooling": "mean"}, {}),
        ({"blend": 1.5}, {}),
        ({"C": 0}, {}),
        ({"word_ngram_range": (2, 1)}, {}),
        ({}, {"evidence": [[("ERR.LAPSE", 0, 999)]] + [[]] * 23}),
        ({}, {"evidence": [[]] * 3}),
        ({}, {"evidence": [[("ERR.LAPSE", "a", 3)]] + [[]] * 23}),
    ],
)
def test_bad_input_raises(params: dict[str, object], fit_kw: dict[str, object]) -> None:
    texts, labels, _ = _corpus()
    with pytest.raises(InputError):
        SentenceEvidenceClassifier(**params).fit(texts, labels, **fit_kw)  # type: ignore[arg-type]


def test_evidence_objects_and_aliases_accepted() -> None:
    texts, labels, evidence = _corpus()
    objs = [[SimpleNamespace(code=c, start=s, end=e) for c, s, e in ev] for ev in evidence]
    a = SentenceEvidenceClassifier(cv=0).fit(texts, labels, evidence=objs)
    b = SentenceEvidenceClassifier(cv=0).fit(texts, labels, evidence=evidence)
    np.testing.assert_array_equal(a.sentence_coef_, b.sentence_coef_)


def test_clone_and_params() -> None:
    m = SentenceEvidenceClassifier(C=2.0, blend=0.3, pooling="top2")
    c = clone(m)
    assert c.get_params() == m.get_params()
    assert not hasattr(c, "classes_")


def test_unfitted_raises() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SentenceEvidenceClassifier().predict(["x"])


def test_persistence_round_trip(fitted: SentenceEvidenceClassifier, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from humanfactors.persistence import load_model, read_header, save_model

    monkeypatch.setenv("HUMANFACTORS_CONFIG_DIR", str(tmp_path / "cfg"))
    path = tmp_path / "m.hfmodel"
    save_model(fitted, path)
    header = read_header(path)
    assert header["classes"] == ["ERR.LAPSE", "FAM.LANGUAGE"]
    assert header["model_class"] == "humanfactors.sentence_model.SentenceEvidenceClassifier"
    loaded = load_model(path)
    texts = ["I forgot to send the referral.", "No interpreter was booked."]
    np.testing.assert_array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.taxonomy_.name == fitted.taxonomy_.name
    assert loaded.explain(texts[0]) == fitted.explain(texts[0])


@pytest.mark.slow
def test_on_the_bundled_corpus() -> None:
    # Fit and prediction speed are measured by benchmarks/bench_sentence_model.py and
    # bench_default_model.py, not asserted here (a shared test machine's timing varies).
    from humanfactors.corpus import load_corpus

    train = load_corpus("train")
    test = load_corpus("test")
    m = SentenceEvidenceClassifier().fit(
        [r.narrative for r in train], [list(r.codes) for r in train],
        evidence=[r.evidence for r in train],
    )
    assert m.cv_scores_["macro_f1"] > 0.45
    many = [r.narrative for r in test] * 2
    P = m.predict(many)
    assert P.shape == (len(many), len(m.classes_))
    np.testing.assert_array_equal(P[: len(test)], P[len(test) :])
    for r in test[:20]:
        for item in m.explain(r.narrative):
            for term in item.terms:
                (s, e), = term.spans
                assert r.narrative[s:e] == term.term


def test_skops_round_trip_with_the_class_trusted(fitted: SentenceEvidenceClassifier) -> None:
    sio = pytest.importorskip("skops.io")
    blob = sio.dumps(fitted)
    assert sio.get_untrusted_types(data=blob) == [
        "humanfactors.sentence_model.SentenceEvidenceClassifier"
    ]
    loaded = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    texts = ["I forgot to send the referral.", "No interpreter was booked."]
    np.testing.assert_array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))


def test_batch_evidence_matches_explain() -> None:
    from humanfactors.sentence_model import SentenceEvidenceClassifier

    texts = [
        "I forgot the referral. The weather was fine.",
        "No interpreter was booked. Dad translated.",
    ] * 6
    codes = [["ERR.LAPSE"], ["FAM.LANGUAGE"]] * 6
    evidence = [[("ERR.LAPSE", 0, 22)], [("FAM.LANGUAGE", 0, 26)]] * 6
    clf = SentenceEvidenceClassifier(cv=3, blend=0.0, char_ngram_range=None)
    clf = clf.fit(texts, codes, evidence=evidence)
    new = ["The weather was fine. She forgot the referral.", "", "Dad translated for mum."]
    proba, best = clf.predict_proba_with_evidence(new)
    assert np.allclose(proba, clf.predict_proba(new))
    assert best[1] is None
    j = list(clf.classes_).index("ERR.LAPSE")
    start, end, _ = best[0][j]
    assert new[0][start:end] == "She forgot the referral."
    top = clf.explain(new[0], codes=["ERR.LAPSE"])[0].terms[0]
    assert top.spans[0] == (start, end)
