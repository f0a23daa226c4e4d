"""Tests of humanfactors.classifier: the estimator contract and text behaviour."""

from __future__ import annotations

import csv
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks as ec

from humanfactors.classifier import CodeExplanation, HumanFactorsClassifier
from humanfactors.exceptions import InputError, ModelError, UnknownCodeError

ASRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "asrs"

_PHRASES = {
    "ERR.LAPSE": [
        "forgot to send the referral",
        "the visit was missed",
        "forgot to record the call",
    ],
    "FAM.LANGUAGE": [
        "no interpreter was booked",
        "mother speaks little english",
        "translation was not arranged",
    ],
    "CF.TASK.WORKLOAD": [
        "caseload was far too high",
        "the team was overloaded",
        "no time for the visit",
    ],
    "GRP.AUTHORITY_GRADIENT": [
        "did not challenge the consultant",
        "felt unable to question the senior",
    ],
}
_FILLER = [
    "the social worker",
    "on monday",
    "the family",
    "at the school",
    "in the office",
    "later that week",
]


def _corpus(n: int = 60, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    rng = np.random.default_rng(seed)
    codes = list(_PHRASES)
    texts, labels = [], []
    for _ in range(n):
        k = int(rng.integers(1, 3))
        chosen = sorted({codes[int(i)] for i in rng.choice(len(codes), size=k, replace=False)})
        parts = [str(rng.choice(_PHRASES[c])) for c in chosen] + [str(rng.choice(_FILLER))]
        rng.shuffle(parts)
        texts.append(" and ".join(parts) + ".")
        labels.append(chosen)
    return texts, labels


TEXTS, LABELS = _corpus()


@pytest.fixture(scope="module")
def fitted() -> HumanFactorsClassifier:
    return HumanFactorsClassifier(cv=3).fit(TEXTS, LABELS)


# -- scikit-learn data-free checks, run by name --------------------------------------------
@pytest.mark.parametrize(
    "check",
    [
        ec.check_parameters_default_constructible,
        ec.check_no_attributes_set_in_init,
        ec.check_get_params_invariance,
        ec.check_set_params,
        ec.check_estimators_unfitted,
        ec.check_estimator_repr,
        ec.check_estimator_cloneable,
        ec.check_do_not_raise_errors_in_init_or_set_params,
    ],
    ids=lambda c: c.__name__,
)
def test_sklearn_data_free_checks(check):
    check("HumanFactorsClassifier", HumanFactorsClassifier())


def test_tags_declare_string_multilabel_input():
    tags = HumanFactorsClassifier().__sklearn_tags__()
    assert tags.input_tags.string and not tags.input_tags.two_d_array
    assert tags.classifier_tags.multi_label
    assert tags.estimator_type == "classifier"


def test_init_only_stores():
    clf = HumanFactorsClassifier(taxonomy="nope", C=-1)
    assert clf.get_params()["taxonomy"] == "nope"
    assert clf.get_params()["C"] == -1


# -- fitting and prediction ----------------------------------------------------------------
def test_fit_learns_codes_in_taxonomy_order(fitted):
    assert fitted.classes_.tolist() == [
        "ERR.LAPSE",
        "GRP.AUTHORITY_GRADIENT",
        "FAM.LANGUAGE",
        "CF.TASK.WORKLOAD",
    ]
    assert fitted.taxonomy_.name == "safeguarding"
    assert fitted.n_train_ == len(TEXTS)
    assert len(fitted.training_sha256_) == 64


def test_predict_shapes_and_types(fitted):
    texts = ["forgot to send the referral", "no interpreter was booked", "nothing relevant here"]
    P = fitted.predict_proba(texts)
    Y = fitted.predict(texts)
    D = fitted.decision_function(texts)
    assert P.shape == Y.shape == D.shape == (3, len(fitted.classes_))
    assert Y.dtype.kind == "i" and set(np.unique(Y)) <= {0, 1}
    assert ((P >= 0) & (P <= 1)).all()
    np.testing.assert_array_equal(Y, (fitted.thresholds_ <= P).astype(int))


@pytest.mark.parametrize(
    "text, code",
    [
        ("she forgot to send the referral", "ERR.LAPSE"),
        ("no interpreter was booked for the mother", "FAM.LANGUAGE"),
        ("the caseload was far too high", "CF.TASK.WORKLOAD"),
    ],
)
def test_predict_codes_finds_the_obvious_code(fitted, text, code):
    assert fitted.predict_codes([text])[0][0] == code


def test_predict_codes_at_level_one_gives_parents(fitted):
    codes = fitted.predict_codes(
        ["she forgot to send the referral and the caseload was far too high"], level=1
    )[0]
    assert set(codes) == {"ERR", "CF"}


def test_proba_at_level_is_noisy_or(fitted):
    texts = ["forgot the referral and no interpreter"]
    codes, P = fitted.proba_at_level(texts, 1)
    leaf = fitted.predict_proba(texts)[0]
    idx = {c: j for j, c in enumerate(fitted.classes_)}
    assert P[0, codes.index("ERR")] == pytest.approx(leaf[idx["ERR.LAPSE"]])
    fam = [c for c in fitted.classes_ if c.startswith("FAM")]
    expected = 1 - np.prod([1 - leaf[idx[c]] for c in fam])
    assert P[0, codes.index("FAM")] == pytest.approx(expected)


def test_aliases_resolve_and_unknown_codes_suggest():
    clf = HumanFactorsClassifier(taxonomy="asrs", cv=0)
    clf.fit(
        ["lost track of position", "too tired"] * 3, [["Situational Awareness"], ["Fatigue"]] * 3
    )
    assert clf.classes_.tolist() == ["SITUATIONAL_AWARENESS", "FATIGUE"]
    with pytest.raises(UnknownCodeError, match="did you mean"):
        clf.fit(["x y", "y z"], [["Fatigu"], []])


def test_taxonomy_none_takes_labels_as_they_are():
    clf = HumanFactorsClassifier(taxonomy=None, cv=0).fit(
        ["red apple", "green pear"] * 3, [["fruit/red"], ["fruit/green"]] * 3
    )
    assert clf.classes_.tolist() == ["fruit/green", "fruit/red"]
    assert clf.taxonomy_ is None
    with pytest.raises(InputError, match="level"):
        clf.predict_codes(["red"], level=1)


def test_indicator_y_needs_classes():
    Y = np.array([[1, 0], [0, 1]] * 3)
    texts = ["forgot it", "no interpreter"] * 3
    with pytest.raises(InputError, match="classes="):
        HumanFactorsClassifier(cv=0).fit(texts, Y)
    clf = HumanFactorsClassifier(cv=0).fit(texts, Y, classes=["ERR.LAPSE", "FAM.LANGUAGE"])
    assert clf.predict_codes(["forgot it"]) == [["ERR.LAPSE"]]


@pytest.mark.parametrize(
    "X, y, match",
    [
        ("one text", [["ERR.LAPSE"]], "single str"),
        (["a b", "c d"], [["ERR.LAPSE"]], "2 texts but y has 1"),
        (["a b"], ["ERR.LAPSE"], "is a string"),
        (["a b", 3], [["ERR.LAPSE"], []], r"X\[1\] is int"),
        (["a b", "c d"], [[], []], "no codes"),
    ],
)
def test_bad_input_is_refused_clearly(X, y, match):
    with pytest.raises(InputError, match=match):
        HumanFactorsClassifier(cv=0).fit(X, y)


@pytest.mark.parametrize(
    "param, value",
    [
        ("C", 0),
        ("cv", -1),
        ("class_weight", "auto"),
        ("word_ngram_range", (2, 1)),
        ("default_threshold", 1.5),
    ],
)
def test_bad_parameters_name_the_parameter(param, value):
    with pytest.raises(InputError, match=param):
        HumanFactorsClassifier(**{param: value}).fit(TEXTS, LABELS)


def test_unfitted_raises_not_fitted():
    with pytest.raises(NotFittedError):
        HumanFactorsClassifier().predict(["x"])


def test_refit_is_idempotent_and_deterministic():
    a = HumanFactorsClassifier(cv=3, random_state=7)
    p1 = a.fit(TEXTS, LABELS).predict_proba(TEXTS[:10])
    p2 = a.fit(TEXTS, LABELS).predict_proba(TEXTS[:10])
    p3 = HumanFactorsClassifier(cv=3, random_state=7).fit(TEXTS, LABELS).predict_proba(TEXTS[:10])
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(p1, p3)


def test_refit_on_other_labels_forgets_old_state(fitted):
    clf = clone(fitted).fit(TEXTS, LABELS)
    clf.fit(["red apple", "green pear"] * 3, [["ERR.SLIP"], ["ERR.LAPSE"]] * 3)
    assert clf.classes_.tolist() == ["ERR.SLIP", "ERR.LAPSE"]
    assert clf.coef_.shape[0] == 2


def test_clone_is_unfitted(fitted):
    c = clone(fitted)
    assert not hasattr(c, "classes_")
    assert c.get_params() == fitted.get_params()


def test_works_in_pipeline():
    pipe = Pipeline(
        [
            ("lower", FunctionTransformer(lambda xs: [x.lower() for x in xs])),
            ("clf", HumanFactorsClassifier(cv=3)),
        ]
    )
    pipe.fit(TEXTS, LABELS)
    assert pipe.predict(["FORGOT TO SEND THE REFERRAL"]).shape == (1, 4)


def test_works_in_grid_search():
    grid = GridSearchCV(HumanFactorsClassifier(cv=2), {"C": [0.5, 4.0]}, cv=KFold(3))
    grid.fit(TEXTS, LABELS)
    assert grid.best_params_["C"] in (0.5, 4.0)
    assert 0.0 <= grid.best_score_ <= 1.0


def test_grid_search_default_cv_with_indicator_y():
    classes = ["ERR.LAPSE", "GRP.AUTHORITY_GRADIENT", "FAM.LANGUAGE", "CF.TASK.WORKLOAD"]
    Y = np.array([[int(c in codes) for c in classes] for codes in LABELS])
    grid = GridSearchCV(HumanFactorsClassifier(cv=2), {"C": [1.0]}, cv=3)
    grid.fit(TEXTS, Y, classes=classes)
    assert grid.best_score_ > 0.5


def test_score_is_micro_f1(fitted):
    from sklearn.metrics import f1_score

    Y = fitted._indicator(LABELS)
    assert fitted.score(TEXTS, LABELS) == pytest.approx(
        f1_score(Y, fitted.predict(TEXTS), average="micro")
    )
    assert fitted.score(TEXTS, LABELS) > 0.8


def test_pickle_round_trip_gives_identical_probabilities(fitted):
    copy = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(copy.predict_proba(TEXTS), fitted.predict_proba(TEXTS))
    assert copy.taxonomy_ == fitted.taxonomy_


# -- edge cases ---------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_text_has_no_codes(fitted, text):
    assert fitted.predict_codes([text]) == [[]]
    assert fitted.predict([text]).sum() == 0
    assert fitted.predict_proba([text]).sum() == 0.0


def test_empty_batch(fitted):
    assert fitted.predict([]).shape == (0, len(fitted.classes_))
    assert fitted.predict_codes([]) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=4))
