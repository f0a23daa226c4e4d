"""humanfactors.evaluate: figures agree with scikit-learn; cross-validation is honest."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.model_selection import KFold

from humanfactors.evaluate import (
    EvaluationReport,
    cross_val_proba,
    cross_validate,
    evaluate,
    evaluate_model,
    evaluate_predictions,
)
from humanfactors.exceptions import InputError, UnknownCodeError
from stand_ins import WordCoder

TEXTS = [
    "forgot to send the referral",
    "forgot the visit entirely",
    "too many cases and no time",
    "caseload too high no time to visit",
    "child not seen at the visit",
    "nobody saw the child alone",
    "forgot the referral and caseload too high",
    "child not seen and no time",
    "the manager challenged the plan",
    "a good challenge by the nurse",
]
LABELS = [
    ["ERR.LAPSE"],
    ["ERR.LAPSE"],
    ["CF.TASK.WORKLOAD"],
    ["CF.TASK.WORKLOAD"],
    ["FAM.CHILD_UNSEEN"],
    ["FAM.CHILD_UNSEEN"],
    ["ERR.LAPSE", "CF.TASK.WORKLOAD"],
    ["FAM.CHILD_UNSEEN", "CF.TASK.WORKLOAD"],
    ["PROT.CHALLENGE"],
    ["PROT.CHALLENGE"],
]


# -- evaluate agrees with scikit-learn ------------------------------------------------
matrices = st.integers(1, 30).flatmap(
    lambda n: st.integers(2, 6).flatmap(
        lambda k: st.tuples(
            st.lists(st.lists(st.integers(0, 1), min_size=k, max_size=k), min_size=n, max_size=n),
            st.lists(st.lists(st.integers(0, 1), min_size=k, max_size=k), min_size=n, max_size=n),
            st.lists(st.lists(st.floats(0, 1), min_size=k, max_size=k), min_size=n, max_size=n),
        )
    )
)


@given(matrices)
def test_figures_agree_with_sklearn_metrics(data: tuple[list[list[int]], ...]) -> None:
    yt, yp, ys = (np.array(m) for m in data)
    classes = [f"C{i}" for i in range(yt.shape[1])]
    r = evaluate(yt, yp, classes=classes, y_score=ys)
    kw = {"zero_division": 0}
    assert r.micro_f1 == pytest.approx(metrics.f1_score(yt, yp, average="micro", **kw))
    assert r.macro_f1 == pytest.approx(metrics.f1_score(yt, yp, average="macro", **kw))
    assert r.samples_f1 == pytest.approx(metrics.f1_score(yt, yp, average="samples", **kw))
    assert r.micro_precision == pytest.approx(
        metrics.precision_score(yt, yp, average="micro", **kw)
    )
    assert r.macro_recall == pytest.approx(metrics.recall_score(yt, yp, average="macro", **kw))
    assert r.exact_match == pytest.approx(metrics.accuracy_score(yt, yp))
    assert r.hamming_loss == pytest.approx(metrics.hamming_loss(yt, yp))
    assert r.n == len(yt)
    per = metrics.precision_recall_fscore_support(yt, yp, average=None, **kw)
    for j, code in enumerate(classes):
        s = r.per_label[code]
        assert (s.precision, s.recall, s.f1, s.support) == pytest.approx(
            (per[0][j], per[1][j], per[2][j], per[3][j])
        )
    has_true = yt.sum(axis=1) > 0
    if has_true.any():
        top = ys.argmax(axis=1)
        expected = np.mean([yt[i, top[i]] == 1 for i in range(len(yt)) if has_true[i]])
        assert r.p_at_1 == pytest.approx(expected)


def test_a_single_code_is_scored_as_multi_label_not_binary() -> None:
    r = evaluate([["A"], [], ["A"], []], [["A"], ["A"], [], []], classes=["A"])
    # one true positive, one false positive, one false negative; negatives do not count
    assert (r.micro_precision, r.micro_recall, r.micro_f1) == pytest.approx((0.5, 0.5, 0.5))
    assert r.macro_f1 == pytest.approx(0.5)
    assert r.exact_match == pytest.approx(0.5) and r.hamming_loss == pytest.approx(0.5)
    assert list(r.per_label) == ["A"]


def test_code_lists_and_matrices_give_the_same_report() -> None:
    classes = ["A", "B", "C"]
    lists_true, lists_pred = [["A"], ["B", "C"], []], [["A", "B"], ["C"], []]
    mat_true = np.array([[1, 0, 0], [0, 1, 1], [0, 0, 0]])
    mat_pred = np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert evaluate(lists_true, lists_pred, classes=classes) == evaluate(
        mat_true, mat_pred, classes=classes
    )


def test_precision_at_one_by_hand() -> None:
    scores = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]
    r = evaluate([["A"], ["A"], ["B"], []], [["A"], [], [], []], classes=["A", "B"], y_score=scores)
    assert r.p_at_1 == pytest.approx(1 / 3)  # the report without true codes is not counted
    assert evaluate([["A"]], [["A"]], classes=["A", "B"]).p_at_1 is None


def test_true_codes_missing_from_classes_count_as_missed() -> None:
    r = evaluate([["A", "Z"]], [["A"]], classes=["A"])
    assert list(r.per_label) == ["A", "Z"]
    assert r.per_label["Z"].recall == 0.0 and r.per_label["Z"].support == 1
    assert r.micro_recall == pytest.approx(0.5)


@pytest.mark.parametrize(
    "y_true, y_pred, kwargs, message",
    [
        ([["A"]], [["A"], ["A"]], {}, "1 reports but y_pred has 2"),
        (np.array([[1, 0]]), np.array([[1]]), {}, "expected an indicator matrix with 2"),
        (np.array([[2, 0]]), np.array([[1, 0]]), {}, "only 0 and 1"),
        ([], [], {}, "no reports"),
        ([["A"]], [["A"]], {"y_score": [[0.1]]}, "y_score: expected shape"),
    ],
)
def test_bad_inputs_are_refused(
    y_true: Any, y_pred: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        evaluate(y_true, y_pred, classes=["A", "B"], **kwargs)


def test_report_serialises_and_prints() -> None:
    r = evaluate([["A"], ["B"]], [["A"], ["A"]], classes=["A", "B"], y_score=[[1, 0], [1, 0]])
    data = json.loads(r.to_json())
    assert {"micro_f1", "macro_f1", "p_at_1", "n", "per_label"} <= set(data)
    assert data["per_label"]["B"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert EvaluationReport.from_dict(data) == r
    table = r.table()
    assert str(r) == table
    assert "micro   F1  0.500" in table and "\n  B " in table
    assert repr(r).startswith("EvaluationReport(method='held-out', n=2, micro_f1=0.500")


def test_evaluate_predictions_is_the_same_function() -> None:
    import humanfactors

    assert humanfactors.evaluate_predictions is evaluate_predictions is evaluate


# -- held-out and cross-validated ------------------------------------------------------
def test_evaluate_model_resolves_aliases_through_the_model_taxonomy() -> None:
    model = WordCoder(taxonomy="safeguarding").fit(TEXTS, LABELS)
    aliased = [[c.lower() for c in codes] for codes in LABELS]
    assert evaluate_model(model, TEXTS, aliased) == evaluate_model(model, TEXTS, LABELS)
    with pytest.raises(UnknownCodeError):
        evaluate_model(model, TEXTS[:1], [["NOT.A.CODE"]])


def test_cross_validate_pools_out_of_fold_predictions_and_clones() -> None:
    est = WordCoder(threshold=0.4)
    r = cross_validate(est, TEXTS, LABELS, cv=5, random_state=0)
    assert not hasattr(est, "classes_")  # the given estimator is never fitted
    assert r.n == len(TEXTS) and r.method == "5-fold CV"
    assert sum(s.support for s in r.per_label.values()) == sum(len(c) for c in LABELS)
    # by hand: fit on the other folds, predict each held-out fold, score the pool
    folds = KFold(5, shuffle=True, random_state=0).split(TEXTS)
    classes = sorted({c for codes in LABELS for c in codes})
    pred = np.zeros((len(TEXTS), len(classes)), dtype=int)
    for train, test in folds:
        m = WordCoder(threshold=0.4).fit([TEXTS[i] for i in train], [LABELS[i] for i in train])
        p = m.predict([TEXTS[i] for i in test])
        for col, code in enumerate(m.classes_):
            pred[test, classes.index(code)] = p[:, col]
    assert r == evaluate(LABELS, pred, classes=classes, y_score=r_scores(est), method="5-fold CV")


def r_scores(est: WordCoder) -> np.ndarray:
    return cross_val_proba(est, TEXTS, LABELS, cv=5, random_state=0).proba


def test_cross_val_proba_is_out_of_fold_and_deterministic() -> None:
    a = cross_val_proba(WordCoder(), TEXTS, LABELS, cv=5, random_state=1)
    b = cross_val_proba(WordCoder(), TEXTS, LABELS, cv=5, random_state=1)
    assert a.classes == tuple(sorted({c for codes in LABELS for c in codes}))
    assert a.proba.shape == (len(TEXTS), len(a.classes))
    np.testing.assert_array_equal(a.proba, b.proba)
    assert sorted(np.bincount(a.fold).tolist()) == [2, 2, 2, 2, 2]
    # a fitted-on-everything model sees each text in training: scores differ from out-of-fold
    full = WordCoder().fit(TEXTS, LABELS).predict_proba(TEXTS)
    assert not np.allclose(full, a.proba)


def test_cross_validate_in_parallel_matches_serial_and_reports_progress() -> None:
    seen: list[tuple[int, int]] = []
    serial = cross_validate(
        WordCoder(), TEXTS, LABELS, cv=3, progress=lambda d, t: seen.append((d, t))
    )
    parallel = cross_validate(WordCoder(), TEXTS, LABELS, cv=3, n_jobs=2)
    assert serial == parallel
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_cross_validate_accepts_a_splitter() -> None:
    r = cross_validate(WordCoder(), TEXTS, LABELS, cv=KFold(2))
    assert r.method == "2-fold CV" and r.n == len(TEXTS)


@pytest.mark.parametrize("cv", [1, 11, "five", True])
def test_cross_validate_refuses_bad_cv(cv: Any) -> None:
    with pytest.raises(InputError, match="cv must be"):
        cross_validate(WordCoder(), TEXTS, LABELS, cv=cv)


def test_precision_at_one_is_undefined_when_no_report_has_a_true_code() -> None:
    r = evaluate([[], []], [[], ["A"]], classes=["A", "B"], y_score=[[0.9, 0.1], [0.2, 0.8]])
    assert r.p_at_1 is None
    assert "precision-at-1    n/a" in r.table()


@pytest.mark.parametrize(
    "y_true, message",
    [
        (["A", "B"], "each item must be a collection of codes .* item 0 is of type str"),
        ([["A"], "B"], "each item must be a collection of codes .* item 1 is of type str"),
        ([["A"], 3], "each item must be a collection of codes .* item 1 is of type int"),
        ([["A"], ["A", 1]], "item 1 holds something other than codes"),
        ("A", "expected a list with a collection of codes per report"),
        (None, "expected a list with a collection of codes per report"),
    ],
)
def test_a_list_that_is_not_one_of_code_collections_names_the_first_bad_item(
    y_true: Any, message: str
) -> None:
    with pytest.raises(InputError, match=f"^y_true: {message}"):
        evaluate(y_true, [["A"], ["B"]], classes=["A", "B"])