def test_predict_never_fails_on_arbitrary_unicode(texts):
    clf = _FITTED
    P = clf.predict_proba(texts)
    assert P.shape == (len(texts), len(clf.classes_)) and np.isfinite(P).all()
    assert len(clf.predict_codes(texts)) == len(texts)
    for t in texts:
        for item in clf.explain(t):
            for term in item.terms:
                for ev in term.evidence:
                    assert t[ev.start : ev.end] == ev.text


_FITTED = HumanFactorsClassifier(cv=0).fit(TEXTS, LABELS)


def test_tiny_corpus_with_rare_labels_fits():
    texts = ["forgot the visit", "no interpreter", "caseload too high", "forgot the call", "x"]
    labels = [["ERR.LAPSE"], ["FAM.LANGUAGE"], ["CF.TASK.WORKLOAD"], ["ERR.LAPSE"], []]
    clf = HumanFactorsClassifier().fit(texts, labels)
    assert clf.thresholds_.tolist() == [0.5, 0.5, 0.5]  # too few positives to tune
    assert clf.predict(texts).shape == (5, 3)


def test_classes_parameter_adds_codes_never_seen():
    clf = HumanFactorsClassifier(cv=2).fit(TEXTS, LABELS, classes=["ERR.SLIP"])
    assert "ERR.SLIP" in clf.classes_
    j = clf.classes_.tolist().index("ERR.SLIP")
    assert clf.predict(TEXTS)[:, j].sum() == 0


# -- explanations ------------------------------------------------------------------------
def test_explain_gives_exact_spans(fitted):
    text = "On Monday she FORGOT to send the referral; she forgot again."
    out = fitted.explain(text, top=3)
    assert out and isinstance(out[0], CodeExplanation)
    assert out[0].code == "ERR.LAPSE"
    assert 1 <= len(out[0].terms) <= 3
    weights = [t.weight for t in out[0].terms]
    assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
    terms = {t.term: t for t in out[0].terms}
    assert "forgot" in terms
    assert [text[s:e] for s, e in terms["forgot"].spans] == ["FORGOT", "forgot"]


def test_explain_named_code_and_unknown_code(fitted):
    out = fitted.explain("nothing", codes=["FAM.LANGUAGE"])
    assert [e.code for e in out] == ["FAM.LANGUAGE"]
    with pytest.raises(InputError, match="not one this model learned"):
        fitted.explain("x", codes=["ERR.SLIP"])


def test_explain_text_never_appears_in_errors(fitted):
    with pytest.raises(InputError) as info:
        fitted.explain("secret narrative", top=0)
    assert "secret" not in str(info.value)


# -- out-of-core ---------------------------------------------------------------------------
def test_out_of_core_fit_batches_learns():
    clf = HumanFactorsClassifier(out_of_core=True, random_state=0)
    batches = [(TEXTS[i : i + 10], LABELS[i : i + 10]) for i in range(0, len(TEXTS), 10)] * 4
    clf.fit_batches(batches, classes=list(_PHRASES))
    assert set(clf.classes_) == set(_PHRASES)
    assert clf.predict_codes(["forgot to send the referral"])[0][:1] == ["ERR.LAPSE"]
    assert clf.score(TEXTS, LABELS) > 0.7
    assert clf.explain("she forgot to send the referral")[0].terms


def test_out_of_core_fit_matches_fit_batches():
    a = HumanFactorsClassifier(out_of_core=True, batch_size=10).fit(TEXTS, LABELS)
    b = HumanFactorsClassifier(out_of_core=True, batch_size=10)
    b.fit_batches(
        [(TEXTS[i : i + 10], LABELS[i : i + 10]) for i in range(0, len(TEXTS), 10)],
        classes=a.classes_.tolist(),
    )
    np.testing.assert_allclose(a.predict_proba(TEXTS), b.predict_proba(TEXTS))


def test_partial_fit_needs_out_of_core():
    with pytest.raises(InputError, match="out_of_core=True"):
        HumanFactorsClassifier().partial_fit(TEXTS, LABELS)


# -- rules --------------------------------------------------------------------------------
def test_use_rules_needs_taxonomy():
    with pytest.raises(InputError, match="use_rules"):
        HumanFactorsClassifier(taxonomy=None, use_rules=True).fit(TEXTS, LABELS)


def test_use_rules_appends_rule_features():
    try:
        from humanfactors.rules import RuleSet  # noqa: F401
    except ImportError:
        with pytest.raises(ModelError, match=r"humanfactors\.rules"):
            HumanFactorsClassifier(use_rules=True, cv=0).fit(TEXTS, LABELS)
        return
    plain = HumanFactorsClassifier(cv=0).fit(TEXTS, LABELS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ruled = HumanFactorsClassifier(use_rules=True, cv=0).fit(TEXTS, LABELS)
    assert ruled.coef_.shape[1] == plain.coef_.shape[1] + len(ruled.rule_codes_)
    assert ruled.predict(TEXTS[:3]).shape == (3, len(ruled.classes_))


# -- real data ----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.realdata
def test_asrs_cross_validated_fold_beats_the_bare_pipeline_floor():
    if not (ASRS / "dev.csv").is_file():
        pytest.skip(f"real ASRS data not found at {ASRS}")
    with (ASRS / "dev.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts = [r["narrative"] + " " + r["narrative_2"] for r in rows]
    labels = [r["human_factors"].split("; ") for r in rows]
    train, test = next(KFold(5, shuffle=True, random_state=0).split(texts))
    clf = HumanFactorsClassifier(taxonomy="asrs").fit(
        [texts[i] for i in train], [labels[i] for i in train]
    )
    assert clf.score([texts[i] for i in test], [labels[i] for i in test]) > 0.53


def test_parallel_fit_gives_the_same_model():
    serial = HumanFactorsClassifier(cv=3).fit(TEXTS, LABELS)
    parallel = HumanFactorsClassifier(cv=3, n_jobs=2).fit(TEXTS, LABELS)
    np.testing.assert_array_equal(serial.predict_proba(TEXTS), parallel.predict_proba(TEXTS))


def test_character_ngrams_add_features_and_keep_explanations():
    clf = HumanFactorsClassifier(cv=0, char_ngram_range=(3, 4)).fit(TEXTS, LABELS)
    words = HumanFactorsClassifier(cv=0).fit(TEXTS, LABELS)
    assert clf.coef_.shape[1] > words.coef_.shape[1]
    text = "she forgot to send the referral"
    assert clf.predict_codes([text])[0][0] == "ERR.LAPSE"
    assert all(text[s:e] == t.term for t in clf.explain(text)[0].terms for s, e in t.spans)
